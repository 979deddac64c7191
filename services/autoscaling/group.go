package autoscaling

import (
	"context"
	"github.com/cloudbox/cloudbox/uuid"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

// AWS's default quotas.
const (
	maxGroups        = 500
	maxLaunchConfigs = 200
	maxTags          = 50
	defaultCooldown  = 300
)

var terminationPolicies = []string{"Default", "AllocationStrategy", "OldestLaunchTemplate", "OldestLaunchConfiguration",
	"ClosestToNextInstanceHour", "NewestInstance", "OldestInstance"}

func (s *Service) registerGroups(h *asapi.Handlers) {
	h.CreateLaunchConfiguration = s.CreateLaunchConfiguration
	h.DescribeLaunchConfigurations = s.DescribeLaunchConfigurations
	h.DeleteLaunchConfiguration = s.DeleteLaunchConfiguration
	h.CreateAutoScalingGroup = s.CreateAutoScalingGroup
	h.UpdateAutoScalingGroup = s.UpdateAutoScalingGroup
	h.DeleteAutoScalingGroup = s.DeleteAutoScalingGroup
	h.DescribeAutoScalingGroups = s.DescribeAutoScalingGroups
	h.SetDesiredCapacity = s.SetDesiredCapacity
	h.SuspendProcesses = s.SuspendProcesses
	h.ResumeProcesses = s.ResumeProcesses
	h.EnableMetricsCollection = s.EnableMetricsCollection
	h.DisableMetricsCollection = s.DisableMetricsCollection
	h.CreateOrUpdateTags = s.CreateOrUpdateTags
	h.DeleteTags = s.DeleteTags
	h.DescribeTags = s.DescribeTags
	h.AttachLoadBalancerTargetGroups = s.AttachLoadBalancerTargetGroups
	h.DetachLoadBalancerTargetGroups = s.DetachLoadBalancerTargetGroups
	h.DescribeLoadBalancerTargetGroups = s.DescribeLoadBalancerTargetGroups
	h.AttachTrafficSources = s.AttachTrafficSources
	h.DetachTrafficSources = s.DetachTrafficSources
	h.DescribeTrafficSources = s.DescribeTrafficSources
}

func lcKey(sc scope, name string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: kindLaunch, ID: name}
}

// CreateLaunchConfiguration stores a launch configuration.
func (s *Service) CreateLaunchConfiguration(ctx context.Context, in *asapi.CreateLaunchConfigurationType) (*asapi.CreateLaunchConfigurationOutput, error) {
	sc := scopeOf(ctx)
	lc, _, err := s.newLaunchConfig(ctx, sc, in)
	if err != nil {
		return nil, err
	}
	if err := s.store.Update(func(tx *store.Tx) error { return putLaunchConfig(tx, sc, lc) }); err != nil {
		return nil, err
	}
	return &asapi.CreateLaunchConfigurationOutput{}, nil
}

// newLaunchConfig makes a launch configuration from its request. With an
// InstanceId it derives, as AWS does, the image, type, key pair, security
// groups, instance profile, monitoring and EBS optimization from the
// instance (what the request also gives wins); block devices come from
// the image, and user data is not copied. It returns the instance's
// configuration too.
func (s *Service) newLaunchConfig(ctx context.Context, sc scope, in *asapi.CreateLaunchConfigurationType) (*asapi.LaunchConfiguration, InstanceConfig, error) {
	name := deref(in.LaunchConfigurationName)
	var src InstanceConfig
	if id := in.InstanceId; id != nil {
		var ok bool
		var err error
		if src, ok, err = s.fleet.Instance(ctx, sc.account, sc.region, *id); err != nil {
			return nil, src, err
		} else if !ok {
			return nil, src, validation("Invalid instance id: %s", *id)
		}
		c := *in
		in = &c
		in.ImageId = orElse(in.ImageId, str(src.ImageID))
		in.InstanceType = orElse(in.InstanceType, str(src.InstanceType))
		in.KeyName = orElse(in.KeyName, optional(src.KeyName))
		in.IamInstanceProfile = orElse(in.IamInstanceProfile, optional(src.IAMInstanceProfile))
		in.EbsOptimized = orElse(in.EbsOptimized, boolp(src.EbsOptimized))
		in.InstanceMonitoring = orElse(in.InstanceMonitoring, &asapi.InstanceMonitoring{Enabled: boolp(src.Monitoring)})
		if in.SecurityGroups == nil {
			for _, g := range src.SecurityGroups {
				in.SecurityGroups = append(in.SecurityGroups, str(g))
			}
		}
	}
	if in.ImageId == nil || in.InstanceType == nil {
		return nil, src, validation("Valid requests must contain either the ImageId and InstanceType parameters or the InstanceId parameter.")
	}
	lc := &asapi.LaunchConfiguration{
		AssociatePublicIpAddress: in.AssociatePublicIpAddress, BlockDeviceMappings: in.BlockDeviceMappings,
		CreatedTime: timep(s.now()), EbsOptimized: boolp(deref(in.EbsOptimized)), IamInstanceProfile: in.IamInstanceProfile,
		ImageId: in.ImageId, InstanceMonitoring: in.InstanceMonitoring, InstanceType: in.InstanceType,
		KernelId: in.KernelId, KeyName: in.KeyName, LaunchConfigurationName: in.LaunchConfigurationName,
		LaunchConfigurationARN: str(resourceARN(sc, "launchConfiguration", uuid.New(), "launchConfigurationName", name)),
		MetadataOptions:        in.MetadataOptions, PlacementTenancy: in.PlacementTenancy, RamdiskId: in.RamdiskId,
		SecurityGroups: in.SecurityGroups, UserData: in.UserData,
	}
	if lc.InstanceMonitoring == nil {
		lc.InstanceMonitoring = &asapi.InstanceMonitoring{Enabled: boolp(true)}
	}
	if lc.SecurityGroups == nil {
		lc.SecurityGroups = []*string{}
	}
	if lc.BlockDeviceMappings == nil {
		lc.BlockDeviceMappings = []*asapi.BlockDeviceMapping{}
	}
	return lc, src, nil
}

// putLaunchConfig stores a new launch configuration.
func putLaunchConfig(tx *store.Tx, sc scope, lc *asapi.LaunchConfiguration) error {
	name := deref(lc.LaunchConfigurationName)
	if _, ok, err := store.Get[asapi.LaunchConfiguration](tx, lcKey(sc, name)); err != nil || ok {
		if ok {
			return api.Errorf("AlreadyExists", "Launch Configuration by this name already exists - A launch configuration already exists with the name %s", name)
		}
		return err
	}
	n, err := tx.Count(sc.account, sc.region, kindLaunch)
	if err != nil {
		return err
	}
	if n >= maxLaunchConfigs {
		return api.Errorf("LimitExceeded", "Launch configuration limit exceeded: %d launch configurations already exist", maxLaunchConfigs)
	}
	return tx.Put(lcKey(sc, name), lc)
}

// DescribeLaunchConfigurations lists launch configurations.
func (s *Service) DescribeLaunchConfigurations(ctx context.Context, in *asapi.LaunchConfigurationNamesType) (*asapi.LaunchConfigurationsType, error) {
	sc := scopeOf(ctx)
	names := derefAll(in.LaunchConfigurationNames)
	var out []*asapi.LaunchConfiguration
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[asapi.LaunchConfiguration](tx, sc.account, sc.region, kindLaunch)
		for _, lc := range all {
			if len(names) == 0 || slices.Contains(names, deref(lc.LaunchConfigurationName)) {
				out = append(out, lc)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	return &asapi.LaunchConfigurationsType{LaunchConfigurations: items, NextToken: next}, nil
}

// DeleteLaunchConfiguration deletes a launch configuration no group uses.
func (s *Service) DeleteLaunchConfiguration(ctx context.Context, in *asapi.LaunchConfigurationNameType) (*asapi.DeleteLaunchConfigurationOutput, error) {
	sc := scopeOf(ctx)
	name := deref(in.LaunchConfigurationName)
	err := s.store.Update(func(tx *store.Tx) error {
		groups, err := store.ListAll[groupRecord](tx, sc.account, sc.region, kindGroup)
		if err != nil {
			return err
		}
		for _, g := range groups {
			if deref(g.G.LaunchConfigurationName) == name {
				return api.Errorf("ResourceInUse", "Cannot delete launch configuration %s because it is attached to AutoScalingGroup %s", name, g.name())
			}
		}
		ok, err := tx.Delete(lcKey(sc, name))
		if err == nil && !ok {
			return validation("Launch configuration name not found - Launch configuration %s not found", name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteLaunchConfigurationOutput{}, nil
}

// source is how a group launches: a template, a configuration or a mixed
// instances policy.
type source struct {
	lt    *asapi.LaunchTemplateSpecification
	lc    string
	mixed *asapi.MixedInstancesPolicy
}

// checkSource validates a group's launch template or configuration.
func (s *Service) checkSource(tx *store.Tx, sc scope, lt *asapi.LaunchTemplateSpecification, lc *string, mixed *asapi.MixedInstancesPolicy, instanceID *string) (source, error) {
	n := 0
	for _, set := range []bool{lt != nil, lc != nil, mixed != nil, instanceID != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return source{}, validation("Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.")
	}
	switch {
	case mixed != nil:
		p, err := s.checkMixed(sc, mixed)
		return source{mixed: p}, err
	case lc != nil:
		if _, ok, err := store.Get[asapi.LaunchConfiguration](tx, lcKey(sc, *lc)); err != nil || !ok {
			if err != nil {
				return source{}, err
			}
			return source{}, validation("Launch configuration name not found - Launch configuration %s not found", *lc)
		}
		return source{lc: *lc}, nil
	}
	spec, err := s.checkTemplate(sc, lt)
	return source{lt: spec}, err
}

// checkTemplate resolves a launch template specification.
func (s *Service) checkTemplate(sc scope, lt *asapi.LaunchTemplateSpecification) (*asapi.LaunchTemplateSpecification, error) {
	if (lt.LaunchTemplateId == nil) == (lt.LaunchTemplateName == nil) {
		return nil, validation("Valid requests must contain either launchTemplateId or LaunchTemplateName")
	}
	// The version is kept as given: none means the template's default at
	// each launch, and DescribeAutoScalingGroups shows none, as AWS does;
	// the template's id and name are both shown whichever was given.
	version := deref(lt.Version)
	if version == "" {
		version = "$Default"
	}
	id := deref(lt.LaunchTemplateId) + deref(lt.LaunchTemplateName)
	ltID, ltName, ok, err := s.fleet.LaunchTemplate(sc.account, sc.region, id, version)
	if err != nil {
		return nil, err
	}
	spec := &asapi.LaunchTemplateSpecification{LaunchTemplateId: str(ltID), LaunchTemplateName: str(ltName), Version: lt.Version}
	if !ok {
		if lt.LaunchTemplateId != nil {
			return nil, validation("You must use a valid fully-formed launch template. The specified launch template, with template ID %s, does not exist.", id)
		}
		return nil, validation("You must use a valid fully-formed launch template. The specified launch template, with template name %s, does not exist.", id)
	}
	return spec, nil
}

// checkZones resolves a group's subnets into its zones.
func (s *Service) checkZones(sc scope, vpcZone *string, azs []*string) (string, []*string, error) {
	if vpcZone == nil || strings.TrimSpace(*vpcZone) == "" {
		if len(azs) == 0 {
			return "", nil, validation("At least one Availability Zone or VPC Subnet is required.")
		}
		return "", azs, nil
	}
	var subnets []string
	var zones []*string
	vpc := ""
	for _, sn := range strings.Split(*vpcZone, ",") {
		sn = strings.TrimSpace(sn)
		if sn == "" || slices.Contains(subnets, sn) {
			continue
		}
		az, v, ok, err := s.fleet.Subnet(sc.account, sc.region, sn)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			return "", nil, validation("The subnet ID '%s' does not exist", sn)
		}
		if vpc != "" && v != vpc {
			return "", nil, validation("The subnets specified must all be in the same VPC.")
		}
		vpc = v
		subnets = append(subnets, sn)
		if !slices.ContainsFunc(zones, func(z *string) bool { return *z == az }) {
			zones = append(zones, str(az))
		}
	}
	return strings.Join(subnets, ","), zones, nil
}

func checkSizes(minSize, maxSize, desired int64) error {
	if minSize < 0 || maxSize < 0 {
		return validation("Min and max sizes must be non-negative")
	}
	if minSize > maxSize {
		return validation("Max bound, %d, must be greater than or equal to min bound, %d", maxSize, minSize)
	}
	if desired < minSize || desired > maxSize {
		return validation("Desired capacity:%d must be between the specified min size:%d and max size:%d", desired, minSize, maxSize)
	}
	return nil
}

func checkHealthType(t *string) error {
	if t != nil && !slices.Contains([]string{"EC2", "ELB"}, *t) {
		return validation("Invalid health check type: %s. Valid values are EC2 and ELB", *t)
	}
	return nil
}

func checkTerminationPolicies(ps []*string) error {
	for _, p := range ps {
		if !slices.Contains(terminationPolicies, deref(p)) {
			return validation("Valid termination policy values are %s; %s is not one of them", strings.Join(terminationPolicies, ", "), deref(p))
		}
	}
	return nil
}

func (s *Service) checkTargetGroups(sc scope, arns []*string) error {
	for _, a := range arns {
		ok, err := s.lb.TargetGroupExists(sc.account, sc.region, deref(a))
		if err != nil {
			return err
		}
		if !ok {
			return validation("Provided Target Groups may not be valid. Please ensure they exist and try again.")
		}
	}
	return nil
}

// CreateAutoScalingGroup creates a group; the reconciler launches its
// instances.
func (s *Service) CreateAutoScalingGroup(ctx context.Context, in *asapi.CreateAutoScalingGroupType) (*asapi.CreateAutoScalingGroupOutput, error) {
	sc := scopeOf(ctx)
	name := deref(in.AutoScalingGroupName)
	now := s.now()
	desired := deref(in.MinSize)
	if in.DesiredCapacity != nil {
		desired = *in.DesiredCapacity
	}
	if err := checkSizes(deref(in.MinSize), deref(in.MaxSize), desired); err != nil {
		return nil, err
	}
	if err := checkHealthType(in.HealthCheckType); err != nil {
		return nil, err
	}
	if err := checkTerminationPolicies(in.TerminationPolicies); err != nil {
		return nil, err
	}
	if len(in.LoadBalancerNames) > 0 {
		return nil, validation("Classic Load Balancers are not supported by cloudbox; use TargetGroupARNs")
	}
	tgs, err := trafficTargetGroups(in.TargetGroupARNs, in.TrafficSources)
	if err != nil {
		return nil, err
	}
	if err := s.checkTargetGroups(sc, tgs); err != nil {
		return nil, err
	}
	// A group made from an instance gets a launch configuration derived
	// from it, named after the group as AWS names it, and the instance's
	// subnet (or zone) when it names none.
	var derived *asapi.LaunchConfiguration
	vpcZone := in.VPCZoneIdentifier
	if in.InstanceId != nil && in.LaunchTemplate == nil && in.LaunchConfigurationName == nil && in.MixedInstancesPolicy == nil {
		lc, src, err := s.newLaunchConfig(ctx, sc, &asapi.CreateLaunchConfigurationType{LaunchConfigurationName: in.AutoScalingGroupName, InstanceId: in.InstanceId})
		if err != nil {
			return nil, err
		}
		derived = lc
		if vpcZone == nil && len(in.AvailabilityZones) == 0 {
			if src.SubnetID != "" {
				vpcZone = str(src.SubnetID)
			} else {
				in.AvailabilityZones = []*string{str(src.AvailabilityZone)}
			}
		}
	}
	subnets, zones, err := s.checkZones(sc, vpcZone, in.AvailabilityZones)
	if err != nil {
		return nil, err
	}
	tags, err := groupTags(name, in.Tags)
	if err != nil {
		return nil, err
	}
	var hooks []*asapi.LifecycleHook
	for _, spec := range in.LifecycleHookSpecificationList {
		h, err := newHook(name, spec.LifecycleHookName, spec.LifecycleTransition, spec.DefaultResult, spec.HeartbeatTimeout,
			spec.NotificationMetadata, spec.NotificationTargetARN, spec.RoleARN)
		if err != nil {
			return nil, err
		}
		hooks = append(hooks, h)
	}
	g := &groupRecord{Hooks: hooks, LastCause: causeCreate(now, 0, desired)}
	g.G = asapi.AutoScalingGroup{
		AutoScalingGroupARN:              str(resourceARN(sc, "autoScalingGroup", uuid.New(), "autoScalingGroupName", name)),
		AutoScalingGroupName:             in.AutoScalingGroupName,
		AvailabilityZones:                zones,
		CapacityRebalance:                boolp(deref(in.CapacityRebalance)),
		CreatedTime:                      timep(now),
		DefaultCooldown:                  i64(defaultCooldown),
		DefaultInstanceWarmup:            in.DefaultInstanceWarmup,
		DesiredCapacity:                  i64(desired),
		EnabledMetrics:                   []*asapi.EnabledMetric{},
		HealthCheckGracePeriod:           i64(deref(in.HealthCheckGracePeriod)),
		HealthCheckType:                  str("EC2"),
		LoadBalancerNames:                []*string{},
		MaxSize:                          in.MaxSize,
		MinSize:                          in.MinSize,
		NewInstancesProtectedFromScaleIn: boolp(deref(in.NewInstancesProtectedFromScaleIn)),
		ServiceLinkedRoleARN:             str("arn:aws:iam::" + sc.account + ":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"),
		SuspendedProcesses:               []*asapi.SuspendedProcess{},
		Tags:                             tags,
		TargetGroupARNs:                  tgs,
		TerminationPolicies:              []*string{str("Default")},
		MaxInstanceLifetime:              in.MaxInstanceLifetime,
	}
	if subnets != "" {
		g.G.VPCZoneIdentifier = str(subnets)
	}
	if in.DefaultCooldown != nil {
		g.G.DefaultCooldown = in.DefaultCooldown
	}
	if in.HealthCheckType != nil {
		g.G.HealthCheckType = in.HealthCheckType
	}
	if len(in.TerminationPolicies) > 0 {
		g.G.TerminationPolicies = in.TerminationPolicies
	}
	err = s.store.Update(func(tx *store.Tx) error {
		lcName, conflict := in.LaunchConfigurationName, in.InstanceId
		if derived != nil {
			conflict = nil
			if err := putLaunchConfig(tx, sc, derived); err != nil {
				return err
			}
			lcName = derived.LaunchConfigurationName
		}
		src, err := s.checkSource(tx, sc, in.LaunchTemplate, lcName, in.MixedInstancesPolicy, conflict)
		if err != nil {
			return err
		}
		g.setSource(src)
		if _, ok, err := store.Get[groupRecord](tx, groupKey(sc, name)); err != nil || ok {
			if ok {
				return api.Errorf("AlreadyExists", "AutoScalingGroup by this name already exists - A group with the name %s already exists", name)
			}
			return err
		}
		n, err := tx.Count(sc.account, sc.region, kindGroup)
		if err != nil {
			return err
		}
		if n >= maxGroups {
			return api.Errorf("LimitExceeded", "You have reached the limit of %d Auto Scaling groups for this account", maxGroups)
		}
		return saveGroup(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.CreateAutoScalingGroupOutput{}, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// trafficTargetGroups merges target group ARNs with traffic sources,
// which cloudbox supports for target groups only.
func trafficTargetGroups(arns []*string, sources []*asapi.TrafficSourceIdentifier) ([]*string, error) {
	out := []*string{}
	add := func(a string) {
		if !slices.ContainsFunc(out, func(p *string) bool { return *p == a }) {
			out = append(out, str(a))
		}
	}
	for _, a := range arns {
		add(deref(a))
	}
	for _, ts := range sources {
		if t := deref(ts.Type); t != "" && t != "elbv2" {
			return nil, validation("Traffic source type %s is not supported by cloudbox; use elbv2 target groups", t)
		}
		if !strings.Contains(deref(ts.Identifier), ":targetgroup/") {
			return nil, validation("Traffic source %s is not a target group ARN", deref(ts.Identifier))
		}
		add(deref(ts.Identifier))
	}
	return out, nil
}

// UpdateAutoScalingGroup changes a group's settings and sizes.
func (s *Service) UpdateAutoScalingGroup(ctx context.Context, in *asapi.UpdateAutoScalingGroupType) (*asapi.UpdateAutoScalingGroupOutput, error) {
	sc := scopeOf(ctx)
	now := s.now()
	if err := checkHealthType(in.HealthCheckType); err != nil {
		return nil, err
	}
	if err := checkTerminationPolicies(in.TerminationPolicies); err != nil {
		return nil, err
	}
	var subnets string
	var zones []*string
	if in.VPCZoneIdentifier != nil || len(in.AvailabilityZones) > 0 {
		var err error
		if subnets, zones, err = s.checkZones(sc, in.VPCZoneIdentifier, in.AvailabilityZones); err != nil {
			return nil, err
		}
	}
	err := s.mutate(sc, deref(in.AutoScalingGroupName), func(tx *store.Tx, g *groupRecord) ([]Event, error) {
		if in.LaunchTemplate != nil || in.LaunchConfigurationName != nil || in.MixedInstancesPolicy != nil {
			src, err := s.checkSource(tx, sc, in.LaunchTemplate, in.LaunchConfigurationName, in.MixedInstancesPolicy, nil)
			if err != nil {
				return nil, err
			}
			g.setSource(src)
		}
		minSize, maxSize, desired := deref(g.G.MinSize), deref(g.G.MaxSize), deref(g.G.DesiredCapacity)
		from := desired
		if in.MinSize != nil {
			minSize = *in.MinSize
		}
		if in.MaxSize != nil {
			maxSize = *in.MaxSize
		}
		if in.DesiredCapacity != nil {
			desired = *in.DesiredCapacity
		} else {
			desired = min(max(desired, minSize), maxSize)
		}
		if err := checkSizes(minSize, maxSize, desired); err != nil {
			return nil, err
		}
		if in.MinSize != nil || in.MaxSize != nil || in.DesiredCapacity != nil {
			g.G.MinSize, g.G.MaxSize, g.G.DesiredCapacity = i64(minSize), i64(maxSize), i64(desired)
			if desired != from {
				g.LastCause = causeUpdate(now, minSize, maxSize, desired, from)
			}
		}
		if zones != nil {
			g.G.AvailabilityZones, g.G.VPCZoneIdentifier = zones, optional(subnets)
		}
		setIf(&g.G.DefaultCooldown, in.DefaultCooldown)
		setIf(&g.G.DefaultInstanceWarmup, in.DefaultInstanceWarmup)
		setIf(&g.G.HealthCheckGracePeriod, in.HealthCheckGracePeriod)
		setIf(&g.G.HealthCheckType, in.HealthCheckType)
		setIf(&g.G.NewInstancesProtectedFromScaleIn, in.NewInstancesProtectedFromScaleIn)
		setIf(&g.G.CapacityRebalance, in.CapacityRebalance)
		setIf(&g.G.MaxInstanceLifetime, in.MaxInstanceLifetime)
		if len(in.TerminationPolicies) > 0 {
			g.G.TerminationPolicies = in.TerminationPolicies
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.UpdateAutoScalingGroupOutput{}, nil
}

func setIf[T any](dst **T, v *T) {
	if v != nil {
		*dst = v
	}
}

// inFlight reports whether an instance is launching or terminating.
func inFlight(in *instanceRecord) bool {
	return in.Lifecycle != asapi.LifecycleStateInService
}

// DeleteAutoScalingGroup deletes an empty group, or with ForceDelete
// terminates its instances and deletes it once they are gone.
func (s *Service) DeleteAutoScalingGroup(ctx context.Context, in *asapi.DeleteAutoScalingGroupType) (*asapi.DeleteAutoScalingGroupOutput, error) {
	sc := scopeOf(ctx)
	name := deref(in.AutoScalingGroupName)
	var alarms []string
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, sc, name)
		if err != nil {
			return err
		}
		if !deref(in.ForceDelete) {
			if slices.ContainsFunc(g.Instances, inFlight) {
				return api.Errorf("ScalingActivityInProgress", "You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.")
			}
			if len(g.Instances) > 0 {
				return api.Errorf("ResourceInUse", "You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.")
			}
		}
		alarms = policyAlarms(g.Policies)
		if len(g.Instances) == 0 {
			_, err := tx.Delete(groupKey(sc, name))
			return err
		}
		g.Deleting = true
		g.G.Status = str("Delete in progress")
		g.G.MinSize, g.G.MaxSize, g.G.DesiredCapacity = i64(0), i64(0), i64(0)
		g.Policies, g.Scheduled = nil, nil
		return saveGroup(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	s.deleteAlarms(sc, alarms)
	return &asapi.DeleteAutoScalingGroupOutput{}, nil
}

// describeInstance is an instance as DescribeAutoScalingGroups shows it.
func describeInstance(in *instanceRecord) *asapi.Instance {
	return &asapi.Instance{
		AvailabilityZone: str(in.AZ), HealthStatus: str(in.Health), InstanceId: str(in.ID),
		InstanceType: optional(in.InstanceType), LaunchConfigurationName: optional(in.LaunchConfig),
		LaunchTemplate: in.LaunchTemplate, LifecycleState: str(in.Lifecycle), ProtectedFromScaleIn: boolp(in.Protected),
		WeightedCapacity: optional(in.Weight),
	}
}

func describeGroup(g *groupRecord) *asapi.AutoScalingGroup {
	out := g.G
	out.Instances = []*asapi.Instance{}
	for _, in := range g.Instances {
		out.Instances = append(out.Instances, describeInstance(in))
	}
	out.TrafficSources = []*asapi.TrafficSourceIdentifier{}
	for _, tg := range g.G.TargetGroupARNs {
		out.TrafficSources = append(out.TrafficSources, &asapi.TrafficSourceIdentifier{Identifier: tg, Type: str("elbv2")})
	}
	return &out
}

// DescribeAutoScalingGroups lists groups, by name and by tag filters.
func (s *Service) DescribeAutoScalingGroups(ctx context.Context, in *asapi.AutoScalingGroupNamesType) (*asapi.AutoScalingGroupsType, error) {
	sc := scopeOf(ctx)
	names := derefAll(in.AutoScalingGroupNames)
	for _, f := range in.Filters {
		n := deref(f.Name)
		if n != "tag-key" && n != "tag-value" && !strings.HasPrefix(n, "tag:") {
			return nil, validation("Filter type %s is not supported", n)
		}
	}
	var out []*asapi.AutoScalingGroup
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[groupRecord](tx, sc.account, sc.region, kindGroup)
		for _, g := range all {
			if len(names) > 0 && !slices.Contains(names, g.name()) {
				continue
			}
			if tagsMatch(g.G.Tags, in.Filters) {
				out = append(out, describeGroup(g))
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	return &asapi.AutoScalingGroupsType{AutoScalingGroups: items, NextToken: next}, nil
}

func tagsMatch(tags []*asapi.TagDescription, filters []*asapi.Filter) bool {
	for _, f := range filters {
		values := derefAll(f.Values)
		ok := slices.ContainsFunc(tags, func(t *asapi.TagDescription) bool {
			switch n := deref(f.Name); {
			case n == "tag-key":
				return slices.Contains(values, deref(t.Key))
			case n == "tag-value":
				return slices.Contains(values, deref(t.Value))
			default:
				return deref(t.Key) == strings.TrimPrefix(n, "tag:") && slices.Contains(values, deref(t.Value))
			}
		})
		if !ok {
			return false
		}
	}
	return true
}

// SetDesiredCapacity sets the desired capacity, within the group's
// bounds, honouring its cooldown when asked.
func (s *Service) SetDesiredCapacity(ctx context.Context, in *asapi.SetDesiredCapacityType) (*asapi.SetDesiredCapacityOutput, error) {
	sc := scopeOf(ctx)
	now := s.now()
	err := s.mutate(sc, deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		d := deref(in.DesiredCapacity)
		if d < deref(g.G.MinSize) || d > deref(g.G.MaxSize) {
			return nil, validation("New SetDesiredCapacity value %d is %s the min value %d / max value %d",
				d, map[bool]string{true: "below", false: "above"}[d < deref(g.G.MinSize)], deref(g.G.MinSize), deref(g.G.MaxSize))
		}
		if deref(in.HonorCooldown) && now.Before(g.CooldownUntil) {
			return nil, api.Errorf("ScalingActivityInProgress", "Scaling activity in progress: the cooldown period of group %s has not elapsed", g.name())
		}
		from := deref(g.G.DesiredCapacity)
		if d != from {
			g.G.DesiredCapacity = i64(d)
			g.LastCause = causeSetDesired(now, from, d)
			g.CooldownUntil = now.Add(seconds(deref(g.G.DefaultCooldown)))
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.SetDesiredCapacityOutput{}, nil
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

var scalingProcesses = []string{"Launch", "Terminate", "HealthCheck", "ReplaceUnhealthy", "AZRebalance", "AlarmNotification",
	"ScheduledActions", "AddToLoadBalancer", "InstanceRefresh"}

func checkProcesses(ps []*string) ([]string, error) {
	names := derefAll(ps)
	for _, p := range names {
		if !slices.Contains(scalingProcesses, p) {
			return nil, validation("Process %s is not a scaling process: valid processes are %s", p, strings.Join(scalingProcesses, ", "))
		}
	}
	if len(names) == 0 {
		return scalingProcesses, nil
	}
	return names, nil
}

// SuspendProcesses suspends scaling processes (all when none is named).
func (s *Service) SuspendProcesses(ctx context.Context, in *asapi.ScalingProcessQuery) (*asapi.SuspendProcessesOutput, error) {
	names, err := checkProcesses(in.ScalingProcesses)
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		for _, p := range names {
			if !g.suspended(p) {
				g.G.SuspendedProcesses = append(g.G.SuspendedProcesses, &asapi.SuspendedProcess{
					ProcessName: str(p), SuspensionReason: str("User suspended at " + stamp(now))})
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.SuspendProcessesOutput{}, nil
}

// ResumeProcesses resumes scaling processes (all when none is named).
func (s *Service) ResumeProcesses(ctx context.Context, in *asapi.ScalingProcessQuery) (*asapi.ResumeProcessesOutput, error) {
	names, err := checkProcesses(in.ScalingProcesses)
	if err != nil {
		return nil, err
	}
	err = s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		g.G.SuspendedProcesses = slices.DeleteFunc(g.G.SuspendedProcesses, func(p *asapi.SuspendedProcess) bool {
			return slices.Contains(names, deref(p.ProcessName))
		})
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.ResumeProcessesOutput{}, nil
}

var groupMetrics = []string{"GroupMinSize", "GroupMaxSize", "GroupDesiredCapacity", "GroupInServiceInstances", "GroupPendingInstances",
	"GroupStandbyInstances", "GroupTerminatingInstances", "GroupTotalInstances", "GroupInServiceCapacity", "GroupPendingCapacity",
	"GroupStandbyCapacity", "GroupTerminatingCapacity", "GroupTotalCapacity", "WarmPoolDesiredCapacity", "WarmPoolWarmedCapacity",
	"WarmPoolPendingCapacity", "WarmPoolTerminatingCapacity", "WarmPoolTotalCapacity", "GroupAndWarmPoolDesiredCapacity", "GroupAndWarmPoolTotalCapacity"}

func checkMetrics(ms []*string) ([]string, error) {
	names := derefAll(ms)
	for _, m := range names {
		if !slices.Contains(groupMetrics, m) {
			return nil, validation("Metric %s is not a group metric", m)
		}
	}
	if len(names) == 0 {
		return groupMetrics, nil
	}
	return names, nil
}

// EnableMetricsCollection turns group metrics on.
func (s *Service) EnableMetricsCollection(ctx context.Context, in *asapi.EnableMetricsCollectionQuery) (*asapi.EnableMetricsCollectionOutput, error) {
	if deref(in.Granularity) != "1Minute" {
		return nil, validation("Valid granularity is 1Minute")
	}
	names, err := checkMetrics(in.Metrics)
	if err != nil {
		return nil, err
	}
	err = s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		for _, m := range names {
			if !slices.ContainsFunc(g.G.EnabledMetrics, func(e *asapi.EnabledMetric) bool { return deref(e.Metric) == m }) {
				g.G.EnabledMetrics = append(g.G.EnabledMetrics, &asapi.EnabledMetric{Metric: str(m), Granularity: str("1Minute")})
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.EnableMetricsCollectionOutput{}, nil
}

// DisableMetricsCollection turns group metrics off.
func (s *Service) DisableMetricsCollection(ctx context.Context, in *asapi.DisableMetricsCollectionQuery) (*asapi.DisableMetricsCollectionOutput, error) {
	names, err := checkMetrics(in.Metrics)
	if err != nil {
		return nil, err
	}
	err = s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		g.G.EnabledMetrics = slices.DeleteFunc(g.G.EnabledMetrics, func(e *asapi.EnabledMetric) bool {
			return slices.Contains(names, deref(e.Metric))
		})
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DisableMetricsCollectionOutput{}, nil
}

// GroupMetrics are the values of a group's enabled metrics
// (EnableMetricsCollection), what AWS/AutoScaling publishes each minute.
type GroupMetrics struct {
	Account, Region, Group string
	Values                 map[string]float64 // by metric name
}

// CollectMetrics returns the enabled metrics of every group that has any.
func (s *Service) CollectMetrics() ([]GroupMetrics, error) {
	var out []GroupMetrics
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindGroup)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			groups, err := store.ListAll[groupRecord](tx, sc[0], sc[1], kindGroup)
			if err != nil {
				return err
			}
			for _, g := range groups {
				if len(g.G.EnabledMetrics) > 0 {
					out = append(out, GroupMetrics{Account: sc[0], Region: sc[1], Group: deref(g.G.AutoScalingGroupName), Values: metricValues(g)})
				}
			}
		}
		return nil
	})
	return out, err
}

// metricValues counts a group's instances by lifecycle state for its
// enabled metrics. Every instance weighs 1, so a Capacity metric equals
// its Instances twin; warm pools are not modelled and count 0.
func metricValues(g *groupRecord) map[string]float64 {
	counts := map[string]float64{}
	for _, in := range g.Instances {
		counts["GroupTotalInstances"]++
		switch {
		case in.Lifecycle == asapi.LifecycleStateInService:
			counts["GroupInServiceInstances"]++
		case strings.HasPrefix(in.Lifecycle, "Pending"):
			counts["GroupPendingInstances"]++
		case strings.HasPrefix(in.Lifecycle, "Standby") || strings.HasPrefix(in.Lifecycle, "EnteringStandby"):
			counts["GroupStandbyInstances"]++
		case strings.HasPrefix(in.Lifecycle, "Terminating"):
			counts["GroupTerminatingInstances"]++
		}
	}
	counts["GroupMinSize"] = float64(deref(g.G.MinSize))
	counts["GroupMaxSize"] = float64(deref(g.G.MaxSize))
	counts["GroupDesiredCapacity"] = float64(deref(g.G.DesiredCapacity))
	out := map[string]float64{}
	for _, m := range g.G.EnabledMetrics {
		name := deref(m.Metric)
		if v, ok := counts[name]; ok {
			out[name] = v
		} else {
			out[name] = counts[strings.Replace(name, "Capacity", "Instances", 1)]
		}
	}
	return out
}
