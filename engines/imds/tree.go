package imds

import (
	"encoding/json"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/desired"
)

// credsRefresh is how long before expiry cached credentials are replaced:
// more than the 15 minutes under which SDKs start refreshing, so they never
// read credentials about to lapse.
const credsRefresh = 20 * time.Minute

// roleCreds are credentials as served, with the time IMDS got them.
type roleCreds struct {
	Credentials
	updated time.Time
}

// tree builds the metadata tree of inst, rooted at "/".
func (s *Server) tree(inst *desired.Instance, w *desired.World) *node {
	latest := map[string]*node{
		"meta-data": {children: s.metaData(inst, w), label: "meta-data"},
		"dynamic": {label: "dynamic", children: map[string]*node{
			"instance-identity": dir(map[string]*node{
				"document": {get: func() (string, error) { return identityDocument(inst, w) }},
			}),
		}},
	}
	if len(inst.UserData) > 0 {
		latest["user-data"] = leaf(string(inst.UserData))
	}
	root := dir(make(map[string]*node, len(versions)))
	for _, v := range versions {
		root.children[v] = &node{children: latest, label: v}
	}
	return root
}

// metaData is the /latest/meta-data/ directory.
func (s *Server) metaData(inst *desired.Instance, w *desired.World) map[string]*node {
	md := map[string]*node{
		"ami-id":            leaf(inst.ImageID),
		"ami-launch-index":  leaf(strconv.Itoa(inst.LaunchIndex)),
		"ami-manifest-path": leaf("(unknown)"),
		"block-device-mapping": dir(map[string]*node{
			"ami":  leaf("/dev/xvda"),
			"root": leaf("/dev/xvda"),
		}),
		"hostname":            leaf(inst.PrivateDNSName),
		"instance-action":     leaf("none"),
		"instance-id":         leaf(inst.ID),
		"instance-life-cycle": leaf("on-demand"),
		"instance-type":       leaf(inst.InstanceType),
		"local-hostname":      leaf(inst.PrivateDNSName),
		"placement": dir(map[string]*node{
			"availability-zone": leaf(inst.AZ),
			"region":            leaf(inst.Region),
		}),
		"profile":        leaf("default-hvm"),
		"reservation-id": leaf(inst.ReservationID),
		"services": dir(map[string]*node{
			"domain":    leaf(domain(inst.Region)),
			"partition": leaf(arn.Partition(inst.Region)),
		}),
	}
	macs := map[string]*node{}
	for _, id := range inst.ENIs {
		eni, vpc := w.FindENI(id)
		if eni == nil {
			continue
		}
		mac := eni.MAC.String()
		macs[mac] = dir(s.iface(inst, eni, vpc))
		if eni.DeviceIndex != 0 || len(eni.PrivateIPs) == 0 {
			continue
		}
		ip := eni.PrivateIPs[0]
		md["mac"] = leaf(mac)
		md["local-ipv4"] = leaf(ip.String())
		// Security group names are not in the world model: ids stand in.
		md["security-groups"] = leaf(strings.Join(eni.Groups, "\n"))
		if pub, ok := eni.PublicIPs[ip]; ok {
			md["public-ipv4"] = leaf(pub.String())
			if inst.PublicDNSName != "" {
				md["public-hostname"] = leaf(inst.PublicDNSName)
			}
		}
	}
	if len(macs) > 0 {
		md["network"] = dir(map[string]*node{"interfaces": dir(map[string]*node{"macs": dir(macs)})})
	}
	if inst.PublicKey != "" {
		md["public-keys"] = dir(map[string]*node{"0": {
			label:    "0=" + inst.KeyName,
			children: map[string]*node{"openssh-key": leaf(inst.PublicKey)},
		}})
	}
	if inst.InstanceProfileARN != "" {
		md["iam"] = s.iam(inst)
	}
	return md
}

// iam is the iam/ directory of an instance with a profile: its role's
// credentials and iam/info, or an empty security-credentials/ when the
// profile holds no role, as on AWS.
func (s *Server) iam(inst *desired.Instance) *node {
	p, ok, err := s.src.Profile(inst)
	if err != nil {
		return &node{get: func() (string, error) { return "", err }}
	}
	creds := map[string]*node{}
	iam := map[string]*node{"security-credentials": dir(creds)}
	if ok && p.Role != "" {
		iam["info"] = &node{get: func() (string, error) { return s.iamInfo(inst, p) }}
		creds[p.Role] = &node{get: func() (string, error) { return s.roleCredentials(inst, p) }}
	}
	return dir(iam)
}

// iface is the network/interfaces/macs/<mac>/ directory of one ENI.
func (s *Server) iface(inst *desired.Instance, eni *desired.ENI, vpc *desired.VPC) map[string]*node {
	m := map[string]*node{
		"device-number":      leaf(strconv.Itoa(eni.DeviceIndex)),
		"interface-id":       leaf(eni.ID),
		"local-ipv4s":        leaf(joinAddrs(eni.PrivateIPs)),
		"mac":                leaf(eni.MAC.String()),
		"owner-id":           leaf(inst.Account),
		"security-group-ids": leaf(strings.Join(eni.Groups, "\n")),
		"security-groups":    leaf(strings.Join(eni.Groups, "\n")),
		"subnet-id":          leaf(eni.Subnet),
		"vpc-id":             leaf(vpc.ID),
	}
	if len(eni.PrivateIPs) > 0 {
		m["local-hostname"] = leaf(privateName(inst, eni.PrivateIPs[0]))
	}
	for _, sn := range vpc.Subnets {
		if sn.ID == eni.Subnet {
			m["subnet-ipv4-cidr-block"] = leaf(sn.CIDR.String())
		}
	}
	if len(vpc.CIDRs) > 0 {
		m["vpc-ipv4-cidr-block"] = leaf(vpc.CIDRs[0].String())
		cidrs := make([]string, len(vpc.CIDRs))
		for i, c := range vpc.CIDRs {
			cidrs[i] = c.String()
		}
		m["vpc-ipv4-cidr-blocks"] = leaf(strings.Join(cidrs, "\n"))
	}
	var pubs []netip.Addr
	assoc := map[string]*node{}
	for _, priv := range eni.PrivateIPs {
		if pub, ok := eni.PublicIPs[priv]; ok {
			pubs = append(pubs, pub)
			assoc[pub.String()] = leaf(priv.String())
		}
	}
	if len(pubs) > 0 {
		m["public-ipv4s"] = leaf(joinAddrs(pubs))
		m["ipv4-associations"] = dir(assoc)
		if eni.DeviceIndex == 0 && inst.PublicDNSName != "" {
			m["public-hostname"] = leaf(inst.PublicDNSName)
		}
	}
	return m
}

// privateName is the private DNS name of ip, in the instance's domain.
func privateName(inst *desired.Instance, ip netip.Addr) string {
	name := "ip-" + strings.ReplaceAll(ip.String(), ".", "-")
	if _, dom, ok := strings.Cut(inst.PrivateDNSName, "."); ok {
		name += "." + dom
	}
	return name
}

func joinAddrs(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, "\n")
}

func domain(region string) string {
	if arn.Partition(region) == "aws-cn" {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

// credentials returns the credentials of the role of p, minted once and
// reused until they come near expiry, as IMDS rotates them. Another
// profile or role (a replaced association, a role swapped in the profile)
// is another key: its credentials are minted at once.
func (s *Server) credentials(inst *desired.Instance, p desired.InstanceProfile) (roleCreds, error) {
	key := inst.ID + "/" + p.ARN + "/" + p.Role + "/" + p.RoleID
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.creds[key]; ok && now.Before(c.Expiration.Add(-credsRefresh)) {
		return c, nil
	}
	c, err := s.src.Credentials(inst, p)
	if err != nil {
		return roleCreds{}, err
	}
	for k, old := range s.creds {
		if !now.Before(old.Expiration) {
			delete(s.creds, k)
		}
	}
	rc := roleCreds{Credentials: c, updated: now}
	s.creds[key] = rc
	return rc, nil
}

func (s *Server) roleCredentials(inst *desired.Instance, p desired.InstanceProfile) (string, error) {
	c, err := s.credentials(inst, p)
	if err != nil {
		return "", err
	}
	return marshal(struct {
		Code            string
		LastUpdated     string
		Type            string
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		Token           string
		Expiration      string
	}{"Success", awsTime(c.updated), "AWS-HMAC", c.AccessKeyID, c.SecretAccessKey, c.Token, awsTime(c.Expiration)})
}

func (s *Server) iamInfo(inst *desired.Instance, p desired.InstanceProfile) (string, error) {
	c, err := s.credentials(inst, p)
	if err != nil {
		return "", err
	}
	return marshal(struct {
		Code               string
		LastUpdated        string
		InstanceProfileArn string
		InstanceProfileID  string `json:"InstanceProfileId,omitempty"`
	}{"Success", awsTime(c.updated), p.ARN, p.ID})
}

// identityDocument is /latest/dynamic/instance-identity/document.
func identityDocument(inst *desired.Instance, w *desired.World) (string, error) {
	var ip string
	if len(inst.ENIs) > 0 {
		if eni, _ := w.FindENI(inst.ENIs[0]); eni != nil && len(eni.PrivateIPs) > 0 {
			ip = eni.PrivateIPs[0].String()
		}
	}
	arch := runtime.GOARCH
	if arch == "amd64" {
		arch = "x86_64"
	}
	// The null fields are null on AWS too for instances without them.
	return marshal(struct {
		AccountID               string   `json:"accountId"`
		Architecture            string   `json:"architecture"`
		AvailabilityZone        string   `json:"availabilityZone"`
		BillingProducts         []string `json:"billingProducts"`
		DevpayProductCodes      []string `json:"devpayProductCodes"`
		MarketplaceProductCodes []string `json:"marketplaceProductCodes"`
		ImageID                 string   `json:"imageId"`
		InstanceID              string   `json:"instanceId"`
		InstanceType            string   `json:"instanceType"`
		KernelID                *string  `json:"kernelId"`
		PrivateIP               string   `json:"privateIp"`
		RamdiskID               *string  `json:"ramdiskId"`
		Region                  string   `json:"region"`
		Version                 string   `json:"version"`
	}{
		AccountID: inst.Account, Architecture: arch, AvailabilityZone: inst.AZ,
		ImageID: inst.ImageID, InstanceID: inst.ID, InstanceType: inst.InstanceType,
		PrivateIP: ip, Region: inst.Region, Version: identityVer,
	})
}

func marshal(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err
}

func awsTime(t time.Time) string { return t.UTC().Format(timeFormatAWS) }
