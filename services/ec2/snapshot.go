package ec2

import (
	"encoding/base64"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Snapshot reads every account's and region's network and instances as the
// data plane needs them, in one consistent view of the store.
func (s *Service) Snapshot() (*desired.World, error) {
	w := &desired.World{}
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindVPC.store)
		if err != nil {
			return err
		}
		peerings := map[string]*desired.Peering{}
		for _, p := range scopes {
			sc := scope{account: p[0], region: p[1]}
			if err := s.snapshotScope(tx, sc, w, peerings); err != nil {
				return err
			}
		}
		for _, id := range slices.Sorted(mapKeys(peerings)) {
			w.Peerings = append(w.Peerings, peerings[id])
		}
		return nil
	})
	return w, err
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func (s *Service) snapshotScope(tx *store.Tx, sc scope, w *desired.World, peerings map[string]*desired.Peering) error {
	vpcs, err := listAll[vpcRecord](tx, sc, kindVPC)
	if err != nil {
		return err
	}
	byID := map[string]*desired.VPC{}
	for _, v := range vpcs {
		tv := &desired.VPC{ID: *v.VpcId, Account: sc.account, Region: sc.region, DNSSupport: v.EnableDNSSupport, DNSHostnames: v.EnableDNSHostnames}
		for _, a := range v.CidrBlockAssociationSet {
			if a.CidrBlockState != nil && deref(a.CidrBlockState.State) != "associated" {
				continue
			}
			if p, err := netip.ParsePrefix(deref(a.CidrBlock)); err == nil {
				tv.CIDRs = append(tv.CIDRs, p)
			}
		}
		if len(tv.CIDRs) == 0 {
			if p, err := netip.ParsePrefix(deref(v.CidrBlock)); err == nil {
				tv.CIDRs = append(tv.CIDRs, p)
			}
		}
		byID[tv.ID] = tv
		w.VPCs = append(w.VPCs, tv)
	}
	mainRT, mainACL := map[string]string{}, map[string]string{}
	subnetRT, subnetACL := map[string]string{}, map[string]string{}

	rts, err := listAll[routeTableRecord](tx, sc, kindRouteTbl)
	if err != nil {
		return err
	}
	states := s.newRouteStates(tx, sc)
	eniOfInstance := map[string]string{}
	enis, err := listAll[networkInterfaceRecord](tx, sc, kindENI)
	if err != nil {
		return err
	}
	for _, e := range enis {
		if a := e.Attachment; a != nil && a.InstanceId != nil && deref64(a.DeviceIndex) == 0 {
			eniOfInstance[*a.InstanceId] = *e.NetworkInterfaceId
		}
	}
	for _, rt := range rts {
		v := byID[deref(rt.VpcId)]
		if v == nil {
			continue
		}
		trt := &desired.RouteTable{ID: *rt.RouteTableId}
		for _, a := range rt.Associations {
			switch {
			case derefBool(a.Main):
				mainRT[v.ID] = trt.ID
			case a.SubnetId != nil:
				subnetRT[*a.SubnetId] = trt.ID
			}
		}
		for _, r := range rt.Routes {
			dst, err := netip.ParsePrefix(deref(r.DestinationCidrBlock))
			if err != nil {
				continue // IPv6 and prefix-list routes do not reach the data plane
			}
			tr := desired.Route{Dst: dst}
			st, err := states.state(rt, r)
			if err != nil {
				return err
			}
			switch {
			case deref(r.GatewayId) == "local":
				tr.Target = desired.TargetLocal
			case st != "active":
				tr.Target = desired.TargetBlackhole
			case strings.HasPrefix(deref(r.GatewayId), "igw-"):
				tr.Target, tr.TargetID = desired.TargetIGW, *r.GatewayId
			case r.NatGatewayId != nil:
				tr.Target, tr.TargetID = desired.TargetNAT, *r.NatGatewayId
			case r.VpcPeeringConnectionId != nil:
				tr.Target, tr.TargetID = desired.TargetPeering, *r.VpcPeeringConnectionId
			case r.NetworkInterfaceId != nil:
				tr.Target, tr.TargetID = desired.TargetENI, *r.NetworkInterfaceId
			case r.InstanceId != nil:
				tr.Target, tr.TargetID = desired.TargetENI, eniOfInstance[*r.InstanceId]
			default:
				tr.Target = desired.TargetBlackhole
			}
			trt.Routes = append(trt.Routes, tr)
		}
		v.RouteTables = append(v.RouteTables, trt)
	}

	acls, err := listAll[networkACLRecord](tx, sc, kindNACL)
	if err != nil {
		return err
	}
	for _, a := range acls {
		v := byID[deref(a.VpcId)]
		if v == nil {
			continue
		}
		ta := &desired.NetworkACL{ID: *a.NetworkAclId}
		if derefBool(a.IsDefault) {
			mainACL[v.ID] = ta.ID
		}
		for _, as := range a.Associations {
			if as.SubnetId != nil {
				subnetACL[*as.SubnetId] = ta.ID
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

	subnets, err := listAll[subnetRecord](tx, sc, kindSubnet)
	if err != nil {
		return err
	}
	for _, sn := range subnets {
		v := byID[deref(sn.VpcId)]
		cidr, err := netip.ParsePrefix(deref(sn.CidrBlock))
		if v == nil || err != nil {
			continue
		}
		ts := &desired.Subnet{ID: *sn.SubnetId, AZ: deref(sn.AvailabilityZone), CIDR: cidr, RouteTable: subnetRT[*sn.SubnetId], NetworkACL: subnetACL[*sn.SubnetId]}
		if ts.RouteTable == "" {
			ts.RouteTable = mainRT[v.ID]
		}
		if ts.NetworkACL == "" {
			ts.NetworkACL = mainACL[v.ID]
		}
		v.Subnets = append(v.Subnets, ts)
	}

	sgs, err := listAll[securityGroupRecord](tx, sc, kindSG)
	if err != nil {
		return err
	}
	for _, g := range sgs {
		v := byID[deref(g.VpcId)]
		if v == nil {
			continue
		}
		tg := &desired.SecurityGroup{ID: *g.GroupId}
		for _, r := range g.Rules {
			tr := desired.SGRule{ID: deref(r.SecurityGroupRuleId), Protocol: protoNum(deref(r.IpProtocol)), FromPort: int(deref64(r.FromPort)), ToPort: int(deref64(r.ToPort))}
			switch {
			case r.CidrIpv4 != nil:
				p, err := netip.ParsePrefix(*r.CidrIpv4)
				if err != nil {
					continue
				}
				tr.CIDRs = []netip.Prefix{p}
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

	igws, err := listAll[internetGatewayRecord](tx, sc, kindIGW)
	if err != nil {
		return err
	}
	for _, g := range igws {
		if v := byID[igwAttachedTo(g)]; v != nil {
			v.InternetGateway = *g.InternetGatewayId
		}
	}

	natOfENI := map[string]string{}
	nats, err := listAll[natGatewayRecord](tx, sc, kindNAT)
	if err != nil {
		return err
	}
	for _, n := range nats {
		v := byID[deref(n.VpcId)]
		if v == nil || natState(n, s.now()) != "available" {
			continue
		}
		natOfENI[n.ENI] = *n.NatGatewayId
		v.NATGateways = append(v.NATGateways, &desired.NATGateway{ID: *n.NatGatewayId, Subnet: deref(n.SubnetId), ENI: n.ENI, Public: deref(n.ConnectivityType) != "private"})
	}

	instances, err := listAll[instanceRecord](tx, sc, kindInstance)
	if err != nil {
		return err
	}
	live := map[string]bool{}
	for _, r := range instances {
		st := instanceStateName(r)
		if st == stateTerminated || r.VpcId == nil {
			continue
		}
		live[*r.InstanceId] = true
		ti, err := s.snapshotInstance(tx, sc, r)
		if err != nil {
			return err
		}
		w.Instances = append(w.Instances, ti)
	}

	for _, e := range enis {
		v := byID[deref(e.VpcId)]
		if v == nil {
			continue
		}
		te := &desired.ENI{ID: *e.NetworkInterfaceId, Subnet: deref(e.SubnetId), SourceDestCheck: e.SourceDestCheck == nil || *e.SourceDestCheck, PublicIPs: map[netip.Addr]netip.Addr{}}
		te.MAC, _ = net.ParseMAC(deref(e.MacAddress))
		for _, p := range e.PrivateIpAddresses {
			a, err := netip.ParseAddr(deref(p.PrivateIpAddress))
			if err != nil {
				continue
			}
			if derefBool(p.Primary) {
				te.PrivateIPs = slices.Insert(te.PrivateIPs, 0, a)
			} else {
				te.PrivateIPs = append(te.PrivateIPs, a)
			}
			if as := p.Association; as != nil {
				if pub, err := netip.ParseAddr(deref(as.PublicIp)); err == nil {
					te.PublicIPs[a] = pub
				}
			}
		}
		for _, g := range e.Groups {
			te.Groups = append(te.Groups, deref(g.GroupId))
		}
		switch {
		case e.ServiceOwner == string(desired.OwnerLoadBalancer):
			te.OwnerKind, te.OwnerID = desired.OwnerLoadBalancer, te.ID
		case natOfENI[te.ID] != "":
			te.OwnerKind, te.OwnerID = desired.OwnerNATGateway, natOfENI[te.ID]
		case e.Attachment != nil && e.Attachment.InstanceId != nil && live[*e.Attachment.InstanceId]:
			te.OwnerKind, te.OwnerID = desired.OwnerInstance, *e.Attachment.InstanceId
			te.DeviceIndex = int(deref64(e.Attachment.DeviceIndex))
		}
		v.ENIs = append(v.ENIs, te)
	}

	ps, err := listAll[peeringRecord](tx, sc, kindPeering)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if peeringStatus(p, s.now()) != "active" || p.RequesterVpcInfo == nil || p.AccepterVpcInfo == nil {
			continue
		}
		peerings[*p.VpcPeeringConnectionId] = &desired.Peering{ID: *p.VpcPeeringConnectionId, RequesterVPC: deref(p.RequesterVpcInfo.VpcId), AccepterVPC: deref(p.AccepterVpcInfo.VpcId)}
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
		PrivateDNSName: deref(r.PrivateDnsName), PublicDNSName: deref(r.PublicDnsName),
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
		// IAM is not modelled yet: the role is taken to have the profile's
		// name, as the console and CloudFormation's usual templates make it.
		ti.Role = ti.InstanceProfileARN[strings.LastIndexByte(ti.InstanceProfileARN, '/')+1:]
	}
	if ti.KeyName != "" {
		if k, err := findKeyPair(tx, sc, ti.KeyName); err == nil {
			ti.PublicKey = deref(k.PublicKey)
		}
	}
	ti.LoginUser = "ec2-user"
	if img, err := findImage(tx, sc, ti.ImageID); err == nil {
		name := strings.ToLower(deref(img.Name))
		switch {
		case strings.Contains(name, "ubuntu"):
			ti.LoginUser = "ubuntu"
		case strings.Contains(name, "debian"):
			ti.LoginUser = "admin"
		}
	}
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
