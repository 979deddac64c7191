package e2e

// seedNetwork is the network the data tier's tests build, as seed 003
// does in ap-northeast-2: VPC 10.0.0.0/16, a public subnet in zone a with
// an internet gateway and a NAT gateway, and two private subnets in zones
// a and c routed through the NAT gateway (the DB and cache nodes install
// their engines from the mirror through it).
type seedNetwork struct {
	vpc, public, privA, privC, privRT string
}

func (w *vpcWorld) seedNetwork() seedNetwork {
	w.t.Helper()
	var n seedNetwork
	n.vpc = get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := func(cidr, zone string) string {
		return get(w.aws("ec2", "create-subnet", "--vpc-id", n.vpc, "--cidr-block", cidr, "--availability-zone", "ap-northeast-2"+zone), "Subnet", "SubnetId")
	}
	n.public, n.privA, n.privC = subnet("10.0.0.0/24", "a"), subnet("10.0.1.0/24", "a"), subnet("10.0.3.0/24", "c")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", n.vpc)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", n.vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", n.public)
	eip := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", n.public, "--allocation-id", get(eip, "AllocationId")), "NatGateway", "NatGatewayId")
	w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
	n.privRT = get(w.aws("ec2", "create-route-table", "--vpc-id", n.vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", n.privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
	for _, s := range []string{n.privA, n.privC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", n.privRT, "--subnet-id", s)
	}
	return n
}
