package iam

import (
	"context"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// linkedService is a service that has a service-linked role: the role's
// name, the AWS managed policy attached to it and the description IAM
// gives it.
type linkedService struct {
	role, policy, description string
	// suffix: the service lets a custom suffix name more roles than one.
	suffix bool
}

// linkedServices are the services cloudbox makes service-linked roles for,
// by service principal.
var linkedServices = map[string]linkedService{
	"autoscaling.amazonaws.com": {
		role:        "AWSServiceRoleForAutoScaling",
		policy:      "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy",
		description: "Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling",
		suffix:      true,
	},
	"elasticloadbalancing.amazonaws.com": {
		role:        "AWSServiceRoleForElasticLoadBalancing",
		policy:      "arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy",
		description: "Allows ELB to call AWS services on your behalf.",
	},
	"rds.amazonaws.com": {
		role:        "AWSServiceRoleForRDS",
		policy:      "arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy",
		description: "Allows Amazon RDS to manage AWS resources on your behalf",
	},
}

// trustFor is the trust policy of a service's linked role (service is one
// of linkedServices: nothing to escape).
func trustFor(service string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + service + `"},"Action":"sts:AssumeRole"}]}`
}

func (s *Service) createServiceLinkedRole(ctx context.Context, in *iamapi.CreateServiceLinkedRoleRequest) (*iamapi.CreateServiceLinkedRoleResponse, error) {
	acct, service := account(ctx), *in.AWSServiceName
	ls, ok := linkedServices[service]
	if !ok {
		return nil, errorf("InvalidInput", "Invalid service name: %s", service)
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	name := ls.role
	if in.CustomSuffix != nil {
		if !ls.suffix {
			return nil, errorf("InvalidInput", "Custom suffix is not allowed for %s", service)
		}
		if err := checkName("customSuffix", *in.CustomSuffix); err != nil {
			return nil, err
		}
		name += "_" + *in.CustomSuffix
	}
	r := &roleRecord{
		entity: entity{
			Name: name, Path: "/aws-service-role/" + service + "/", ID: newID(roles.idPrefix), Created: s.nowUTC(),
			Attached: []string{ls.policy},
		},
		Description: ls.description, TrustPolicy: trustFor(service), MaxSession: defaultMaxSession, Service: service,
	}
	if in.Description != nil {
		r.Description = *in.Description
	}
	err := s.store.Update(func(tx *store.Tx) error {
		taken := errorf("InvalidInput", "Service role name %s has been taken in this account, please try a different suffix.", name)
		if err := unused(tx, acct, kindRole, name, taken); err != nil {
			return err
		}
		return roles.save(tx, acct, r)
	})
	if err != nil {
		return nil, err
	}
	out := r.api(acct, false)
	return &iamapi.CreateServiceLinkedRoleResponse{Role: out}, nil
}

// deletionTask is the prefix of a service-linked role's deletion task id:
// task/aws-service-role/<service>/<role>/<uuid>.
const deletionTask = "task/aws-service-role/"

func (s *Service) deleteServiceLinkedRole(ctx context.Context, in *iamapi.DeleteServiceLinkedRoleRequest) (*iamapi.DeleteServiceLinkedRoleResponse, error) {
	acct := account(ctx)
	var task string
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		if r.Service == "" {
			return errorf("InvalidInput", "Role %s is not a service-linked role.", r.Name)
		}
		task = deletionTask + r.Service + "/" + r.Name + "/" + uuid.New()
		// The services here keep no resources that need the role: it goes
		// at once, and the task has succeeded.
		return removeRole(tx, acct, r)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteServiceLinkedRoleResponse{DeletionTaskId: str(task)}, nil
}

func (s *Service) getServiceLinkedRoleDeletionStatus(_ context.Context, in *iamapi.GetServiceLinkedRoleDeletionStatusRequest) (*iamapi.GetServiceLinkedRoleDeletionStatusResponse, error) {
	if strings.Count(strings.TrimPrefix(*in.DeletionTaskId, deletionTask), "/") != 2 || !strings.HasPrefix(*in.DeletionTaskId, deletionTask) {
		return nil, errorf("InvalidInput", "Deletion task %s is not valid.", *in.DeletionTaskId)
	}
	return &iamapi.GetServiceLinkedRoleDeletionStatusResponse{Status: str("SUCCEEDED")}, nil
}
