package ec2

import (
	"encoding/base64"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/ami"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Follows implements desired.Contributor: every EC2 record may change the
// network or an instance.
func (s *Service) Follows(kind string) bool {
	return strings.HasPrefix(kind, "ec2:") && kind != consoleKind
}

// Scopes implements desired.Contributor: the accounts and regions with VPCs
// or EBS data (a region whose VPCs were all deleted keeps its volumes).
func (s *Service) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	var all [][2]string
	seen := map[[2]string]bool{}
	for _, k := range []*kind{kindVPC, kindVolume, kindSnapshot} {
		pairs, err := tx.Scopes(k.store)
		if err != nil {
			return nil, err
		}
		for _, p := range pairs {
			if !seen[p] {
				seen[p] = true
				all = append(all, p)
			}
		}
	}
	return desired.ScopesOf(all), nil
}

// Contribute implements desired.Contributor: one account's and region's
// network and instances as the data plane needs them.
func (s *Service) Contribute(tx *store.Tx, ds desired.Scope, w *desired.World) error {
	peerings := map[string]*desired.Peering{}
	if err := s.snapshotScope(tx, scope{account: ds.Account, region: ds.Region}, w, peerings); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(peerings)) {
		w.Peerings = append(w.Peerings, peerings[id])
	}
	return contributeVolumes(tx, scope{account: ds.Account, region: ds.Region}, w)
}

// contributeVolumes adds the scope's EBS volumes and snapshots.
func contributeVolumes(tx *store.Tx, sc scope, w *desired.World) error {
	vols, err := listAll[volumeRecord](tx, sc, kindVolume)
	if err != nil {
		return err
	}
	for _, v := range vols {
		d := &desired.Volume{ID: *v.VolumeId, Account: sc.account, Region: sc.region, SizeGiB: *v.Size,
			Snapshot: deref(v.SnapshotId), State: deref(v.State), Root: v.Root}
		if len(v.Attachments) > 0 {
			a := v.Attachments[0]
			d.Instance, d.Device, d.Attachment = deref(a.InstanceId), deref(a.Device), deref(a.State)
		}
		w.Volumes = append(w.Volumes, d)
	}
	snaps, err := listAll[snapshotRecord](tx, sc, kindSnapshot)
	if err != nil {
		return err
	}
	for _, s := range snaps {
		w.Snapshots = append(w.Snapshots, &desired.VolumeSnapshot{ID: *s.SnapshotId, Account: sc.account, Region: sc.region,
			Volume: deref(s.VolumeId), Source: s.Source, SizeGiB: *s.VolumeSize, State: deref(s.State)})
	}
	return nil
}

// projection is one account's and region's part of a snapshot as it is
// built: each kind of resource is projected in turn onto the VPCs, and
// later kinds look up what earlier ones found.
type projection struct {
	s    *Service
	tx   *store.Tx
	sc   scope
	w    *desired.World
	vpcs map[string]*desired.VPC // by id
	enis []*networkInterfaceRecord
	// The route table and network ACL of each VPC (main) and of each
	// subnet associated with one explicitly.
	mainRT, mainACL, subnetRT, subnetACL map[string]string
	natOfENI                             map[string]string // the NAT gateway an ENI belongs to
	live                                 map[string]bool   // instances that are not terminated
}

func (s *Service) snapshotScope(tx *store.Tx, sc scope, w *desired.World, peerings map[string]*desired.Peering) error {
	enis, err := listAll[networkInterfaceRecord](tx, sc, kindENI)
	if err != nil {
		return err
	}
	p := &projection{
		s: s, tx: tx, sc: sc, w: w, vpcs: map[string]*desired.VPC{}, enis: enis,
		mainRT: map[string]string{}, mainACL: map[string]string{}, subnetRT: map[string]string{}, subnetACL: map[string]string{},
		natOfENI: map[string]string{}, live: map[string]bool{},
	}
	for _, part := range []func() error{
		p.vpcList, p.routeTables, p.networkACLs, p.subnets, p.securityGroups,
		p.internetGateways, p.natGateways, p.instances, p.networkInterfaces, p.bakes,
		func() error { return p.peerings(peerings) },
	} {
		if err := part(); err != nil {
			return err
		}
	}
	return nil
}

func (p *projection) vpcList() error {
	vpcs, err := listAll[vpcRecord](p.tx, p.sc, kindVPC)
	if err != nil {
		return err
	}
	for _, v := range vpcs {
		tv := &desired.VPC{ID: *v.VpcId, Account: p.sc.account, Region: p.sc.region, DNSSupport: v.EnableDNSSupport, DNSHostnames: v.EnableDNSHostnames}
		for _, a := range v.CidrBlockAssociationSet {
			if a.CidrBlockState != nil && deref(a.CidrBlockState.State) != "associated" {
				continue
			}
			if c, err := netip.ParsePrefix(deref(a.CidrBlock)); err == nil {
				tv.CIDRs = append(tv.CIDRs, c)
			}
		}
		if len(tv.CIDRs) == 0 {
			if c, err := netip.ParsePrefix(deref(v.CidrBlock)); err == nil {
				tv.CIDRs = append(tv.CIDRs, c)
			}
		}
		if id := deref(v.DhcpOptionsId); id != "" && id != "default" {
			d, ok, err := store.Get[dhcpOptionsRecord](p.tx, p.sc.key(kindDHCP, id))
			if err != nil {
				return err
			}
			if ok {
				tv.DHCP = dhcpOf(d)
			}
		}
		p.vpcs[tv.ID] = tv
		p.w.VPCs = append(p.w.VPCs, tv)
	}
	return nil
}

// dhcpOf is what a DHCP options set gives the instances.
func dhcpOf(d *dhcpOptionsRecord) *desired.DHCPOptions {
	out := &desired.DHCPOptions{}
	for _, c := range d.DhcpConfigurations {
		var vals []string
		for _, v := range c.Values {
			vals = append(vals, deref(v.Value))
		}
		switch deref(c.Key) {
		case "domain-name":
			out.DomainName = strings.Join(vals, " ")
		case "domain-name-servers":
			out.DomainNameServers = vals
		}
	}
	return out
}

func (p *projection) routeTables() error {
	rts, err := listAll[routeTableRecord](p.tx, p.sc, kindRouteTbl)
	if err != nil {
		return err
	}
	states := p.s.newRouteStates(p.tx, p.sc)
	eniOfInstance := map[string]string{}
	for _, e := range p.enis {
		if a := e.Attachment; a != nil && a.InstanceId != nil && deref64(a.DeviceIndex) == 0 {
			eniOfInstance[*a.InstanceId] = *e.NetworkInterfaceId
		}
	}
	for _, rt := range rts {
		v := p.vpcs[deref(rt.VpcId)]
		if v == nil {
			continue
		}
		trt := &desired.RouteTable{ID: *rt.RouteTableId}
		for _, a := range rt.Associations {
			switch {
			case derefBool(a.Main):
				p.mainRT[v.ID] = trt.ID
			case a.SubnetId != nil:
				p.subnetRT[*a.SubnetId] = trt.ID
			}
		}
		for _, r := range rt.Routes {
			dst, err := netip.ParsePrefix(deref(r.DestinationCidrBlock))
			if err != nil {
				continue // IPv6 and prefix-list routes do not reach the data plane
			}
			st, err := states.state(rt, r)
			if err != nil {
				return err
			}
			tr := desired.Route{Dst: dst}
			tr.Target, tr.TargetID = routeTarget(r, st, eniOfInstance)
			trt.Routes = append(trt.Routes, tr)
		}
		v.RouteTables = append(v.RouteTables, trt)
	}
	return nil
}

// routeTarget is where a route in state st sends its traffic.
func routeTarget(r *ec2api.Route, st string, eniOfInstance map[string]string) (desired.TargetKind, string) {
	switch {
	case deref(r.GatewayId) == "local":
		return desired.TargetLocal, ""
	case st != "active":
		return desired.TargetBlackhole, ""
	case strings.HasPrefix(deref(r.GatewayId), "igw-"):
		return desired.TargetIGW, *r.GatewayId
	case r.NatGatewayId != nil:
		return desired.TargetNAT, *r.NatGatewayId
	case r.VpcPeeringConnectionId != nil:
		return desired.TargetPeering, *r.VpcPeeringConnectionId
	case r.NetworkInterfaceId != nil:
		return desired.TargetENI, *r.NetworkInterfaceId
	case r.InstanceId != nil:
		return desired.TargetENI, eniOfInstance[*r.InstanceId]
	}
	return desired.TargetBlackhole, ""
}

func (p *projection) networkACLs() error {
	acls, err := listAll[networkACLRecord](p.tx, p.sc, kindNACL)
	if err != nil {
		return err
	}
	for _, a := range acls {
		v := p.vpcs[deref(a.VpcId)]
		if v == nil {
			continue
		}
		ta := &desired.NetworkACL{ID: *a.NetworkAclId}
		if derefBool(a.IsDefault) {
			p.mainACL[v.ID] = ta.ID
		}
		for _, as := range a.Associations {
			if as.SubnetId != nil {
				p.subnetACL[*as.SubnetId] = ta.ID
			}
		}
		entries := slices.Clone(a.Entries)
		slices.SortFunc(entries, func(x, y *ec2api.NetworkAclEntry) int { return int(deref64(x.RuleNumber) - deref64(y.RuleNumber)) })
		for _, e := range entries {
			cidr, err := netip.ParsePrefix(deref(e.CidrBlock))
			if err != nil || deref64(e.RuleNumber) >= 32767 {
				continue // IPv6 entries, and the final deny that every ACL ends with anyway
			}
			te := desired.ACLEntry{Number: int(deref64(e.RuleNumber)), Protocol: protoNum(deref(e.Protocol)), CIDR: cidr, Allow: deref(e.RuleAction) == "allow", ICMPType: -1, ICMPCode: -1}
			if pr := e.PortRange; pr != nil {
				te.FromPort, te.ToPort = int(deref64(pr.From)), int(deref64(pr.To))
			}
			if ic := e.IcmpTypeCode; ic != nil {
				te.ICMPType, te.ICMPCode = int(deref64(ic.Type)), int(deref64(ic.Code))
			}
			if derefBool(e.Egress) {
				ta.Egress = append(ta.Egress, te)
			} else {
				ta.Ingress = append(ta.Ingress, te)
			}
		}
		v.NetworkACLs = append(v.NetworkACLs, ta)
	}
	return nil
}

// subnets come after the route tables and ACLs: a subnet without its own
// uses its VPC's main ones.
func (p *projection) subnets() error {
	subnets, err := listAll[subnetRecord](p.tx, p.sc, kindSubnet)
	if err != nil {
		return err
	}
	for _, sn := range subnets {
		v := p.vpcs[deref(sn.VpcId)]
		cidr, err := netip.ParsePrefix(deref(sn.CidrBlock))
		if v == nil || err != nil {
			continue
		}
		ts := &desired.Subnet{ID: *sn.SubnetId, AZ: deref(sn.AvailabilityZone), CIDR: cidr, RouteTable: p.subnetRT[*sn.SubnetId], NetworkACL: p.subnetACL[*sn.SubnetId]}
		if ts.RouteTable == "" {
			ts.RouteTable = p.mainRT[v.ID]
		}
		if ts.NetworkACL == "" {
			ts.NetworkACL = p.mainACL[v.ID]
		}
		v.Subnets = append(v.Subnets, ts)
	}
	return nil
}

func (p *projection) securityGroups() error {
	sgs, err := listAll[securityGroupRecord](p.tx, p.sc, kindSG)
	if err != nil {
		return err
	}
	for _, g := range sgs {
		v := p.vpcs[deref(g.VpcId)]
		if v == nil {
			continue
		}
		tg := &desired.SecurityGroup{ID: *g.GroupId}
		for _, r := range g.Rules {
			tr := desired.SGRule{ID: deref(r.SecurityGroupRuleId), Protocol: protoNum(deref(r.IpProtocol)), FromPort: int(deref64(r.FromPort)), ToPort: int(deref64(r.ToPort))}
			switch {
			case r.CidrIpv4 != nil:
				c, err := netip.ParsePrefix(*r.CidrIpv4)
				if err != nil {
					continue
				}
				tr.CIDRs = []netip.Prefix{c}
			case r.ReferencedGroupInfo != nil && r.ReferencedGroupInfo.GroupId != nil:
				tr.Groups = []string{*r.ReferencedGroupInfo.GroupId}
			default:
				continue // IPv6 and prefix lists
			}
			if derefBool(r.IsEgress) {
				tg.Egress = append(tg.Egress, tr)
			} else {
				tg.Ingress = append(tg.Ingress, tr)
			}
		}
		v.SecurityGroups = append(v.SecurityGroups, tg)
	}
	return nil
}

func (p *projection) internetGateways() error {
	igws, err := listAll[internetGatewayRecord](p.tx, p.sc, kindIGW)
	if err != nil {
		return err
	}
	for _, g := range igws {
		if v := p.vpcs[igwAttachedTo(g)]; v != nil {
			v.InternetGateway = *g.InternetGatewayId
		}
	}
	return nil
}

// natGateways projects the available ones only: the others pass nothing.
func (p *projection) natGateways() error {
	nats, err := listAll[natGatewayRecord](p.tx, p.sc, kindNAT)
	if err != nil {
		return err
	}
	for _, n := range nats {
		v := p.vpcs[deref(n.VpcId)]
		if v == nil || natState(n, p.s.now()) != "available" {
			continue
		}
		p.natOfENI[n.ENI] = *n.NatGatewayId
		v.NATGateways = append(v.NATGateways, &desired.NATGateway{ID: *n.NatGatewayId, Subnet: deref(n.SubnetId), ENI: n.ENI, Public: deref(n.ConnectivityType) != "private"})
	}
	return nil
}

func (p *projection) instances() error {
	instances, err := listAll[instanceRecord](p.tx, p.sc, kindInstance)
	if err != nil {
		return err
	}
	for _, r := range instances {
		if instanceStateName(r) == stateTerminated || r.VpcId == nil {
			continue
		}
		p.live[*r.InstanceId] = true
		ti, err := p.s.snapshotInstance(p.tx, p.sc, r)
		if err != nil {
			return err
		}
		p.w.Instances = append(p.w.Instances, ti)
	}
	return nil
}

// bakes are the pending images whose layer the data plane makes from
// their instance's disk.
func (p *projection) bakes() error {
	if !p.s.dataPlane {
		return nil
	}
	images, err := listAll[imageRecord](p.tx, p.sc, kindImage)
	if err != nil {
		return err
	}
	for _, r := range images {
		if deref(r.State) == "pending" && r.SourceDisk != "" {
			p.w.Bakes = append(p.w.Bakes, &desired.Bake{ImageID: *r.ImageId, Account: p.sc.account, Region: p.sc.region, Instance: r.SourceDisk})
		}
	}
	return nil
}

// networkInterfaces come after the NAT gateways and instances, which
// own them.
func (p *projection) networkInterfaces() error {
	for _, e := range p.enis {
		v := p.vpcs[deref(e.VpcId)]
		if v == nil {
			continue
		}
		te := &desired.ENI{ID: *e.NetworkInterfaceId, Subnet: deref(e.SubnetId), SourceDestCheck: e.SourceDestCheck == nil || *e.SourceDestCheck, PublicIPs: map[netip.Addr]netip.Addr{}}
		te.MAC, _ = net.ParseMAC(deref(e.MacAddress))
		for _, ip := range e.PrivateIpAddresses {
			a, err := netip.ParseAddr(deref(ip.PrivateIpAddress))
			if err != nil {
				continue
			}
			if derefBool(ip.Primary) {
				te.PrivateIPs = slices.Insert(te.PrivateIPs, 0, a)
			} else {
				te.PrivateIPs = append(te.PrivateIPs, a)
			}
			if as := ip.Association; as != nil {
				if pub, err := netip.ParseAddr(deref(as.PublicIp)); err == nil {
					te.PublicIPs[a] = pub
				}
			}
		}
		for _, g := range e.Groups {
			te.Groups = append(te.Groups, deref(g.GroupId))
		}
		switch {
		case e.ServiceOwner != "":
			// A service's own interface (a load balancer node, a database
			// node) lives in a namespace of its own.
			te.OwnerKind, te.OwnerID = desired.OwnerKind(e.ServiceOwner), te.ID
			te.Cluster = e.ServiceCluster
		case p.natOfENI[te.ID] != "":
			te.OwnerKind, te.OwnerID = desired.OwnerNATGateway, p.natOfENI[te.ID]
		case e.Attachment != nil && e.Attachment.InstanceId != nil && p.live[*e.Attachment.InstanceId]:
			te.OwnerKind, te.OwnerID = desired.OwnerInstance, *e.Attachment.InstanceId
			te.DeviceIndex = int(deref64(e.Attachment.DeviceIndex))
		}
		v.ENIs = append(v.ENIs, te)
	}
	return nil
}

// peerings are gathered across scopes, as both ends' scopes hold one.
func (p *projection) peerings(into map[string]*desired.Peering) error {
	ps, err := listAll[peeringRecord](p.tx, p.sc, kindPeering)
	if err != nil {
		return err
	}
	for _, pc := range ps {
		if peeringStatus(pc, p.s.now()) != "active" || pc.RequesterVpcInfo == nil || pc.AccepterVpcInfo == nil {
			continue
		}
		into[*pc.VpcPeeringConnectionId] = &desired.Peering{ID: *pc.VpcPeeringConnectionId, RequesterVPC: deref(pc.RequesterVpcInfo.VpcId), AccepterVPC: deref(pc.AccepterVpcInfo.VpcId)}
	}
	return nil
}

func (s *Service) snapshotInstance(tx *store.Tx, sc scope, r *instanceRecord) (*desired.Instance, error) {
	attrs, err := loadInstanceAttrs(tx, sc, *r.InstanceId)
	if err != nil {
		return nil, err
	}
	ti := &desired.Instance{
		ID: *r.InstanceId, Account: sc.account, Region: sc.region, VPC: deref(r.VpcId), State: instanceStateName(r),
		ImageID: deref(r.ImageId), InstanceType: deref(r.InstanceType), VCPUs: int(r.VCPUs), MemoryMiB: int(r.MemoryMiB),
		KeyName: deref(r.KeyName), ReservationID: attrs.ReservationID, LaunchIndex: int(deref64(r.AmiLaunchIndex)),
		PrivateDNSName: deref(r.PrivateDnsName), PublicDNSName: deref(r.PublicDnsName), Reboots: r.Reboots,
	}
	if r.Placement != nil {
		ti.AZ = deref(r.Placement.AvailabilityZone)
	}
	for _, t := range r.Tags {
		if deref(t.Key) == "aws:autoscaling:groupName" {
			ti.AutoScalingGroup = deref(t.Value)
		}
	}
	if m := r.MetadataOptions; m != nil {
		ti.MetadataTokens, ti.MetadataEndpoint = deref(m.HttpTokens), deref(m.HttpEndpoint)
	}
	if r.UserData != "" {
		ti.UserData, _ = base64.StdEncoding.DecodeString(r.UserData)
	}
	for _, ni := range r.NetworkInterfaces {
		idx := int(deref64(ni.Attachment.DeviceIndex))
		for len(ti.ENIs) <= idx {
			ti.ENIs = append(ti.ENIs, "")
		}
		ti.ENIs[idx] = deref(ni.NetworkInterfaceId)
	}
	if p := r.IamInstanceProfile; p != nil {
		ti.InstanceProfileARN = deref(p.Arn)
		// With IAM, IMDS asks it for the profile's role at each request.
		// Without, the role is taken to have the profile's name, as the
		// console and CloudFormation's usual templates make it.
		if s.profiles == nil {
			ti.Role = profileName(ti.InstanceProfileARN)
		}
	}
	if ti.KeyName != "" {
		if k, err := findKeyPair(tx, sc, ti.KeyName); err == nil {
			ti.PublicKey = deref(k.PublicKey)
		}
	}
	ti.Image.Family, ti.Image.Baked = imageLayers(tx, sc, ti.ImageID)
	ti.LoginUser = ami.DefaultUser(ti.Image.Family)
	return ti, nil
}

// protoNum turns an EC2 protocol ("tcp", "6", "-1", "all") into its
// number; -1 is every protocol.
func protoNum(p string) int {
	switch strings.ToLower(p) {
	case "-1", "all", "":
		return desired.ProtoAll
	case "tcp":
		return desired.ProtoTCP
	case "udp":
		return desired.ProtoUDP
	case "icmp":
		return desired.ProtoICMP
	}
	if n, err := strconv.Atoi(p); err == nil {
		return n
	}
	return desired.ProtoAll
}
