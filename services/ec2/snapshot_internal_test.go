package ec2

import (
	"context"
	"encoding/base64"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// TestSnapshotAndReports drives an instance as the data plane does: it
// reads the desired world and reports what it made.
func TestSnapshotAndReports(t *testing.T) {
	t.Parallel()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := New(st, time.Now, nil, 1)
	svc.SetDataPlane(true)
	inv := svc.Invoker()
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "123456789012"}})
	call := func(op string, in any) any {
		t.Helper()
		out, err := inv.Invoke(ctx, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}
	vpc := call("CreateVpc", &ec2api.CreateVpcRequest{CidrBlock: str("10.0.0.0/16")}).(*ec2api.CreateVpcResult).Vpc
	sub := call("CreateSubnet", &ec2api.CreateSubnetRequest{VpcId: vpc.VpcId, CidrBlock: str("10.0.1.0/24"), AvailabilityZone: str("ap-northeast-2a")}).(*ec2api.CreateSubnetResult).Subnet
	igw := call("CreateInternetGateway", &ec2api.CreateInternetGatewayRequest{}).(*ec2api.CreateInternetGatewayResult).InternetGateway
	call("AttachInternetGateway", &ec2api.AttachInternetGatewayRequest{VpcId: vpc.VpcId, InternetGatewayId: igw.InternetGatewayId})
	rt := call("CreateRouteTable", &ec2api.CreateRouteTableRequest{VpcId: vpc.VpcId}).(*ec2api.CreateRouteTableResult).RouteTable
	call("CreateRoute", &ec2api.CreateRouteRequest{RouteTableId: rt.RouteTableId, DestinationCidrBlock: str("0.0.0.0/0"), GatewayId: igw.InternetGatewayId})
	call("AssociateRouteTable", &ec2api.AssociateRouteTableRequest{RouteTableId: rt.RouteTableId, SubnetId: sub.SubnetId})
	sg := call("CreateSecurityGroup", &ec2api.CreateSecurityGroupRequest{GroupName: str("web"), Description: str("web"), VpcId: vpc.VpcId}).(*ec2api.CreateSecurityGroupResult)
	call("AuthorizeSecurityGroupIngress", &ec2api.AuthorizeSecurityGroupIngressRequest{GroupId: sg.GroupId, IpPermissions: []*ec2api.IpPermission{
		{IpProtocol: str("tcp"), FromPort: i64(22), ToPort: i64(22), IpRanges: []*ec2api.IpRange{{CidrIp: str("0.0.0.0/0")}}},
		{IpProtocol: str("tcp"), FromPort: i64(3306), ToPort: i64(3306), UserIdGroupPairs: []*ec2api.UserIdGroupPair{{GroupId: sg.GroupId}}},
	}})
	res := call("RunInstances", &ec2api.RunInstancesRequest{ImageId: stockImagesOf("ap-northeast-2")[0].ImageId, InstanceType: str("t2.micro"), MinCount: i64(1), MaxCount: i64(1),
		SubnetId: sub.SubnetId, SecurityGroupIds: []*string{sg.GroupId}, UserData: str("IyEvYmluL3NoCmVjaG8gaGk="),
		NetworkInterfaces: nil, IamInstanceProfile: &ec2api.IamInstanceProfileSpecification{Name: str("app-role")}}).(*ec2api.Reservation)
	id := *res.Instances[0].InstanceId

	w, err := desired.Snapshot(svc.store, svc)
	if err != nil {
		t.Fatal(err)
	}
	var tv *desired.VPC
	for _, v := range w.VPCs {
		if v.ID == *vpc.VpcId {
			tv = v
		}
	}
	if tv == nil || tv.InternetGateway != *igw.InternetGatewayId || tv.CIDRs[0] != netip.MustParsePrefix("10.0.0.0/16") {
		t.Fatalf("vpc in snapshot: %+v", tv)
	}
	if len(tv.Subnets) != 1 || tv.Subnets[0].RouteTable != *rt.RouteTableId || tv.Subnets[0].NetworkACL == "" {
		t.Fatalf("subnets: %+v", tv.Subnets)
	}
	var routes []desired.Route
	for _, r := range tv.RouteTables {
		if r.ID == *rt.RouteTableId {
			routes = r.Routes
		}
	}
	if !slices.Contains(routes, desired.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Target: desired.TargetIGW, TargetID: *igw.InternetGatewayId}) {
		t.Errorf("routes: %+v", routes)
	}
	var g *desired.SecurityGroup
	for _, x := range tv.SecurityGroups {
		if x.ID == *sg.GroupId {
			g = x
		}
	}
	if g == nil || len(g.Ingress) != 2 || len(g.Egress) != 1 || g.Egress[0].Protocol != desired.ProtoAll {
		t.Fatalf("group: %+v", g)
	}
	in := w.FindInstance(id)
	if in == nil || string(in.UserData) != "#!/bin/sh\necho hi" || in.VCPUs != 1 || in.MemoryMiB != 1024 || in.Role != "app-role" || in.Hostname() == "" || len(in.ENIs) != 1 {
		t.Fatalf("instance: %+v", in)
	}
	e, ev := w.FindENI(in.ENIs[0])
	if e == nil || ev.ID != tv.ID || e.OwnerKind != desired.OwnerInstance || e.OwnerID != id || len(e.PrivateIPs) != 1 || len(e.MAC) != 6 {
		t.Fatalf("eni: %+v", e)
	}

	// The instance stays pending until the data plane reports it runs.
	state := func() string {
		out := call("DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}}).(*ec2api.DescribeInstancesResult)
		return *out.Reservations[0].Instances[0].State.Name
	}
	report := func(state string) {
		t.Helper()
		if err := svc.ReportInstance("123456789012", "ap-northeast-2", id, state, "test"); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * bootDelay)
	if s := state(); s != statePending {
		t.Fatalf("state before boot = %s", s)
	}
	report(desired.Stopped) // not what pending waits for: ignored
	if s := state(); s != statePending {
		t.Fatalf("state after a stale report = %s", s)
	}
	report(desired.Running)
	if s := state(); s != stateRunning {
		t.Fatalf("state after the boot's report = %s", s)
	}
	if err := svc.ReportConsole("123456789012", "ap-northeast-2", id, []byte("hello from "+id)); err != nil {
		t.Fatal(err)
	}
	out := call("GetConsoleOutput", &ec2api.GetConsoleOutputRequest{InstanceId: &id}).(*ec2api.GetConsoleOutputResult)
	if got, _ := base64.StdEncoding.DecodeString(*out.Output); string(got) != "hello from "+id {
		t.Errorf("console output = %q", *out.Output)
	}
	reboots := func() int {
		w, err := desired.Snapshot(st, svc)
		if err != nil {
			t.Fatal(err)
		}
		return w.FindInstance(id).Reboots
	}
	call("RebootInstances", &ec2api.RebootInstancesRequest{InstanceIds: []*string{&id}})
	if n := reboots(); n != 1 || state() != stateRunning {
		t.Errorf("after a reboot: %d reboots asked, state %s", n, state())
	}
	call("StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []*string{&id}})
	if s := state(); s != stateStopping {
		t.Fatalf("state before the halt's report = %s", s)
	}
	report(desired.Stopped)
	if s := state(); s != stateStopped {
		t.Fatalf("state after the halt's report = %s", s)
	}
	call("StartInstances", &ec2api.StartInstancesRequest{InstanceIds: []*string{&id}})
	report(desired.Running)
	call("TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id}})
	report(desired.Terminated)
	if s := state(); s != stateTerminated {
		t.Fatalf("state after the termination's report = %s", s)
	}

	// A boot that fails ends the instance as EC2 ends one that cannot start.
	res = call("RunInstances", &ec2api.RunInstancesRequest{ImageId: stockImagesOf("ap-northeast-2")[0].ImageId, InstanceType: str("t2.micro"), MinCount: i64(1), MaxCount: i64(1),
		SubnetId: sub.SubnetId}).(*ec2api.Reservation)
	id = *res.Instances[0].InstanceId
	report(desired.Failed)
	desc := call("DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}}).(*ec2api.DescribeInstancesResult).Reservations[0].Instances[0]
	if *desc.State.Name != stateShuttingDown || desc.StateReason == nil || *desc.StateReason.Code != "Server.InternalError" {
		t.Fatalf("failed boot: state %s, reason %+v", *desc.State.Name, desc.StateReason)
	}
}

// A VPC's DHCP options set reaches the data plane: its domain names and
// name servers become the instances' resolv.conf.
func TestSnapshotDHCPOptions(t *testing.T) {
	t.Parallel()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := New(st, time.Now, nil, 1)
	inv := svc.Invoker()
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "123456789012"}})
	call := func(op string, in any) any {
		t.Helper()
		out, err := inv.Invoke(ctx, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}
	vpc := call("CreateVpc", &ec2api.CreateVpcRequest{CidrBlock: str("10.0.0.0/16")}).(*ec2api.CreateVpcResult).Vpc
	dhcp := call("CreateDhcpOptions", &ec2api.CreateDhcpOptionsRequest{DhcpConfigurations: []*ec2api.NewDhcpConfiguration{
		{Key: str("domain-name"), Values: []*string{str("vprofile.in")}},
		{Key: str("domain-name-servers"), Values: []*string{str("10.0.5.5"), str("AmazonProvidedDNS")}},
	}}).(*ec2api.CreateDhcpOptionsResult).DhcpOptions
	call("AssociateDhcpOptions", &ec2api.AssociateDhcpOptionsRequest{VpcId: vpc.VpcId, DhcpOptionsId: dhcp.DhcpOptionsId})
	w, err := desired.Snapshot(svc.store, svc)
	if err != nil {
		t.Fatal(err)
	}
	v := w.FindVPC(*vpc.VpcId)
	if v == nil || v.DHCP == nil || v.DHCP.DomainName != "vprofile.in" || !slices.Equal(v.DHCP.DomainNameServers, []string{"10.0.5.5", "AmazonProvidedDNS"}) {
		t.Fatalf("DHCP options in the snapshot: %+v", v)
	}
	call("AssociateDhcpOptions", &ec2api.AssociateDhcpOptionsRequest{VpcId: vpc.VpcId, DhcpOptionsId: str("default")})
	w, err = desired.Snapshot(svc.store, svc)
	if err != nil {
		t.Fatal(err)
	}
	if d := w.FindVPC(*vpc.VpcId).DHCP; d == nil || d.DomainName != "ap-northeast-2.compute.internal" || !slices.Equal(d.DomainNameServers, []string{"AmazonProvidedDNS"}) {
		t.Fatalf("the default set: %+v", d)
	}
}
