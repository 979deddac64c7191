package ec2

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/store"
)

func resourcesOf(acc []authz.Access) []string {
	var out []string
	for _, a := range acc {
		out = append(out, a.Resource)
	}
	return out
}

func TestAuthorization(t *testing.T) {
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "111122223333"}})
	s := New(store.OpenMemory(), time.Now, nil, 1)
	const arn = "arn:aws:ec2:ap-northeast-2:111122223333:"
	id1, id2 := "i-0123456789abcdef0", "i-0fedcba9876543210"
	for _, op := range []string{"TerminateInstances", "StopInstances", "StartInstances", "RebootInstances"} {
		acc := s.Authorization(ctx, op, &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id1, &id2}})
		if got, want := resourcesOf(acc), []string{arn + "instance/" + id1, arn + "instance/" + id2}; !slices.Equal(got, want) || acc[0].Action != "ec2:"+op {
			t.Errorf("%s: %s %v", op, acc[0].Action, got)
		}
	}
	if acc := s.Authorization(ctx, "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id1}}); len(acc) != 1 || acc[0].Action != "ec2:DescribeInstances" || acc[0].Resource != "" {
		t.Errorf("DescribeInstances: %+v", acc)
	}

	// A tagged security group: its tags are ec2:ResourceTag/ and
	// aws:ResourceTag/ of the calls on it.
	vpc, err := s.CreateVpc(ctx, &ec2api.CreateVpcRequest{CidrBlock: str("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := s.CreateSecurityGroup(ctx, &ec2api.CreateSecurityGroupRequest{GroupName: str("web"), Description: str("web"), VpcId: vpc.Vpc.VpcId,
		TagSpecifications: []*ec2api.TagSpecification{{ResourceType: str("security-group"), Tags: []*ec2api.Tag{{Key: str("team"), Value: str("blue")}}}}})
	if err != nil {
		t.Fatal(err)
	}
	acc := s.Authorization(ctx, "DeleteSecurityGroup", &ec2api.DeleteSecurityGroupRequest{GroupId: sg.GroupId})
	if len(acc) != 1 || acc[0].Resource != arn+"security-group/"+*sg.GroupId ||
		!slices.Equal(acc[0].Keys["ec2:ResourceTag/team"], []string{"blue"}) || !slices.Equal(acc[0].Keys["aws:ResourceTag/team"], []string{"blue"}) {
		t.Errorf("DeleteSecurityGroup: %+v", acc)
	}

	// A create: on "<type>/*" with the tags it asks for, and on what it
	// names (the VPC).
	acc = s.Authorization(ctx, "CreateSubnet", &ec2api.CreateSubnetRequest{VpcId: vpc.Vpc.VpcId, CidrBlock: str("10.0.1.0/24"),
		TagSpecifications: []*ec2api.TagSpecification{{ResourceType: str("subnet"), Tags: []*ec2api.Tag{{Key: str("env"), Value: str("prod")}}}}})
	if got, want := resourcesOf(acc), []string{arn + "subnet/*", arn + "vpc/" + *vpc.Vpc.VpcId}; !slices.Equal(got, want) {
		t.Errorf("CreateSubnet resources %v, want %v", got, want)
	} else if !slices.Equal(acc[0].Keys["aws:RequestTag/env"], []string{"prod"}) || !slices.Equal(acc[0].Keys["aws:TagKeys"], []string{"env"}) {
		t.Errorf("CreateSubnet keys %v", acc[0].Keys)
	}

	// CreateTags: each resource, with its tags and the new ones.
	acc = s.Authorization(ctx, "CreateTags", &ec2api.CreateTagsRequest{Resources: []*string{sg.GroupId}, Tags: []*ec2api.Tag{{Key: str("owner"), Value: str("ann")}}})
	if len(acc) != 1 || !slices.Equal(acc[0].Keys["aws:RequestTag/owner"], []string{"ann"}) || !slices.Equal(acc[0].Keys["ec2:ResourceTag/team"], []string{"blue"}) {
		t.Errorf("CreateTags: %+v", acc)
	}

	// RunInstances: instance/* with ec2:InstanceType, the image (no
	// account in its ARN), the key pair by name.
	acc = s.Authorization(ctx, "RunInstances", &ec2api.RunInstancesRequest{ImageId: str("ami-0123456789abcdef0"), InstanceType: str("t3.micro"), KeyName: str("mykey")})
	if got, want := resourcesOf(acc), []string{arn + "instance/*", "arn:aws:ec2:ap-northeast-2::image/ami-0123456789abcdef0", arn + "key-pair/mykey"}; !slices.Equal(got, want) {
		t.Errorf("RunInstances resources %v, want %v", got, want)
	} else if !slices.Equal(acc[0].Keys["ec2:InstanceType"], []string{"t3.micro"}) {
		t.Errorf("RunInstances keys %v", acc[0].Keys)
	}
}
