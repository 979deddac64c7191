package autoscaling

import (
	"context"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

func (s *Service) registerInfo(h *asapi.Handlers) {
	h.DescribeAccountLimits = s.DescribeAccountLimits
	h.DescribeScalingActivities = s.DescribeScalingActivities
	h.DescribeAdjustmentTypes = func(context.Context, *asapi.DescribeAdjustmentTypesInput) (*asapi.DescribeAdjustmentTypesAnswer, error) {
		out := &asapi.DescribeAdjustmentTypesAnswer{}
		for _, t := range adjustmentTypes {
			out.AdjustmentTypes = append(out.AdjustmentTypes, &asapi.AdjustmentType{AdjustmentType: str(t)})
		}
		return out, nil
	}
	h.DescribeLifecycleHookTypes = func(context.Context, *asapi.DescribeLifecycleHookTypesInput) (*asapi.DescribeLifecycleHookTypesAnswer, error) {
		return &asapi.DescribeLifecycleHookTypesAnswer{LifecycleHookTypes: []*string{str(transitionLaunching), str(transitionTerminating)}}, nil
	}
	h.DescribeTerminationPolicyTypes = func(context.Context, *asapi.DescribeTerminationPolicyTypesInput) (*asapi.DescribeTerminationPolicyTypesAnswer, error) {
		out := &asapi.DescribeTerminationPolicyTypesAnswer{}
		for _, p := range terminationPolicies {
			out.TerminationPolicyTypes = append(out.TerminationPolicyTypes, str(p))
		}
		return out, nil
	}
	h.DescribeScalingProcessTypes = func(context.Context, *asapi.DescribeScalingProcessTypesInput) (*asapi.ProcessesType, error) {
		out := &asapi.ProcessesType{}
		for _, p := range scalingProcesses {
			out.Processes = append(out.Processes, &asapi.ProcessType{ProcessName: str(p)})
		}
		return out, nil
	}
	h.DescribeMetricCollectionTypes = func(context.Context, *asapi.DescribeMetricCollectionTypesInput) (*asapi.DescribeMetricCollectionTypesAnswer, error) {
		out := &asapi.DescribeMetricCollectionTypesAnswer{Granularities: []*asapi.MetricGranularityType{{Granularity: str("1Minute")}}}
		for _, m := range groupMetrics {
			out.Metrics = append(out.Metrics, &asapi.MetricCollectionType{Metric: str(m)})
		}
		return out, nil
	}
}

// DescribeAccountLimits reports the account's quotas and usage.
func (s *Service) DescribeAccountLimits(ctx context.Context, _ *asapi.DescribeAccountLimitsInput) (*asapi.DescribeAccountLimitsAnswer, error) {
	sc := scopeOf(ctx)
	var groups, lcs int
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if groups, err = tx.Count(sc.account, sc.region, kindGroup); err != nil {
			return err
		}
		lcs, err = tx.Count(sc.account, sc.region, kindLaunch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeAccountLimitsAnswer{
		MaxNumberOfAutoScalingGroups: i64(maxGroups), MaxNumberOfLaunchConfigurations: i64(maxLaunchConfigs),
		NumberOfAutoScalingGroups: i64(int64(groups)), NumberOfLaunchConfigurations: i64(int64(lcs)),
	}, nil
}
