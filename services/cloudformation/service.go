// Package cloudformation is AWS CloudFormation: stacks made from
// templates (package template) by providers, one per resource type, that
// call the other services' APIs as the stack's caller; change sets,
// exports and imports, rollback.
package cloudformation

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	"github.com/cloudbox/cloudbox/store"
)

// Service is CloudFormation.
type Service struct {
	store   *store.Store
	now     func() time.Time
	log     *slog.Logger
	invoker func(service string) api.Invoker
	poll    time.Duration
	started time.Time
}

// New returns the service; invoker gives the API of a service the
// providers call.
func New(st *store.Store, now func() time.Time, log *slog.Logger, invoker func(string) api.Invoker) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, now: now, log: log, invoker: invoker, poll: pollEvery, started: now()}
}

// Handlers returns the implemented operations.
func (s *Service) Handlers() *cfnapi.Handlers {
	return &cfnapi.Handlers{
		CreateStack:            s.CreateStack,
		UpdateStack:            s.UpdateStack,
		DeleteStack:            s.DeleteStack,
		DescribeStacks:         s.DescribeStacks,
		ListStacks:             s.ListStacks,
		DescribeStackEvents:    s.DescribeStackEvents,
		DescribeStackResource:  s.DescribeStackResource,
		DescribeStackResources: s.DescribeStackResources,
		ListStackResources:     s.ListStackResources,
		GetTemplate:            s.GetTemplate,
		ValidateTemplate:       s.ValidateTemplate,
		GetTemplateSummary:     s.GetTemplateSummary,
		ListExports:            s.ListExports,
		ListImports:            s.ListImports,
		CreateChangeSet:        s.CreateChangeSet,
		DescribeChangeSet:      s.DescribeChangeSet,
		ExecuteChangeSet:       s.ExecuteChangeSet,
		DeleteChangeSet:        s.DeleteChangeSet,
		ListChangeSets:         s.ListChangeSets,

		UpdateTerminationProtection: s.UpdateTerminationProtection,
		SignalResource:              s.SignalResource,
		SetStackPolicy:              s.SetStackPolicy,
		GetStackPolicy:              s.GetStackPolicy,

		DetectStackDrift:                  s.DetectStackDrift,
		DetectStackResourceDrift:          s.DetectStackResourceDrift,
		DescribeStackDriftDetectionStatus: s.DescribeStackDriftDetectionStatus,
		DescribeStackResourceDrifts:       s.DescribeStackResourceDrifts,

		CreateStackSet:               s.CreateStackSet,
		DescribeStackSet:             s.DescribeStackSet,
		ListStackSets:                s.ListStackSets,
		UpdateStackSet:               s.UpdateStackSet,
		DeleteStackSet:               s.DeleteStackSet,
		CreateStackInstances:         s.CreateStackInstances,
		DeleteStackInstances:         s.DeleteStackInstances,
		ListStackInstances:           s.ListStackInstances,
		DescribeStackInstance:        s.DescribeStackInstance,
		DescribeStackSetOperation:    s.DescribeStackSetOperation,
		ListStackSetOperations:       s.ListStackSetOperations,
		ListStackSetOperationResults: s.ListStackSetOperationResults,
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
