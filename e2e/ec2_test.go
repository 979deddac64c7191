package e2e

import (
	"testing"
)

// TestEC2Boto3 builds the seed network with boto3 and checks what a
// Terraform-style client relies on: filters, paginators and waiters.
func TestEC2Boto3(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	var out struct {
		VpcCount        int      `json:"vpc_count"`
		SubnetPages     []int    `json:"subnet_pages"`
		PublicSubnets   []string `json:"public_subnets"`
		NatState        string   `json:"nat_state"`
		Running         []string `json:"running"`
		WebPages        []int    `json:"web_pages"`
		WebCount        int      `json:"web_count"`
		StoppedState    string   `json:"stopped_state"`
		SamePrivateIP   bool     `json:"same_private_ip"`
		BadFilterCode   string   `json:"bad_filter_code"`
		OverlapCode     string   `json:"overlap_code"`
		TerminatedState string   `json:"terminated_state"`
	}
	c.python(t, accountCreds(uniqueAccount()), `
ec2 = boto3.client("ec2", region_name="ap-northeast-2")
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "seed"}]}])["Vpc"]["VpcId"]
ec2.get_waiter("vpc_available").wait(VpcIds=[vpc])
subnets = {}
for i, (name, cidr, az) in enumerate([("public-a", "10.0.1.0/24", "a"), ("public-c", "10.0.2.0/24", "c"),
                                      ("private-a", "10.0.11.0/24", "a"), ("private-c", "10.0.12.0/24", "c")]):
    subnets[name] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone="ap-northeast-2" + az,
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": name}, {"Key": "tier", "Value": name.split("-")[0]}]}])["Subnet"]["SubnetId"]
for i in range(8):
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.%d.0/24" % (100 + i))
pages = [len(p["Subnets"]) for p in ec2.get_paginator("describe_subnets").paginate(
    Filters=[{"Name": "vpc-id", "Values": [vpc]}], PaginationConfig={"PageSize": 5})]
public = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "tag:tier", "Values": ["public"]}])["Subnets"]
try:
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.128/25")
    overlap = ""
except botocore.exceptions.ClientError as e:
    overlap = e.response["Error"]["Code"]
igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
for s in ("public-a", "public-c"):
    ec2.associate_route_table(RouteTableId=rt, SubnetId=subnets[s])
eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
nat = ec2.create_nat_gateway(SubnetId=subnets["public-a"], AllocationId=eip)["NatGateway"]["NatGatewayId"]
ec2.get_waiter("nat_gateway_available").wait(NatGatewayIds=[nat], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
nat_state = ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"]
ami = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-*"]}, {"Name": "architecture", "Values": ["x86_64"]}])["Images"][0]["ImageId"]
ids = []
for i in range(12):
    role = "web" if i % 3 == 0 else "worker"
    r = ec2.run_instances(ImageId=ami, InstanceType="t2.micro", MinCount=1, MaxCount=1,
        SubnetId=subnets["private-a" if i % 2 == 0 else "private-c"],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "role", "Value": role}]}])
    ids.append(r["Instances"][0]["InstanceId"])
ec2.get_waiter("instance_running").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
running = sorted(i["InstanceId"] for r in ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["running"]},
    {"Name": "vpc-id", "Values": [vpc]}])["Reservations"] for i in r["Instances"])
web_pages, web = [], 0
for p in ec2.get_paginator("describe_instances").paginate(Filters=[{"Name": "tag:role", "Values": ["web"]}], PaginationConfig={"PageSize": 5}):
    n = sum(len(r["Instances"]) for r in p["Reservations"])
    web_pages.append(n)
    web += n
before = ec2.describe_instances(InstanceIds=[ids[0]])["Reservations"][0]["Instances"][0]["PrivateIpAddress"]
ec2.stop_instances(InstanceIds=[ids[0]])
ec2.get_waiter("instance_stopped").wait(InstanceIds=[ids[0]], WaiterConfig={"Delay": 1, "MaxAttempts": 30})
stopped = ec2.describe_instances(InstanceIds=[ids[0]])["Reservations"][0]["Instances"][0]
try:
    ec2.describe_instances(Filters=[{"Name": "colour", "Values": ["red"]}])
    bad = ""
except botocore.exceptions.ClientError as e:
    bad = e.response["Error"]["Code"]
ec2.terminate_instances(InstanceIds=ids)
ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
emit({"vpc_count": len(ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["se*"]}])["Vpcs"]),
      "subnet_pages": pages, "public_subnets": sorted(s["CidrBlock"] for s in public), "nat_state": nat_state,
      "running": running, "web_pages": web_pages, "web_count": web, "stopped_state": stopped["State"]["Name"],
      "same_private_ip": stopped["PrivateIpAddress"] == before, "bad_filter_code": bad, "overlap_code": overlap,
      "terminated_state": ec2.describe_instances(InstanceIds=[ids[1]])["Reservations"][0]["Instances"][0]["State"]["Name"]})
`, nil, &out)
	if out.VpcCount != 1 {
		t.Errorf("tag:Name=se* matched %d VPCs, want 1", out.VpcCount)
	}
	if want := []int{5, 5, 2}; !equalInts(out.SubnetPages, want) {
		t.Errorf("subnet pages %v, want %v", out.SubnetPages, want)
	}
	if len(out.PublicSubnets) != 2 || out.PublicSubnets[0] != "10.0.1.0/24" || out.PublicSubnets[1] != "10.0.2.0/24" {
		t.Errorf("public subnets %v", out.PublicSubnets)
	}
	if out.OverlapCode != "InvalidSubnet.Conflict" {
		t.Errorf("overlapping subnet: %q", out.OverlapCode)
	}
	if out.NatState != "available" {
		t.Errorf("NAT gateway %q after the waiter", out.NatState)
	}
	if len(out.Running) != 12 {
		t.Errorf("%d running instances, want 12", len(out.Running))
	}
	if out.WebCount != 4 || len(out.WebPages) != 1 {
		t.Errorf("tag:role=web over pages %v (%d), want 4 in one page", out.WebPages, out.WebCount)
	}
	if out.StoppedState != "stopped" || !out.SamePrivateIP {
		t.Errorf("stopped instance: state %q, same private IP %v", out.StoppedState, out.SamePrivateIP)
	}
	if out.BadFilterCode != "InvalidParameterValue" {
		t.Errorf("unknown filter: %q", out.BadFilterCode)
	}
	if out.TerminatedState != "terminated" {
		t.Errorf("terminated instance shows %q", out.TerminatedState)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
