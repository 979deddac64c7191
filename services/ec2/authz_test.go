package ec2

import (
	"context"
	"slices"
	"testing"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

func TestAuthorization(t *testing.T) {
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "111122223333"}})
	s := &Service{}
	id1, id2 := "i-0123456789abcdef0", "i-0fedcba9876543210"
	for _, op := range []string{"TerminateInstances", "StopInstances", "StartInstances", "RebootInstances"} {
		action, res := s.Authorization(ctx, op, &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id1, &id2}})
		want := []string{"arn:aws:ec2:ap-northeast-2:111122223333:instance/" + id1, "arn:aws:ec2:ap-northeast-2:111122223333:instance/" + id2}
		if action != "ec2:"+op || !slices.Equal(res, want) {
			t.Errorf("%s: %s %v", op, action, res)
		}
	}
	if action, res := s.Authorization(ctx, "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id1}}); action != "ec2:DescribeInstances" || res != nil {
		t.Errorf("DescribeInstances: %s %v", action, res)
	}
}
