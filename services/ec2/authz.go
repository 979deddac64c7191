package ec2

import (
	"context"
	"reflect"
	"strings"

	"github.com/cloudbox/cloudbox/api"
)

// Authorization is the IAM action and resources of an EC2 call, for the
// authorizer (cloudbox up --iam): ec2:<Operation> on the instances'
// ARNs (arn:aws:ec2:region:account:instance/i-...) for the calls on
// given instances (TerminateInstances, StopInstances, StartInstances,
// RebootInstances, ModifyInstanceAttribute...), on "*" for the others
// (Describe* support no resource-level permissions on AWS either).
func (s *Service) Authorization(ctx context.Context, op string, in any) (string, []string) {
	action := "ec2:" + op
	if strings.HasPrefix(op, "Describe") {
		return action, nil
	}
	ids := instanceIDs(in)
	if len(ids) == 0 {
		return action, nil
	}
	r := api.RequestFrom(ctx)
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "arn:aws:ec2:" + r.Region + ":" + r.Caller.Account + ":instance/" + id
	}
	return action, out
}

// instanceIDs reads an input's InstanceIds or InstanceId member.
func instanceIDs(in any) []string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	var ids []string
	if f := v.FieldByName("InstanceIds"); f.IsValid() && f.Kind() == reflect.Slice {
		for i := 0; i < f.Len(); i++ {
			if e := f.Index(i); e.Kind() == reflect.Pointer && !e.IsNil() && e.Elem().Kind() == reflect.String {
				ids = append(ids, e.Elem().String())
			}
		}
	}
	if f := v.FieldByName("InstanceId"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
		ids = append(ids, f.Elem().String())
	}
	return ids
}
