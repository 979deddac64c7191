package ec2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// registerCompute registers the operations of instances, instance types,
// images and launch templates.
func (s *Service) registerCompute(h *ec2api.Handlers) {
	h.DescribeInstanceTypes = s.DescribeInstanceTypes
	h.DescribeInstanceTypeOfferings = s.DescribeInstanceTypeOfferings

	h.DescribeImages = s.DescribeImages
	h.CreateImage = s.CreateImage
	h.DeregisterImage = s.DeregisterImage
	h.DescribeImageAttribute = s.DescribeImageAttribute

	h.RunInstances = s.RunInstances
	h.DescribeInstances = s.DescribeInstances
	h.DescribeInstanceStatus = s.DescribeInstanceStatus
	h.DescribeInstanceAttribute = s.DescribeInstanceAttribute
	h.ModifyInstanceAttribute = s.ModifyInstanceAttribute
	h.GetConsoleOutput = s.GetConsoleOutput
	h.StopInstances = s.StopInstances
	h.StartInstances = s.StartInstances
	h.RebootInstances = s.RebootInstances
	h.TerminateInstances = s.TerminateInstances
	h.AssociateIamInstanceProfile = s.AssociateIamInstanceProfile
	h.ReplaceIamInstanceProfileAssociation = s.ReplaceIamInstanceProfileAssociation
	h.DisassociateIamInstanceProfile = s.DisassociateIamInstanceProfile
	h.DescribeIamInstanceProfileAssociations = s.DescribeIamInstanceProfileAssociations

	h.CreateLaunchTemplate = s.CreateLaunchTemplate
	h.CreateLaunchTemplateVersion = s.CreateLaunchTemplateVersion
	h.ModifyLaunchTemplate = s.ModifyLaunchTemplate
	h.DescribeLaunchTemplates = s.DescribeLaunchTemplates
	h.DescribeLaunchTemplateVersions = s.DescribeLaunchTemplateVersions
	h.GetLaunchTemplateData = s.GetLaunchTemplateData
	h.DeleteLaunchTemplate = s.DeleteLaunchTemplate
	h.DeleteLaunchTemplateVersions = s.DeleteLaunchTemplateVersions
}

// defaultInstanceType is what RunInstances launches when told no type, as
// the EC2 API reference documents.
const defaultInstanceType = "m1.small"

// instanceLimit is how many instances (not terminated) a region of an
// account may have, as AWS's quotas limit it: RunInstances launches no
// more than fit.
const instanceLimit = 1000

// maxUserData is the most user data an instance takes, decoded.
const maxUserData = 16 * 1024

// instanceAttrs is what an instance keeps that neither the Instance shape
// nor instanceRecord holds. It is stored beside the instance, under the
// same id.
type instanceAttrs struct {
	ReservationID string
	// Seq is the launch order in the region, the order DescribeInstances
	// lists instances in (a reservation's stay together).
	Seq uint64
	// AutoPublicIP: the instance gets a public IP whenever it starts.
	AutoPublicIP          bool
	DisableAPITermination bool
	DisableAPIStop        bool
	ShutdownBehavior      string
	// BlockDevices are the volumes as launched (sizes, types), which the
	// Instance shape does not show.
	BlockDevices []*ec2api.BlockDeviceMapping
	VolumeTags   []*ec2api.Tag
}

const instanceAttrsKind = "ec2:instance-attrs"

func attrsKey(sc scope, id string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: instanceAttrsKind, ID: id}
}

func loadInstanceAttrs(tx *store.Tx, sc scope, id string) (*instanceAttrs, error) {
	a, ok, err := store.Get[instanceAttrs](tx, attrsKey(sc, id))
	if err != nil || !ok {
		return &instanceAttrs{ShutdownBehavior: "stop"}, err
	}
	return a, nil
}

// expired reports whether a terminated instance has been gone long enough
// that AWS no longer shows it.
func expired(r *instanceRecord, now time.Time) bool {
	return !r.TerminatedAt.IsZero() && now.Sub(r.TerminatedAt) >= terminatedTTL
}

// loadInstance reads one instance.
func loadInstance(tx *store.Tx, sc scope, id string, now time.Time) (*instanceRecord, error) {
	r, err := load[instanceRecord](tx, sc, kindInstance, id)
	if err != nil {
		return nil, err
	}
	if expired(r, now) {
		return nil, kindInstance.notFoundError(id)
	}
	return r, nil
}

// loadInstances reads the instances ids names, in order, reporting every
// missing one at once as AWS does.
func loadInstances(tx *store.Tx, sc scope, ids []*string, now time.Time) ([]*instanceRecord, error) {
	if len(ids) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter InstanceId")
	}
	var out []*instanceRecord
	var missing []string
	seen := map[string]bool{}
	for _, p := range ids {
		id := deref(p)
		if seen[id] {
			continue
		}
		seen[id] = true
		if err := kindInstance.checkID(id); err != nil {
			return nil, err
		}
		r, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, id))
		if err != nil {
			return nil, err
		}
		if !ok || expired(r, now) {
			missing = append(missing, id)
			continue
		}
		out = append(out, r)
	}
	return out, instancesNotFound(missing)
}

func instancesNotFound(missing []string) error {
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return kindInstance.notFoundError(missing[0])
	}
	return api.Errorf("InvalidInstanceID.NotFound", "The instance IDs '%s' do not exist", strings.Join(missing, ", "))
}

// launchPlan is a RunInstances request checked and resolved.
type launchPlan struct {
	count        int
	image        *ec2api.Image
	itype        *ec2api.InstanceTypeInfo
	cpu          *ec2api.CpuOptions
	nics         []*nicPlan
	keyName      *string
	userData     string
	profile      *ec2api.IamInstanceProfile
	blockDevices []*ec2api.BlockDeviceMapping
	instanceTags []*ec2api.Tag
	eniTags      []*ec2api.Tag
	tenancy      string
	monitoring   bool
	metadata     *ec2api.InstanceMetadataOptionsResponse
	ebsOptimized bool
	hibernation  bool
	enclave      bool
	clientToken  *string
	attrs        instanceAttrs // the launch-time attributes every instance gets
}

// nicPlan is one network interface of each instance launched.
type nicPlan struct {
	deviceIndex         int64
	subnet              *subnetRecord
	dnsHostnames        bool // the VPC gives public DNS names
	groups              []string
	privateIP           string
	publicIP            bool
	deleteOnTermination bool
	description         string
	existing            *networkInterfaceRecord
}

func (s *Service) RunInstances(ctx context.Context, in *ec2api.RunInstancesRequest) (*ec2api.Reservation, error) {
	sc := scopeOf(ctx)
	// Watch before writing, so the controller sees these instances.
	s.lifecycle().track(sc)
	now := s.now().UTC()
	resolved, err := s.resolveImageParam(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	profile, err := s.launchProfile(sc, in)
	if err != nil {
		return nil, err
	}
	return create(s, sc, creation[ec2api.Reservation]{
		op: "RunInstances", token: in.ClientToken, req: in,
		made: func(tx *store.Tx, id string) (*ec2api.Reservation, error) {
			return reservationOf(tx, sc, id, now)
		},
		make: func(tx *store.Tx) (*ec2api.Reservation, string, error) {
			req, ltTags, err := applyLaunchTemplate(tx, sc, in)
			if err != nil {
				return nil, "", err
			}
			if resolved != "" && strings.HasPrefix(deref(req.ImageId), ssmPrefix) {
				req.ImageId = str(resolved)
			}
			p, err := s.planLaunch(tx, sc, req)
			if err != nil {
				return nil, "", err
			}
			if profile != nil {
				p.profile = profile // as IAM has it
			}
			if p.instanceTags, err = mergeTags(p.instanceTags, ltTags); err != nil {
				return nil, "", err
			}
			if err := dryRun(in.DryRun); err != nil {
				return nil, "", err
			}
			res, err := s.launch(tx, sc, p, now)
			if err != nil {
				return nil, "", err
			}
			return res, *res.ReservationId, nil
		},
	})
}

// reservationOf answers a repeated RunInstances with the instances the
// first call launched, as they are now.
func reservationOf(tx *store.Tx, sc scope, id string, now time.Time) (*ec2api.Reservation, error) {
	views, err := instanceViews(tx, sc, now, nil)
	if err != nil {
		return nil, err
	}
	res := &ec2api.Reservation{ReservationId: str(id), OwnerId: str(sc.account), Groups: []*ec2api.GroupIdentifier{}, Instances: []*ec2api.Instance{}}
	for _, v := range views {
		if v.attrs.ReservationID == id {
			res.Instances = append(res.Instances, &v.Instance)
		}
	}
	return res, nil
}

// ssmPrefix starts an image id that names an SSM parameter holding it.
const ssmPrefix = "resolve:ssm:"

// resolveImageParam resolves a "resolve:ssm:" image id, given or from the
// launch template, before the launch's transaction (SSM reads the store
// itself); "" when the image id is not one.
func (s *Service) resolveImageParam(ctx context.Context, sc scope, in *ec2api.RunInstancesRequest) (string, error) {
	id := deref(in.ImageId)
	if id == "" && in.LaunchTemplate != nil {
		err := s.store.View(func(tx *store.Tx) error {
			req, _, err := applyLaunchTemplate(tx, sc, in)
			if err == nil {
				id = deref(req.ImageId)
			}
			return err
		})
		if err != nil {
			return "", err
		}
	}
	spec, ok := strings.CutPrefix(id, ssmPrefix)
	if !ok {
		return "", nil
	}
	if s.params == nil {
		return "", invalidParameter("Invalid ImageId: %s: SSM parameters are not available", id)
	}
	return s.params.ResolveParameter(ctx, sc.account, sc.region, spec)
}

func (s *Service) planLaunch(tx *store.Tx, sc scope, in *ec2api.RunInstancesRequest) (*launchPlan, error) {
	minCount, maxCount := derefInt(in.MinCount), derefInt(in.MaxCount)
	switch {
	case maxCount < 1:
		return nil, invalidParameter("Maximum instance count must be greater than zero")
	case minCount < 1:
		return nil, invalidParameter("Minimum instance count must be greater than zero")
	case minCount > maxCount:
		return nil, invalidParameter("Minimum instance count (%d) must not be greater than maximum instance count (%d)", minCount, maxCount)
	}
	p := &launchPlan{clientToken: in.ClientToken, tenancy: "default"}
	if deref(in.ImageId) == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter ImageId")
	}
	img, err := s.launchImage(tx, sc, *in.ImageId)
	if err != nil {
		return nil, err
	}
	if deref(img.State) != "available" {
		return nil, api.Errorf("InvalidAMIID.Unavailable", "The image id '[%s]' is not available", *img.ImageId)
	}
	p.image = img
	typeName := deref(in.InstanceType)
	if typeName == "" {
		typeName = defaultInstanceType
	}
	if p.itype, err = lookupInstanceType(typeName); err != nil {
		return nil, err
	}
	if err := checkArch(p.itype, img); err != nil {
		return nil, err
	}
	if p.cpu, err = planCPU(p.itype, in.CpuOptions); err != nil {
		return nil, err
	}
	if in.KeyName != nil {
		if _, err := findKeyPair(tx, sc, *in.KeyName); err != nil {
			return nil, err
		}
		p.keyName = in.KeyName
	}
	if p.userData, err = checkUserData(in.UserData); err != nil {
		return nil, err
	}
	if p.profile, err = instanceProfile(sc, in.IamInstanceProfile); err != nil {
		return nil, err
	}
	if p.blockDevices, err = mergeBlockDevices(img.BlockDeviceMappings, in.BlockDeviceMappings); err != nil {
		return nil, err
	}
	taggable := []string{"instance", "volume", "network-interface", "spot-instances-request", "elastic-gpu"}
	if p.instanceTags, err = tagsFor(in.TagSpecifications, "instance", taggable...); err != nil {
		return nil, err
	}
	volumeTags, err := tagsFor(in.TagSpecifications, "volume", taggable...)
	if err != nil {
		return nil, err
	}
	if p.eniTags, err = tagsFor(in.TagSpecifications, "network-interface", taggable...); err != nil {
		return nil, err
	}
	az := ""
	if pl := in.Placement; pl != nil {
		az = deref(pl.AvailabilityZone)
		if az != "" {
			if _, ok := zoneByName(sc.region, az); !ok {
				return nil, invalidParameter("Invalid availability zone: [%s]", az)
			}
		}
		if g := deref(pl.GroupName) + deref(pl.GroupId); g != "" {
			return nil, api.Errorf("InvalidPlacementGroup.Unknown", "The Placement Group '%s' is unknown.", g)
		}
		switch t := deref(pl.Tenancy); t {
		case "", "default":
		case "dedicated":
			p.tenancy = t
		default:
			return nil, invalidParameter("Value (%s) for parameter tenancy is invalid. Valid values are default, dedicated.", t)
		}
	}
	if p.metadata, err = metadataOptions(in.MetadataOptions, img); err != nil {
		return nil, err
	}
	p.attrs = instanceAttrs{
		DisableAPITermination: derefBool(in.DisableApiTermination),
		DisableAPIStop:        derefBool(in.DisableApiStop),
		ShutdownBehavior:      "stop",
		VolumeTags:            volumeTags,
	}
	switch b := deref(in.InstanceInitiatedShutdownBehavior); b {
	case "":
	case "stop", "terminate":
		p.attrs.ShutdownBehavior = b
	default:
		return nil, invalidParameter("Value (%s) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are stop, terminate.", b)
	}
	p.monitoring = in.Monitoring != nil && derefBool(in.Monitoring.Enabled)
	p.ebsOptimized = derefBool(in.EbsOptimized)
	p.hibernation = in.HibernationOptions != nil && derefBool(in.HibernationOptions.Configured)
	p.enclave = in.EnclaveOptions != nil && derefBool(in.EnclaveOptions.Enabled)
	if p.nics, err = planNetwork(tx, sc, in, az, maxCount, p.itype); err != nil {
		return nil, err
	}
	vpc, err := load[vpcRecord](tx, sc, kindVPC, deref(p.nics[0].subnet.VpcId))
	if err != nil {
		return nil, err
	}
	if deref(vpc.InstanceTenancy) == "dedicated" {
		p.tenancy = "dedicated"
	}
	if p.count, err = launchCount(p.nics, minCount, maxCount); err != nil {
		return nil, err
	}
	if p.count, err = withinLimit(tx, sc, minCount, p.count); err != nil {
		return nil, err
	}
	return p, nil
}

// withinLimit cuts a launch of n to what the instance limit leaves, which
// must be at least minCount.
func withinLimit(tx *store.Tx, sc scope, minCount, n int) (int, error) {
	all, err := listAll[instanceRecord](tx, sc, kindInstance)
	if err != nil {
		return 0, err
	}
	left := instanceLimit
	for _, r := range all {
		if instanceStateName(r) != stateTerminated {
			left--
		}
	}
	if left < minCount {
		return 0, api.Errorf("InstanceLimitExceeded", "You have requested more instances (%d) than your current instance limit of %d allows.", minCount, instanceLimit)
	}
	return min(n, left), nil
}

func derefInt(n *int64) int {
	if n == nil {
		return 0
	}
	return int(*n)
}

func derefBool(b *bool) bool { return b != nil && *b }

// typeArch is the architecture a type is known by in errors.
func typeArch(t *ec2api.InstanceTypeInfo) string {
	a := t.ProcessorInfo.SupportedArchitectures
	return *a[len(a)-1]
}

func checkArch(t *ec2api.InstanceTypeInfo, img *ec2api.Image) error {
	if supportsArch(t, deref(img.Architecture)) {
		return nil
	}
	return invalidParameter("The architecture '%s' of the specified instance type does not match the architecture '%s' of the specified AMI. "+
		"Specify an instance type and an AMI that have matching architectures, and try again. "+
		"You can use 'describe-instance-types' or 'describe-images' to discover the architecture of the instance type or AMI.",
		typeArch(t), deref(img.Architecture))
}

// planCPU checks requested CPU options against the type.
func planCPU(t *ec2api.InstanceTypeInfo, req *ec2api.CpuOptionsRequest) (*ec2api.CpuOptions, error) {
	cpu := cpuOptions(t)
	if req == nil {
		return cpu, nil
	}
	if req.CoreCount != nil {
		if *req.CoreCount < 1 || *req.CoreCount > *t.VCpuInfo.DefaultCores {
			return nil, invalidParameter("CPU core count %d is not valid for instance type %s.", *req.CoreCount, *t.InstanceType)
		}
		cpu.CoreCount = req.CoreCount
	}
	if req.ThreadsPerCore != nil {
		if *req.ThreadsPerCore < 1 || *req.ThreadsPerCore > *t.VCpuInfo.DefaultThreadsPerCore {
			return nil, invalidParameter("Threads per core %d is not valid for instance type %s.", *req.ThreadsPerCore, *t.InstanceType)
		}
		cpu.ThreadsPerCore = req.ThreadsPerCore
	}
	return cpu, nil
}

// findKeyPair returns the caller's key pair named name.
func findKeyPair(tx *store.Tx, sc scope, name string) (*keyPairRecord, error) {
	k, err := keyByName(tx, sc, name)
	if err == nil && k == nil {
		err = api.Errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", name)
	}
	return k, err
}

// checkUserData checks base64 user data and its decoded size; it is kept
// as given.
func checkUserData(ud *string) (string, error) {
	v := deref(ud)
	if v == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(v, "=")); err != nil {
			return "", api.Errorf("InvalidUserData.Malformed", "Invalid BASE64 encoding of user data.")
		}
	}
	if len(raw) > maxUserData {
		return "", invalidParameter("User data is limited to %d bytes", maxUserData)
	}
	return v, nil
}

var (
	profileARNRE  = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/([\w+=,.@/-]+)$`)
	profileNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
)

// instanceProfile checks the form of an IamInstanceProfile and shows it as
// AWS does; Service.resolveProfile checks it against IAM.
func instanceProfile(sc scope, spec *ec2api.IamInstanceProfileSpecification) (*ec2api.IamInstanceProfile, error) {
	if spec == nil || spec.Arn == nil && spec.Name == nil {
		return nil, nil
	}
	var arn string
	if spec.Arn != nil {
		if !profileARNRE.MatchString(*spec.Arn) {
			return nil, badProfileARN(*spec.Arn)
		}
		arn = *spec.Arn
	} else {
		if !profileNameRE.MatchString(*spec.Name) {
			return nil, badProfileName(*spec.Name)
		}
		arn = "arn:aws:iam::" + sc.account + ":instance-profile/" + *spec.Name
	}
	h := sha256.Sum256([]byte(arn))
	return &ec2api.IamInstanceProfile{Arn: str(arn), Id: str("AIPA" + strings.ToUpper(hex.EncodeToString(h[:]))[:17])}, nil
}

var volumeTypes = map[string]bool{"standard": true, "io1": true, "io2": true, "gp2": true, "gp3": true, "sc1": true, "st1": true}

// mergeBlockDevices applies requested block device mappings to an image's:
// a mapping of the same device changes it, NoDevice removes it, a new
// device adds a volume. Instance store (VirtualName) mappings are ignored,
// as on the types of the catalogue, which have none.
func mergeBlockDevices(base, req []*ec2api.BlockDeviceMapping) ([]*ec2api.BlockDeviceMapping, error) {
	var out []*ec2api.BlockDeviceMapping
	for _, b := range base {
		c, err := clone(b)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for _, r := range req {
		dev := deref(r.DeviceName)
		if dev == "" {
			return nil, api.Errorf("InvalidBlockDeviceMapping", "The device name must be specified for each block device mapping")
		}
		i := slices.IndexFunc(out, func(b *ec2api.BlockDeviceMapping) bool { return deref(b.DeviceName) == dev })
		if r.NoDevice != nil {
			if i >= 0 {
				out = append(out[:i], out[i+1:]...)
			}
			continue
		}
		if r.Ebs == nil {
			continue
		}
		e := r.Ebs
		if t := deref(e.VolumeType); t != "" && !volumeTypes[t] {
			return nil, invalidParameter("Value (%s) for parameter volumeType is invalid. Valid values are standard, io1, io2, gp2, gp3, sc1, st1.", t)
		}
		if e.VolumeSize != nil && (*e.VolumeSize < 1 || *e.VolumeSize > 16384) {
			return nil, invalidParameter("Volume size %d is invalid for device %s: it must be between 1 and 16384 GiB", *e.VolumeSize, dev)
		}
		if i < 0 {
			if e.VolumeSize == nil && e.SnapshotId == nil {
				return nil, api.Errorf("MissingParameter", "The request must contain the parameter size or snapshotId")
			}
			c, err := clone(r)
			if err != nil {
				return nil, err
			}
			if c.Ebs.DeleteOnTermination == nil {
				c.Ebs.DeleteOnTermination = boolp(true)
			}
			if c.Ebs.VolumeType == nil {
				c.Ebs.VolumeType = str("gp2")
			}
			if c.Ebs.Encrypted == nil {
				c.Ebs.Encrypted = boolp(false)
			}
			out = append(out, c)
			continue
		}
		have := out[i].Ebs
		if have == nil {
			have = &ec2api.EbsBlockDevice{}
			out[i].Ebs = have
		}
		if e.VolumeSize != nil {
			if have.VolumeSize != nil && have.SnapshotId != nil && *e.VolumeSize < *have.VolumeSize {
				return nil, api.Errorf("InvalidBlockDeviceMapping", "Volume of size %dGB is smaller than snapshot '%s', expect size >= %dGB", *e.VolumeSize, *have.SnapshotId, *have.VolumeSize)
			}
			have.VolumeSize = e.VolumeSize
		}
		if e.VolumeType != nil {
			have.VolumeType = e.VolumeType
		}
		if e.DeleteOnTermination != nil {
			have.DeleteOnTermination = e.DeleteOnTermination
		}
		if e.Encrypted != nil {
			have.Encrypted = e.Encrypted
		}
		if e.KmsKeyId != nil {
			have.KmsKeyId = e.KmsKeyId
		}
		if e.Iops != nil {
			have.Iops = e.Iops
		}
		if e.Throughput != nil {
			have.Throughput = e.Throughput
		}
	}
	return out, nil
}

// metadataOptions resolves the instance metadata options: the request's,
// else AWS's defaults, which require IMDSv2 for images that ask for it.
func metadataOptions(req *ec2api.InstanceMetadataOptionsRequest, img *ec2api.Image) (*ec2api.InstanceMetadataOptionsResponse, error) {
	m := &ec2api.InstanceMetadataOptionsResponse{
		State:                   str("pending"),
		HttpTokens:              str("optional"),
		HttpPutResponseHopLimit: i64(1),
		HttpEndpoint:            str("enabled"),
		HttpProtocolIpv6:        str("disabled"),
		InstanceMetadataTags:    str("disabled"),
	}
	if deref(img.ImdsSupport) == "v2.0" {
		m.HttpTokens, m.HttpPutResponseHopLimit = str("required"), i64(2)
	}
	if req == nil {
		return m, nil
	}
	for _, c := range []struct {
		name  string
		value *string
		dst   **string
		valid []string
	}{
		{"HttpTokens", req.HttpTokens, &m.HttpTokens, []string{"optional", "required"}},
		{"HttpEndpoint", req.HttpEndpoint, &m.HttpEndpoint, []string{"enabled", "disabled"}},
		{"HttpProtocolIpv6", req.HttpProtocolIpv6, &m.HttpProtocolIpv6, []string{"enabled", "disabled"}},
		{"InstanceMetadataTags", req.InstanceMetadataTags, &m.InstanceMetadataTags, []string{"enabled", "disabled"}},
	} {
		if c.value == nil {
			continue
		}
		if !slices.Contains(c.valid, *c.value) {
			return nil, invalidParameter("Value (%s) for parameter %s is invalid. Valid values are %s.", *c.value, c.name, strings.Join(c.valid, ", "))
		}
		*c.dst = c.value
	}
	if n := req.HttpPutResponseHopLimit; n != nil {
		if *n < 1 || *n > 64 {
			return nil, invalidParameter("Value (%d) for parameter HttpPutResponseHopLimit is invalid. Valid values are between 1 and 64.", *n)
		}
		m.HttpPutResponseHopLimit = n
	}
	return m, nil
}

// planNetwork resolves the network interfaces each instance gets: the
// request's NetworkInterfaces, or one made of the instance-level subnet,
// groups and address.
func planNetwork(tx *store.Tx, sc scope, in *ec2api.RunInstancesRequest, az string, count int, t *ec2api.InstanceTypeInfo) ([]*nicPlan, error) {
	subnets := map[string]*subnetRecord{} // one record per subnet, shared by its interfaces
	specs := in.NetworkInterfaces
	if len(specs) == 0 {
		specs = []*ec2api.InstanceNetworkInterfaceSpecification{{
			DeviceIndex:      i64(0),
			SubnetId:         in.SubnetId,
			PrivateIpAddress: in.PrivateIpAddress,
		}}
	} else {
		switch {
		case in.SubnetId != nil:
			return nil, api.Errorf("InvalidParameterCombination", "Network interfaces and an instance-level subnet ID may not be specified on the same request")
		case len(in.SecurityGroupIds)+len(in.SecurityGroups) > 0:
			return nil, api.Errorf("InvalidParameterCombination", "Network interfaces and an instance-level security groups may not be specified on the same request")
		case in.PrivateIpAddress != nil:
			return nil, api.Errorf("InvalidParameterCombination", "Network interfaces and an instance-level private IP address should not be specified on the same request")
		}
		if int64(len(specs)) > *t.NetworkInfo.MaximumNetworkInterfaces {
			return nil, invalidParameter("You may specify at most %d network interfaces for instance type %s", *t.NetworkInfo.MaximumNetworkInterfaces, *t.InstanceType)
		}
	}
	var out []*nicPlan
	seen := map[int64]bool{}
	for _, spec := range specs {
		if spec.DeviceIndex == nil {
			return nil, invalidParameter("Each network interface requires a device index.")
		}
		idx := *spec.DeviceIndex
		if seen[idx] {
			return nil, invalidParameter("Each network interface requires a unique device index.")
		}
		seen[idx] = true
		if len(specs) > 1 && derefBool(spec.AssociatePublicIpAddress) {
			return nil, api.Errorf("InvalidParameterCombination", "The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.")
		}
		np, err := planNIC(tx, sc, in, spec, az, count, subnets)
		if err != nil {
			return nil, err
		}
		out = append(out, np)
	}
	if !seen[0] {
		return nil, invalidParameter("When specifying network interfaces, you must include a device at index 0.")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].deviceIndex < out[j].deviceIndex })
	for _, np := range out[1:] {
		if deref(np.subnet.AvailabilityZone) != deref(out[0].subnet.AvailabilityZone) {
			return nil, invalidParameter("The network interfaces of an instance must all be in one availability zone.")
		}
	}
	return out, nil
}

func planNIC(tx *store.Tx, sc scope, in *ec2api.RunInstancesRequest, spec *ec2api.InstanceNetworkInterfaceSpecification, az string, count int, subnets map[string]*subnetRecord) (*nicPlan, error) {
	np := &nicPlan{deviceIndex: *spec.DeviceIndex, description: deref(spec.Description), deleteOnTermination: true}
	if id := deref(spec.NetworkInterfaceId); id != "" {
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, id)
		if err != nil {
			return nil, err
		}
		if count > 1 {
			return nil, api.Errorf("InvalidParameterCombination", "Cannot specify an existing network interface when launching more than one instance.")
		}
		if deref(e.Status) != "available" {
			return nil, api.Errorf("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", id)
		}
		if np.subnet, err = launchSubnet(tx, sc, subnets, deref(e.SubnetId), az); err != nil {
			return nil, err
		}
		np.existing = e
		np.deleteOnTermination = derefBool(spec.DeleteOnTermination)
	} else {
		var err error
		if np.subnet, err = launchSubnet(tx, sc, subnets, deref(spec.SubnetId), az); err != nil {
			return nil, err
		}
		if spec.DeleteOnTermination != nil {
			np.deleteOnTermination = *spec.DeleteOnTermination
		}
	}
	vpc, err := load[vpcRecord](tx, sc, kindVPC, deref(np.subnet.VpcId))
	if err != nil {
		return nil, err
	}
	np.dnsHostnames = vpc.EnableDNSHostnames
	if np.existing == nil {
		ids, names := spec.Groups, []*string(nil)
		if len(in.NetworkInterfaces) == 0 {
			ids, names = in.SecurityGroupIds, in.SecurityGroups
		}
		if np.groups, err = launchGroups(tx, sc, vpc, *np.subnet.SubnetId, ids, names); err != nil {
			return nil, err
		}
		if ip := deref(spec.PrivateIpAddress); ip != "" {
			if count > 1 {
				return nil, api.Errorf("InvalidParameterCombination", "Cannot specify a private IP address when launching more than one instance.")
			}
			if err := checkPrivateIP(np.subnet, ip); err != nil {
				return nil, err
			}
			np.privateIP = ip
		}
	}
	np.publicIP = derefBool(np.subnet.MapPublicIpOnLaunch)
	if spec.AssociatePublicIpAddress != nil {
		np.publicIP = *spec.AssociatePublicIpAddress
	}
	// Only a new primary interface gets an automatic public address.
	if np.deviceIndex != 0 || np.existing != nil {
		np.publicIP = false
	}
	return np, nil
}

// checkPrivateIP checks that ip can be taken in the subnet, with the
// errors allocateIP gives, without taking it.
func checkPrivateIP(sn *subnetRecord, ip string) error {
	probe := &subnetRecord{Subnet: sn.Subnet, Used: maps.Clone(sn.Used)}
	_, err := allocateIP(probe, ip, "")
	return err
}

// launchSubnet returns the subnet an interface goes in: the one named, or
// the default subnet of the default VPC in the zone asked for (the first
// zone that has one, if none is asked for).
func launchSubnet(tx *store.Tx, sc scope, subnets map[string]*subnetRecord, id, az string) (*subnetRecord, error) {
	if id != "" {
		if sn, ok := subnets[id]; ok {
			return sn, nil
		}
		sn, err := load[subnetRecord](tx, sc, kindSubnet, id)
		if err != nil {
			return nil, err
		}
		if az != "" && az != deref(sn.AvailabilityZone) && az != deref(sn.AvailabilityZoneId) {
			return nil, invalidParameter("Value (%s) for parameter availabilityZone is invalid. Subnet '%s' is in the availability zone %s", az, id, deref(sn.AvailabilityZone))
		}
		subnets[id] = sn
		return sn, nil
	}
	vpc, err := defaultVPC(tx, sc)
	if err != nil {
		return nil, err
	}
	all, err := listAll[subnetRecord](tx, sc, kindSubnet)
	if err != nil {
		return nil, err
	}
	for _, z := range zonesOf(sc.region) {
		if az != "" && az != z.Name && az != z.ID {
			continue
		}
		for _, sn := range all {
			if deref(sn.VpcId) == *vpc.VpcId && derefBool(sn.DefaultForAz) && deref(sn.AvailabilityZone) == z.Name {
				if have, ok := subnets[*sn.SubnetId]; ok {
					return have, nil
				}
				subnets[*sn.SubnetId] = sn
				return sn, nil
			}
		}
	}
	return nil, api.Errorf("MissingInput", "No subnets found for the default VPC '%s'. Please specify a subnet.", *vpc.VpcId)
}

// defaultVPC returns the region's default VPC.
func defaultVPC(tx *store.Tx, sc scope) (*vpcRecord, error) {
	vpcs, err := listAll[vpcRecord](tx, sc, kindVPC)
	if err != nil {
		return nil, err
	}
	for _, v := range vpcs {
		if derefBool(v.IsDefault) {
			return v, nil
		}
	}
	return nil, api.Errorf("VPCIdNotSpecified", "No default VPC for this user")
}

// launchGroups resolves the security groups of an interface: ids, which
// must be in the VPC, or names, which only the default VPC takes; none is
// the VPC's default group.
func launchGroups(tx *store.Tx, sc scope, vpc *vpcRecord, subnetID string, ids, names []*string) ([]string, error) {
	var out []string
	for _, id := range ids {
		g, err := load[securityGroupRecord](tx, sc, kindSG, deref(id))
		if err != nil {
			return nil, err
		}
		if deref(g.VpcId) != *vpc.VpcId {
			return nil, api.Errorf("InvalidParameter", "Security group %s and subnet %s belong to different networks.", *g.GroupId, subnetID)
		}
		out = append(out, *g.GroupId)
	}
	if len(names) > 0 {
		if !derefBool(vpc.IsDefault) {
			return nil, api.Errorf("InvalidParameterCombination", "The parameter groupName cannot be used with the parameter subnet")
		}
		groups, err := listAll[securityGroupRecord](tx, sc, kindSG)
		if err != nil {
			return nil, err
		}
	names:
		for _, n := range names {
			for _, g := range groups {
				if deref(g.VpcId) == *vpc.VpcId && deref(g.GroupName) == deref(n) {
					out = append(out, *g.GroupId)
					continue names
				}
			}
			return nil, api.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", deref(n), *vpc.VpcId)
		}
	}
	if len(out) == 0 {
		out = []string{vpc.DefaultSecurityGroupID}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// launchCount is how many instances fit: as many as MaxCount asks, if the
// subnets have the addresses, and at least MinCount.
func launchCount(nics []*nicPlan, minCount, maxCount int) (int, error) {
	need := map[string]int{}
	for _, np := range nics {
		if np.existing == nil {
			need[*np.subnet.SubnetId]++
		}
	}
	n := maxCount
	for _, np := range nics {
		id := *np.subnet.SubnetId
		if need[id] == 0 {
			continue
		}
		if fit := int(deref64(np.subnet.AvailableIpAddressCount)) / need[id]; fit < n {
			n = fit
		}
		if n < minCount {
			return 0, api.Errorf("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", id)
		}
	}
	return n, nil
}

func deref64(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// launch makes the instances of a plan: a reservation of p.count.
func (s *Service) launch(tx *store.Tx, sc scope, p *launchPlan, now time.Time) (*ec2api.Reservation, error) {
	res := &ec2api.Reservation{
		ReservationId: str(newAssocID("r")),
		OwnerId:       str(sc.account),
		Groups:        []*ec2api.GroupIdentifier{},
	}
	for i := 0; i < p.count; i++ {
		rec, err := s.launchOne(tx, sc, p, *res.ReservationId, i, now)
		if err != nil {
			return nil, err
		}
		res.Instances = append(res.Instances, &rec.Instance)
	}
	return res, nil
}

func (s *Service) launchOne(tx *store.Tx, sc scope, p *launchPlan, reservation string, index int, now time.Time) (*instanceRecord, error) {
	id := kindInstance.newID()
	seq, err := tx.NextID(sc.account, sc.region, instanceAttrsKind)
	if err != nil {
		return nil, err
	}
	launched := now.Truncate(time.Second) // AWS shows launch times to the second
	var enis []*networkInterfaceRecord
	for _, np := range p.nics {
		e, err := attachLaunchENI(tx, sc, p, np, id, launched)
		if err != nil {
			return nil, err
		}
		enis = append(enis, e)
	}
	bdms, err := launchVolumes(tx, sc, p, id, deref(enis[0].AvailabilityZone), launched)
	if err != nil {
		return nil, err
	}
	tags := p.instanceTags
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	cpu := *p.cpu
	monitoring := "disabled"
	if p.monitoring {
		monitoring = "enabled"
	}
	rec := &instanceRecord{
		Instance: ec2api.Instance{
			InstanceId:                       str(id),
			ImageId:                          p.image.ImageId,
			InstanceType:                     p.itype.InstanceType,
			Architecture:                     p.image.Architecture,
			AmiLaunchIndex:                   i64(int64(index)),
			LaunchTime:                       &launched,
			KeyName:                          p.keyName,
			ClientToken:                      p.clientToken,
			IamInstanceProfile:               p.profile,
			Placement:                        &ec2api.Placement{AvailabilityZone: enis[0].AvailabilityZone, GroupName: str(""), Tenancy: str(p.tenancy)},
			Monitoring:                       &ec2api.Monitoring{State: str(monitoring)},
			RootDeviceName:                   p.image.RootDeviceName,
			RootDeviceType:                   str("ebs"),
			BlockDeviceMappings:              bdms,
			Hypervisor:                       str("xen"),
			VirtualizationType:               str("hvm"),
			EnaSupport:                       boolp(true),
			EbsOptimized:                     boolp(p.ebsOptimized),
			CpuOptions:                       &cpu,
			MetadataOptions:                  p.metadata,
			HibernationOptions:               &ec2api.HibernationOptions{Configured: boolp(p.hibernation)},
			EnclaveOptions:                   &ec2api.EnclaveOptions{Enabled: boolp(p.enclave)},
			MaintenanceOptions:               &ec2api.InstanceMaintenanceOptions{AutoRecovery: str("default")},
			CapacityReservationSpecification: &ec2api.CapacityReservationSpecificationResponse{CapacityReservationPreference: str("open")},
			PrivateDnsNameOptions:            &ec2api.PrivateDnsNameOptionsResponse{HostnameType: str("ip-name"), EnableResourceNameDnsARecord: boolp(false), EnableResourceNameDnsAAAARecord: boolp(false)},
			BootMode:                         p.image.BootMode,
			CurrentInstanceBootMode:          str(currentBootMode(p.image)),
			PlatformDetails:                  str("Linux/UNIX"),
			UsageOperation:                   str("RunInstances"),
			UsageOperationUpdateTime:         &launched,
			ProductCodes:                     []*ec2api.ProductCode{},
			StateReason:                      &ec2api.StateReason{Code: str("pending"), Message: str("pending")},
			StateTransitionReason:            str(""),
			Tags:                             tags,
		},
		UserData:   p.userData,
		VCPUs:      *cpu.CoreCount * *cpu.ThreadsPerCore,
		MemoryMiB:  *p.itype.MemoryInfo.SizeInMiB,
		StateSince: now,
	}
	if p.profile != nil {
		rec.ProfileAssociation, rec.ProfileAssociated = newAssocID("iip-assoc"), launched
	}
	rec.setState(statePending, now)
	applyENIs(rec, enis)
	attrs := p.attrs
	attrs.ReservationID = reservation
	attrs.Seq = seq
	attrs.AutoPublicIP = p.nics[0].publicIP
	attrs.BlockDevices = p.blockDevices
	if err := save(tx, sc, kindInstance, id, rec); err != nil {
		return nil, err
	}
	s.transition(tx, sc, id, "", statePending)
	return rec, tx.Put(attrsKey(sc, id), &attrs)
}

func currentBootMode(img *ec2api.Image) string {
	if deref(img.BootMode) == "uefi" {
		return "uefi"
	}
	return "legacy-bios"
}

// attachLaunchENI makes (or takes) one interface of a new instance and
// attaches it.
func attachLaunchENI(tx *store.Tx, sc scope, p *launchPlan, np *nicPlan, instanceID string, now time.Time) (*networkInterfaceRecord, error) {
	e := np.existing
	if e == nil {
		var err error
		e, err = createENI(tx, sc, eniSpec{subnet: np.subnet, privateIP: np.privateIP, groups: np.groups, description: np.description, tags: p.eniTags})
		if err != nil {
			return nil, err
		}
	}
	at := now
	e.Attachment = &ec2api.NetworkInterfaceAttachment{
		AttachTime:          &at,
		AttachmentId:        str(newAssocID("eni-attach")),
		DeleteOnTermination: boolp(np.deleteOnTermination),
		DeviceIndex:         i64(np.deviceIndex),
		NetworkCardIndex:    i64(0),
		InstanceId:          str(instanceID),
		InstanceOwnerId:     str(sc.account),
		Status:              str("attached"),
	}
	e.Status = str("in-use")
	if as := e.Association; as != nil && as.AllocationId != nil {
		// An existing interface brings its Elastic IP to the instance.
		a, err := load[addressRecord](tx, sc, kindAddress, *as.AllocationId)
		if err != nil {
			return nil, err
		}
		a.InstanceId = str(instanceID)
		if err := save(tx, sc, kindAddress, *as.AllocationId, a); err != nil {
			return nil, err
		}
	}
	if np.publicIP {
		if err := assignPublicIP(tx, e, sc.region, np.dnsHostnames); err != nil {
			return nil, err
		}
	}
	return e, save(tx, sc, kindENI, *e.NetworkInterfaceId, e)
}

// assignPublicIP gives an interface an auto-assigned public address, held
// by the interface.
func assignPublicIP(tx *store.Tx, e *networkInterfaceRecord, region string, dnsHostnames bool) error {
	ip, err := allocatePublicIP(tx, *e.NetworkInterfaceId)
	if err != nil {
		return err
	}
	dns := ""
	if dnsHostnames {
		dns = publicDNSName(region, ip)
	}
	as := &ec2api.NetworkInterfaceAssociation{IpOwnerId: str("amazon"), PublicIp: str(ip), PublicDnsName: str(dns)}
	e.Association = as
	for _, a := range e.PrivateIpAddresses {
		if derefBool(a.Primary) {
			a.Association = as
		}
	}
	return nil
}

// releaseAutoPublicIP frees an interface's auto-assigned public address;
// an Elastic IP stays.
func releaseAutoPublicIP(tx *store.Tx, e *networkInterfaceRecord) error {
	as := e.Association
	if as == nil || as.AllocationId != nil || as.PublicIp == nil {
		return nil
	}
	if err := releasePublicIP(tx, *as.PublicIp); err != nil {
		return err
	}
	e.Association = nil
	for _, a := range e.PrivateIpAddresses {
		a.Association = nil
	}
	return nil
}

// applyENIs sets the network fields of an instance from its attached
// interfaces, which hold the truth (an Elastic IP associated later shows
// on the interface).
func applyENIs(r *instanceRecord, enis []*networkInterfaceRecord) {
	sort.Slice(enis, func(i, j int) bool { return attachIndex(enis[i]) < attachIndex(enis[j]) })
	r.NetworkInterfaces = []*ec2api.InstanceNetworkInterface{}
	for _, e := range enis {
		r.NetworkInterfaces = append(r.NetworkInterfaces, instanceNIC(e))
	}
	if len(enis) == 0 {
		return
	}
	p := enis[0]
	r.SubnetId, r.VpcId = p.SubnetId, p.VpcId
	r.PrivateIpAddress, r.PrivateDnsName = p.PrivateIpAddress, p.PrivateDnsName
	r.SourceDestCheck = p.SourceDestCheck
	r.SecurityGroups = p.Groups
	r.PublicIpAddress, r.PublicDnsName = nil, str("")
	if as := p.Association; as != nil && as.PublicIp != nil {
		r.PublicIpAddress, r.PublicDnsName = as.PublicIp, as.PublicDnsName
	}
}

func attachIndex(e *networkInterfaceRecord) int64 {
	if e.Attachment == nil {
		return 0
	}
	return deref64(e.Attachment.DeviceIndex)
}

// instanceNIC is an interface as DescribeInstances shows it.
func instanceNIC(e *networkInterfaceRecord) *ec2api.InstanceNetworkInterface {
	ni := &ec2api.InstanceNetworkInterface{
		NetworkInterfaceId: e.NetworkInterfaceId,
		SubnetId:           e.SubnetId,
		VpcId:              e.VpcId,
		Description:        e.Description,
		OwnerId:            e.OwnerId,
		Status:             e.Status,
		MacAddress:         e.MacAddress,
		PrivateIpAddress:   e.PrivateIpAddress,
		PrivateDnsName:     e.PrivateDnsName,
		SourceDestCheck:    e.SourceDestCheck,
		InterfaceType:      e.InterfaceType,
		Groups:             e.Groups,
		Ipv6Addresses:      []*ec2api.InstanceIpv6Address{},
		PrivateIpAddresses: []*ec2api.InstancePrivateIpAddress{},
		Association:        instanceAssociation(e.Association),
	}
	if a := e.Attachment; a != nil {
		ni.Attachment = &ec2api.InstanceNetworkInterfaceAttachment{
			AttachTime: a.AttachTime, AttachmentId: a.AttachmentId, DeleteOnTermination: a.DeleteOnTermination,
			DeviceIndex: a.DeviceIndex, NetworkCardIndex: a.NetworkCardIndex, Status: a.Status,
		}
	}
	for _, a := range e.PrivateIpAddresses {
		ni.PrivateIpAddresses = append(ni.PrivateIpAddresses, &ec2api.InstancePrivateIpAddress{
			Primary: a.Primary, PrivateIpAddress: a.PrivateIpAddress, PrivateDnsName: a.PrivateDnsName, Association: instanceAssociation(a.Association),
		})
	}
	return ni
}

func instanceAssociation(a *ec2api.NetworkInterfaceAssociation) *ec2api.InstanceNetworkInterfaceAssociation {
	if a == nil || a.PublicIp == nil {
		return nil
	}
	return &ec2api.InstanceNetworkInterfaceAssociation{IpOwnerId: a.IpOwnerId, PublicIp: a.PublicIp, PublicDnsName: a.PublicDnsName, CarrierIp: a.CarrierIp, CustomerOwnedIp: a.CustomerOwnedIp}
}

// enisByInstance maps each instance id to the interfaces attached to it.
func enisByInstance(tx *store.Tx, sc scope) (map[string][]*networkInterfaceRecord, error) {
	all, err := listAll[networkInterfaceRecord](tx, sc, kindENI)
	if err != nil {
		return nil, err
	}
	out := map[string][]*networkInterfaceRecord{}
	for _, e := range all {
		if a := e.Attachment; a != nil && a.InstanceId != nil {
			out[*a.InstanceId] = append(out[*a.InstanceId], e)
		}
	}
	return out, nil
}
