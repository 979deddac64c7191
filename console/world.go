package console

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// World is one account's and region's diagram: what GET
// /_cloudbox/console/api/world answers.
type World struct {
	Account       string          `json:"account"`
	Region        string          `json:"region"`
	VPCs          []*VPC          `json:"vpcs"`
	LoadBalancers []*LoadBalancer `json:"loadBalancers"`
	Peerings      []Peering       `json:"peerings"`
	Zones         []*Zone         `json:"zones"`
}

// VPC is a VPC with its gateways and its availability zones.
type VPC struct {
	ID              string `json:"id"`
	Name            string `json:"name,omitempty"`
	CIDR            string `json:"cidr"`
	State           string `json:"state"`
	Default         bool   `json:"default,omitempty"`
	InternetGateway string `json:"internetGateway,omitempty"`
	AZs             []*AZ  `json:"azs"`
}

// AZ is the part of a VPC in one availability zone.
type AZ struct {
	Name    string    `json:"name"`
	Subnets []*Subnet `json:"subnets"`
}

// Subnet is a subnet and what runs in it. Public: its route table (its
// own, else the VPC's main one) sends some destination to an internet
// gateway.
type Subnet struct {
	ID         string      `json:"id"`
	Name       string      `json:"name,omitempty"`
	CIDR       string      `json:"cidr"`
	Public     bool        `json:"public"`
	RouteTable string      `json:"routeTable,omitempty"`
	Instances  []*Instance `json:"instances"`
	Nodes      []*Node     `json:"nodes"`
}

// Instance is an EC2 instance in its subnet.
type Instance struct {
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"`
	State     string `json:"state"`
	Type      string `json:"type"`
	PrivateIP string `json:"privateIp,omitempty"`
	PublicIP  string `json:"publicIp,omitempty"`
}

// Node is something else with an interface in a subnet: a NAT gateway, a
// load balancer's node, an RDS or ElastiCache node. Resource is what the
// resource endpoint describes for it.
type Node struct {
	Kind     string `json:"kind"` // nat-gateway, load-balancer, rds, elasticache
	Resource string `json:"resource"`
	Label    string `json:"label"`
	IP       string `json:"ip,omitempty"`
	State    string `json:"state,omitempty"`
	Role     string `json:"role,omitempty"`
}

// LoadBalancer is a load balancer, its nodes and its target groups' targets.
type LoadBalancer struct {
	ARN          string         `json:"arn"`
	Name         string         `json:"name"`
	DNSName      string         `json:"dnsName"`
	Type         string         `json:"type"`
	Scheme       string         `json:"scheme"`
	State        string         `json:"state"`
	VPC          string         `json:"vpc"`
	Nodes        []LBNode       `json:"nodes"`
	TargetGroups []*TargetGroup `json:"targetGroups"`
}

// LBNode is one node of a load balancer, in a subnet.
type LBNode struct {
	Subnet    string `json:"subnet"`
	AZ        string `json:"az"`
	PrivateIP string `json:"privateIp,omitempty"`
	PublicIP  string `json:"publicIp,omitempty"`
}

// TargetGroup is a target group a load balancer forwards to.
type TargetGroup struct {
	ARN      string   `json:"arn"`
	Name     string   `json:"name"`
	Protocol string   `json:"protocol,omitempty"`
	Port     int      `json:"port,omitempty"`
	Targets  []Target `json:"targets"`
}

// Target is a registered target and its health as DescribeTargetHealth
// gives it.
type Target struct {
	ID          string `json:"id"`
	Port        int    `json:"port,omitempty"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
}

// Peering is a VPC peering connection with one side in the region.
type Peering struct {
	ID              string `json:"id"`
	Status          string `json:"status"`
	RequesterVPC    string `json:"requesterVpc"`
	RequesterRegion string `json:"requesterRegion"`
	AccepterVPC     string `json:"accepterVpc"`
	AccepterRegion  string `json:"accepterRegion"`
}

// Zone is a Route 53 hosted zone: public, or private to VPCs (only those
// with a VPC of the region are shown).
type Zone struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Private bool     `json:"private"`
	VPCs    []string `json:"vpcs,omitempty"`
	Records []Record `json:"records"`
}

// Record is a record set: its values, or the alias's target.
type Record struct {
	Name   string   `json:"name"`
	Type   string   `json:"type"`
	Values []string `json:"values"`
}

// Scope is an account and region that holds resources.
type Scope struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// scopes answers the selectors.
func (c *Console) scopes(w http.ResponseWriter, r *http.Request) {
	out, err := c.knownScopes()
	if err != nil {
		fail(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	writeJSON(w, out)
}

// knownScopes are the accounts and regions some service contributes to
// the world, in order.
func (c *Console) knownScopes() ([]Scope, error) {
	seen := map[Scope]bool{}
	err := c.cfg.Store.View(func(tx *store.Tx) error {
		for _, ct := range c.cfg.Contributors {
			scs, err := ct.Scopes(tx)
			if err != nil {
				return err
			}
			for _, sc := range scs {
				if sc.Account != "" && sc.Region != "" {
					seen[Scope{sc.Account, sc.Region}] = true
				}
			}
		}
		return nil
	})
	out := make([]Scope, 0, len(seen))
	for sc := range seen {
		out = append(out, sc)
	}
	slices.SortFunc(out, func(a, b Scope) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return out, err
}

func (c *Console) world(w http.ResponseWriter, r *http.Request) {
	account, region, known, ok := c.scopeOf(w, r)
	if !ok {
		return
	}
	if !known {
		writeJSON(w, emptyWorld(account, region))
		return
	}
	wd, err := c.buildWorld(r.Context(), account, region)
	if err != nil {
		failAPI(w, err)
		return
	}
	writeJSON(w, wd)
}

func emptyWorld(account, region string) *World {
	return &World{Account: account, Region: region, VPCs: []*VPC{}, LoadBalancers: []*LoadBalancer{}, Peerings: []Peering{}, Zones: []*Zone{}}
}

// buildWorld assembles the diagram from the services' Describe answers,
// and places in their subnets what only the desired world places: the
// load balancers' nodes and the database and cache nodes.
func (c *Console) buildWorld(ctx context.Context, account, region string) (*World, error) {
	wd := emptyWorld(account, region)
	ec2 := func(op string, params map[string]any) (map[string]any, error) {
		return c.call(ctx, account, region, "ec2", op, params)
	}
	vpcs, err := ec2("DescribeVpcs", nil)
	if err != nil {
		return nil, err
	}
	subnets, err := ec2("DescribeSubnets", nil)
	if err != nil {
		return nil, err
	}
	tables, err := ec2("DescribeRouteTables", nil)
	if err != nil {
		return nil, err
	}
	igws, err := ec2("DescribeInternetGateways", nil)
	if err != nil {
		return nil, err
	}
	nats, err := ec2("DescribeNatGateways", nil)
	if err != nil {
		return nil, err
	}
	reservations, err := ec2("DescribeInstances", nil)
	if err != nil {
		return nil, err
	}
	peerings, err := ec2("DescribeVpcPeeringConnections", nil)
	if err != nil {
		return nil, err
	}

	byVPC := map[string]*VPC{}
	bySubnet := map[string]*Subnet{}
	for _, v := range list(vpcs, "Vpcs") {
		vpc := &VPC{ID: str(v, "VpcId"), Name: nameTag(v), CIDR: str(v, "CidrBlock"), State: str(v, "State"), AZs: []*AZ{}}
		vpc.Default, _ = v["IsDefault"].(bool)
		wd.VPCs = append(wd.VPCs, vpc)
		byVPC[vpc.ID] = vpc
	}
	for _, g := range list(igws, "InternetGateways") {
		for _, a := range list(g, "Attachments") {
			if vpc := byVPC[str(a, "VpcId")]; vpc != nil {
				vpc.InternetGateway = str(g, "InternetGatewayId")
			}
		}
	}
	// The route table of each subnet: its explicit association, else the
	// main table of its VPC; public when a route goes to an internet
	// gateway.
	explicit, main := map[string]map[string]any{}, map[string]map[string]any{}
	for _, t := range list(tables, "RouteTables") {
		for _, a := range list(t, "Associations") {
			if sn := str(a, "SubnetId"); sn != "" {
				explicit[sn] = t
			}
			if b, _ := a["Main"].(bool); b {
				main[str(t, "VpcId")] = t
			}
		}
	}
	for _, s := range list(subnets, "Subnets") {
		vpc := byVPC[str(s, "VpcId")]
		if vpc == nil {
			continue
		}
		sn := &Subnet{ID: str(s, "SubnetId"), Name: nameTag(s), CIDR: str(s, "CidrBlock"), Instances: []*Instance{}, Nodes: []*Node{}}
		t := explicit[sn.ID]
		if t == nil {
			t = main[vpc.ID]
		}
		if t != nil {
			sn.RouteTable = str(t, "RouteTableId")
			for _, rt := range list(t, "Routes") {
				if strings.HasPrefix(str(rt, "GatewayId"), "igw-") && str(rt, "State") != "blackhole" {
					sn.Public = true
				}
			}
		}
		azName := str(s, "AvailabilityZone")
		i := slices.IndexFunc(vpc.AZs, func(a *AZ) bool { return a.Name == azName })
		if i < 0 {
			vpc.AZs = append(vpc.AZs, &AZ{Name: azName})
			i = len(vpc.AZs) - 1
		}
		vpc.AZs[i].Subnets = append(vpc.AZs[i].Subnets, sn)
		bySubnet[sn.ID] = sn
	}
	// The VPCs the user made first, the default one last.
	slices.SortStableFunc(wd.VPCs, func(a, b *VPC) int { return cmp.Or(cmpBool(a.Default, b.Default), cmp.Compare(a.ID, b.ID)) })
	for _, vpc := range wd.VPCs {
		slices.SortFunc(vpc.AZs, func(a, b *AZ) int { return cmp.Compare(a.Name, b.Name) })
		for _, az := range vpc.AZs {
			// Public subnets first, as the tutorials draw them, then by address.
			slices.SortFunc(az.Subnets, func(a, b *Subnet) int {
				pa, _ := netip.ParsePrefix(a.CIDR)
				pb, _ := netip.ParsePrefix(b.CIDR)
				return cmp.Or(-cmpBool(a.Public, b.Public), pa.Addr().Compare(pb.Addr()))
			})
		}
	}
	for _, res := range list(reservations, "Reservations") {
		for _, in := range list(res, "Instances") {
			sn := bySubnet[str(in, "SubnetId")]
			if sn == nil {
				continue
			}
			sn.Instances = append(sn.Instances, &Instance{ID: str(in, "InstanceId"), Name: nameTag(in), State: str(in, "State", "Name"),
				Type: str(in, "InstanceType"), PrivateIP: str(in, "PrivateIpAddress"), PublicIP: str(in, "PublicIpAddress")})
		}
	}
	for _, n := range list(nats, "NatGateways") {
		if sn := bySubnet[str(n, "SubnetId")]; sn != nil {
			node := &Node{Kind: "nat-gateway", Resource: str(n, "NatGatewayId"), Label: cmp.Or(nameTag(n), str(n, "NatGatewayId")), State: str(n, "State"),
				Role: str(n, "ConnectivityType")}
			for _, a := range list(n, "NatGatewayAddresses") {
				node.IP = cmp.Or(str(a, "PublicIp"), str(a, "PrivateIp"))
			}
			sn.Nodes = append(sn.Nodes, node)
		}
	}
	for _, p := range list(peerings, "VpcPeeringConnections") {
		wd.Peerings = append(wd.Peerings, Peering{ID: str(p, "VpcPeeringConnectionId"), Status: str(p, "Status", "Code"),
			RequesterVPC: str(p, "RequesterVpcInfo", "VpcId"), RequesterRegion: str(p, "RequesterVpcInfo", "Region"),
			AccepterVPC: str(p, "AccepterVpcInfo", "VpcId"), AccepterRegion: str(p, "AccepterVpcInfo", "Region")})
	}

	world, err := c.snapshot()
	if err != nil {
		return nil, err
	}
	if err := c.loadBalancers(ctx, wd, world, bySubnet); err != nil {
		return nil, err
	}
	status, err := c.nodeStatus(ctx, account, region)
	if err != nil {
		return nil, err
	}
	placeSlots(wd, world, bySubnet, status)
	if err := c.zones(ctx, wd); err != nil {
		return nil, err
	}
	return wd, nil
}

// loadBalancers adds the load balancers with their target groups' health,
// and their nodes (where the desired world placed them) to their subnets.
func (c *Console) loadBalancers(ctx context.Context, wd *World, world *desired.World, bySubnet map[string]*Subnet) error {
	elb := func(op string, params map[string]any) (map[string]any, error) {
		return c.call(ctx, wd.Account, wd.Region, "elbv2", op, params)
	}
	lbs, err := elb("DescribeLoadBalancers", nil)
	if err != nil {
		return err
	}
	tgs, err := elb("DescribeTargetGroups", nil)
	if err != nil {
		return err
	}
	byARN := map[string]*LoadBalancer{}
	for _, l := range list(lbs, "LoadBalancers") {
		lb := &LoadBalancer{ARN: str(l, "LoadBalancerArn"), Name: str(l, "LoadBalancerName"), DNSName: str(l, "DNSName"), Type: str(l, "Type"),
			Scheme: str(l, "Scheme"), State: str(l, "State", "Code"), VPC: str(l, "VpcId"), Nodes: []LBNode{}, TargetGroups: []*TargetGroup{}}
		wd.LoadBalancers = append(wd.LoadBalancers, lb)
		byARN[lb.ARN] = lb
	}
	for _, dl := range world.LoadBalancers {
		lb := byARN[dl.ARN]
		if lb == nil || dl.Account != wd.Account || dl.Region != wd.Region {
			continue
		}
		for _, n := range dl.Nodes {
			node := LBNode{Subnet: n.Subnet, AZ: n.AZ}
			if n.PrivateIP.IsValid() {
				node.PrivateIP = n.PrivateIP.String()
			}
			if n.PublicIP.IsValid() {
				node.PublicIP = n.PublicIP.String()
			}
			lb.Nodes = append(lb.Nodes, node)
			if sn := bySubnet[n.Subnet]; sn != nil {
				sn.Nodes = append(sn.Nodes, &Node{Kind: "load-balancer", Resource: lb.ARN, Label: lb.Name, IP: node.PrivateIP, State: lb.State})
			}
		}
	}
	for _, t := range list(tgs, "TargetGroups") {
		tg := &TargetGroup{ARN: str(t, "TargetGroupArn"), Name: str(t, "TargetGroupName"), Protocol: str(t, "Protocol"), Port: num(t, "Port"), Targets: []Target{}}
		health, err := elb("DescribeTargetHealth", map[string]any{"TargetGroupArn": tg.ARN})
		if err != nil {
			return err
		}
		for _, h := range list(health, "TargetHealthDescriptions") {
			tg.Targets = append(tg.Targets, Target{ID: str(h, "Target", "Id"), Port: num(h["Target"], "Port"), State: str(h, "TargetHealth", "State"),
				Reason: str(h, "TargetHealth", "Reason"), Description: str(h, "TargetHealth", "Description")})
		}
		for _, a := range strs(t, "LoadBalancerArns") {
			if lb := byARN[a]; lb != nil {
				lb.TargetGroups = append(lb.TargetGroups, tg)
			}
		}
	}
	return nil
}

// nodeStatus is the status RDS and ElastiCache give their databases and
// cache clusters, by the resource names the diagram gives their nodes.
func (c *Console) nodeStatus(ctx context.Context, account, region string) (map[string]string, error) {
	out := map[string]string{}
	dbs, err := c.call(ctx, account, region, "rds", "DescribeDBInstances", nil)
	if err != nil {
		return nil, err
	}
	for _, d := range list(dbs, "DBInstances") {
		out["rds:"+str(d, "DBInstanceIdentifier")] = str(d, "DBInstanceStatus")
	}
	caches, err := c.call(ctx, account, region, "elasticache", "DescribeCacheClusters", nil)
	if err != nil {
		return nil, err
	}
	for _, cc := range list(caches, "CacheClusters") {
		out["elasticache:"+str(cc, "CacheClusterId")] = str(cc, "CacheClusterStatus")
	}
	return out, nil
}

// placeSlots adds the RDS and ElastiCache nodes to their interfaces'
// subnets, with their database's or cluster's status. A node that
// publishes metrics names its database or cache cluster; a standby or a
// replacement node is named after the node whose slot id it extends.
func placeSlots(wd *World, world *desired.World, bySubnet map[string]*Subnet, status map[string]string) {
	owned := map[string]string{} // slot id -> resource
	var mine []*desired.Slot
	for _, s := range world.Slots {
		if s.Account != wd.Account || s.Region != wd.Region || (s.Owner != "rds" && s.Owner != "elasticache") {
			continue
		}
		mine = append(mine, s)
		if s.Metrics != nil {
			if id := s.Metrics.Dimensions["DBInstanceIdentifier"]; id != "" {
				owned[s.ID] = "rds:" + id
			} else if id := s.Metrics.Dimensions["CacheClusterId"]; id != "" {
				owned[s.ID] = "elasticache:" + id
			}
		}
	}
	for _, s := range mine {
		eni, _ := world.FindENI(s.ENI)
		if eni == nil || bySubnet[eni.Subnet] == nil {
			continue
		}
		node := &Node{Kind: s.Owner, Resource: owned[s.ID]}
		if node.Resource == "" {
			for id, res := range owned {
				if strings.HasPrefix(s.ID, id) || strings.HasPrefix(id, s.ID) {
					node.Resource, node.Role = res, "standby"
				}
			}
		}
		node.State = status[node.Resource]
		node.Label = cmp.Or(strings.TrimPrefix(strings.TrimPrefix(node.Resource, "rds:"), "elasticache:"), s.ID)
		if len(eni.PrivateIPs) > 0 {
			node.IP = eni.PrivateIPs[0].String()
		}
		sn := bySubnet[eni.Subnet]
		sn.Nodes = append(sn.Nodes, node)
	}
}

// zones adds the account's hosted zones that answer in the region: the
// public ones and the private ones associated with one of its VPCs.
func (c *Console) zones(ctx context.Context, wd *World) error {
	// Route 53 is global: its API is signed for us-east-1.
	r53 := func(op string, params map[string]any) (map[string]any, error) {
		return c.call(ctx, wd.Account, "us-east-1", "route53", op, params)
	}
	zones, err := r53("ListHostedZones", nil)
	if err != nil {
		return err
	}
	for _, z := range list(zones, "HostedZones") {
		id := strings.TrimPrefix(str(z, "Id"), "/hostedzone/")
		zone := &Zone{ID: id, Name: str(z, "Name"), Records: []Record{}}
		zone.Private, _ = mapOf(z["Config"])["PrivateZone"].(bool)
		if zone.Private {
			got, err := r53("GetHostedZone", map[string]any{"Id": id})
			if err != nil {
				return err
			}
			for _, v := range list(got, "VPCs") {
				if str(v, "VPCRegion") == wd.Region {
					zone.VPCs = append(zone.VPCs, str(v, "VPCId"))
				}
			}
			if len(zone.VPCs) == 0 {
				continue
			}
		}
		sets, err := r53("ListResourceRecordSets", map[string]any{"HostedZoneId": id})
		if err != nil {
			return err
		}
		for _, s := range list(sets, "ResourceRecordSets") {
			rec := Record{Name: str(s, "Name"), Type: str(s, "Type"), Values: []string{}}
			for _, v := range list(s, "ResourceRecords") {
				rec.Values = append(rec.Values, str(v, "Value"))
			}
			if a := str(s, "AliasTarget", "DNSName"); a != "" {
				rec.Values = append(rec.Values, "ALIAS "+a)
			}
			zone.Records = append(zone.Records, rec)
		}
		wd.Zones = append(wd.Zones, zone)
	}
	return nil
}

// The accessors below read the CLI-shaped JSON of an output: a missing
// member reads as the zero value.

func mapOf(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// str follows members down to a string.
func str(v any, path ...string) string {
	for _, p := range path {
		v = mapOf(v)[p]
	}
	s, _ := v.(string)
	return s
}

func num(v any, key string) int {
	f, _ := mapOf(v)[key].(float64)
	return int(f)
}

func list(v any, key string) []map[string]any {
	var out []map[string]any
	items, _ := mapOf(v)[key].([]any)
	for _, it := range items {
		if m := mapOf(it); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func strs(v any, key string) []string {
	var out []string
	items, _ := mapOf(v)[key].([]any)
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// nameTag is a resource's Name tag.
func nameTag(v any) string {
	for _, t := range list(v, "Tags") {
		if str(t, "Key") == "Name" {
			return str(t, "Value")
		}
	}
	return ""
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// parsePort reads a port of the reachability form.
func parsePort(p string) (int, error) {
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("port %q: not a port number (0-65535)", p)
	}
	return n, nil
}
