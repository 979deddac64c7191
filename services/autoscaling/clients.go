package autoscaling

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// How Auto Scaling reaches EC2, Elastic Load Balancing and CloudWatch: as
// AWS's service does, through their APIs (the invokers its registration
// looks up), as the account itself (the service-linked role), so every
// launch and registration is validated and logged like a user's. The rest
// of the package knows them only by the interfaces in service.go.

// asContext is a request context for account and region.
func asContext(ctx context.Context, account, region string) context.Context {
	return api.WithRequest(ctx, &api.Request{Region: region, Caller: api.Principal{
		Account: account, ARN: "arn:aws:sts::" + account + ":assumed-role/AWSServiceRoleForAutoScaling/AutoScaling"}})
}

// fleet is EC2 as Auto Scaling uses it.
type fleet struct {
	st  *store.Store
	ec2 api.Invoker
}

func (f fleet) Launch(ctx context.Context, account, region string, spec LaunchSpec) (string, error) {
	in := &ec2api.RunInstancesRequest{MinCount: i64(1), MaxCount: i64(1)}
	switch {
	case spec.LaunchConfiguration != nil:
		lc := spec.LaunchConfiguration
		in.ImageId, in.InstanceType = str(lc.ImageID), str(lc.InstanceType)
		if lc.KeyName != "" {
			in.KeyName = str(lc.KeyName)
		}
		if lc.UserData != "" {
			in.UserData = str(lc.UserData)
		}
		if p := lc.IAMInstanceProfile; p != "" {
			if strings.HasPrefix(p, "arn:") {
				in.IamInstanceProfile = &ec2api.IamInstanceProfileSpecification{Arn: str(p)}
			} else {
				in.IamInstanceProfile = &ec2api.IamInstanceProfileSpecification{Name: str(p)}
			}
		}
		for _, g := range lc.SecurityGroups {
			in.SecurityGroupIds = append(in.SecurityGroupIds, str(g))
		}
	default:
		lt := &ec2api.LaunchTemplateSpecification{}
		if spec.LaunchTemplateID != "" {
			lt.LaunchTemplateId = str(spec.LaunchTemplateID)
		} else {
			lt.LaunchTemplateName = str(spec.LaunchTemplateName)
		}
		if spec.Version != "" {
			lt.Version = str(spec.Version)
		}
		in.LaunchTemplate = lt
		if spec.InstanceType != "" {
			in.InstanceType = str(spec.InstanceType)
		}
	}
	if spec.SubnetID != "" {
		in.SubnetId = str(spec.SubnetID)
	} else if spec.AvailabilityZone != "" {
		in.Placement = &ec2api.Placement{AvailabilityZone: str(spec.AvailabilityZone)}
	}
	// The group's own tags (aws:autoscaling:groupName) are in the space
	// users may not write; they are set as the service sets them.
	reserved := map[string]string{}
	ts := &ec2api.TagSpecification{ResourceType: str("instance")}
	for k, v := range spec.Tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			reserved[k] = v
			continue
		}
		ts.Tags = append(ts.Tags, &ec2api.Tag{Key: str(k), Value: str(v)})
	}
	if len(ts.Tags) > 0 {
		in.TagSpecifications = []*ec2api.TagSpecification{ts}
	}
	out, err := f.ec2.Invoke(asContext(ctx, account, region), "RunInstances", in)
	if err != nil {
		return "", err
	}
	res := out.(*ec2api.Reservation)
	if len(res.Instances) == 0 || res.Instances[0].InstanceId == nil {
		return "", errors.New("RunInstances launched nothing")
	}
	id := *res.Instances[0].InstanceId
	if len(reserved) > 0 {
		err := f.st.Update(func(tx *store.Tx) error { return ec2.SetServiceTags(tx, account, region, id, reserved) })
		if err != nil {
			return id, err
		}
	}
	return id, nil
}

func (f fleet) Terminate(ctx context.Context, account, region, id string) error {
	_, err := f.ec2.Invoke(asContext(ctx, account, region), "TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id}})
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == "InvalidInstanceID.NotFound" {
		return nil
	}
	return err
}

func (f fleet) State(account, region, id string) (state, az string, err error) {
	err = f.st.View(func(tx *store.Tx) error {
		in, ok, err := ec2.LookupInstance(tx, account, region, id)
		if ok {
			state, az = in.State, in.AZ
		}
		return err
	})
	return state, az, err
}

func (f fleet) Subnet(account, region, id string) (az, vpc string, ok bool, err error) {
	err = f.st.View(func(tx *store.Tx) error {
		var sn ec2.SubnetInfo
		sn, ok, err = ec2.LookupSubnet(tx, account, region, id)
		az, vpc = sn.AZ, sn.VPC
		return err
	})
	return az, vpc, ok, err
}

func (f fleet) LaunchTemplate(account, region, idOrName, version string) (string, string, bool, error) {
	in := &ec2api.DescribeLaunchTemplateVersionsRequest{}
	if strings.HasPrefix(idOrName, "lt-") {
		in.LaunchTemplateId = str(idOrName)
	} else {
		in.LaunchTemplateName = str(idOrName)
	}
	if version != "" {
		in.Versions = []*string{str(version)}
	}
	out, err := f.ec2.Invoke(asContext(context.Background(), account, region), "DescribeLaunchTemplateVersions", in)
	var ae *api.Error
	if errors.As(err, &ae) && (strings.HasPrefix(ae.Code, "InvalidLaunchTemplate") || strings.HasPrefix(ae.Code, "InvalidParameter")) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	vs := out.(*ec2api.DescribeLaunchTemplateVersionsResult).LaunchTemplateVersions
	if len(vs) == 0 {
		return "", "", false, nil
	}
	return deref(vs[0].LaunchTemplateId), deref(vs[0].LaunchTemplateName), true, nil
}

func (f fleet) Instance(ctx context.Context, account, region, id string) (InstanceConfig, bool, error) {
	out, err := f.ec2.Invoke(asContext(ctx, account, region), "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}})
	var ae *api.Error
	if errors.As(err, &ae) && strings.HasPrefix(ae.Code, "InvalidInstanceID") {
		return InstanceConfig{}, false, nil
	}
	if err != nil {
		return InstanceConfig{}, false, err
	}
	rs := out.(*ec2api.DescribeInstancesResult).Reservations
	if len(rs) == 0 || len(rs[0].Instances) == 0 {
		return InstanceConfig{}, false, nil
	}
	in := rs[0].Instances[0]
	c := InstanceConfig{ImageID: deref(in.ImageId), InstanceType: deref(in.InstanceType), KeyName: deref(in.KeyName),
		SubnetID: deref(in.SubnetId), EbsOptimized: deref(in.EbsOptimized)}
	if in.Placement != nil {
		c.AvailabilityZone = deref(in.Placement.AvailabilityZone)
	}
	if in.IamInstanceProfile != nil {
		c.IAMInstanceProfile = deref(in.IamInstanceProfile.Arn)
	}
	if in.Monitoring != nil {
		c.Monitoring = deref(in.Monitoring.State) == "enabled"
	}
	for _, g := range in.SecurityGroups {
		c.SecurityGroups = append(c.SecurityGroups, deref(g.GroupId))
	}
	return c, true, nil
}

// targetGroups is Elastic Load Balancing as Auto Scaling uses it.
type targetGroups struct{ elb api.Invoker }

func (t targetGroups) targets(ids []string) []*elbv2api.TargetDescription {
	out := make([]*elbv2api.TargetDescription, len(ids))
	for i := range ids {
		out[i] = &elbv2api.TargetDescription{Id: &ids[i]}
	}
	return out
}

func (t targetGroups) Register(account, region, arn string, ids []string) error {
	_, err := t.elb.Invoke(asContext(context.Background(), account, region), "RegisterTargets", &elbv2api.RegisterTargetsInput{TargetGroupArn: &arn, Targets: t.targets(ids)})
	return err
}

func (t targetGroups) Deregister(account, region, arn string, ids []string) error {
	_, err := t.elb.Invoke(asContext(context.Background(), account, region), "DeregisterTargets", &elbv2api.DeregisterTargetsInput{TargetGroupArn: &arn, Targets: t.targets(ids)})
	return err
}

func (t targetGroups) Health(account, region, arn, id string) (string, error) {
	out, err := t.elb.Invoke(asContext(context.Background(), account, region), "DescribeTargetHealth",
		&elbv2api.DescribeTargetHealthInput{TargetGroupArn: &arn, Targets: t.targets([]string{id})})
	if err != nil {
		return "", err
	}
	for _, d := range out.(*elbv2api.DescribeTargetHealthOutput).TargetHealthDescriptions {
		if d.TargetHealth != nil && d.TargetHealth.State != nil {
			return *d.TargetHealth.State, nil
		}
	}
	return "", nil
}

func (t targetGroups) TargetGroupExists(account, region, arn string) (bool, error) {
	_, err := t.elb.Invoke(asContext(context.Background(), account, region), "DescribeTargetGroups", &elbv2api.DescribeTargetGroupsInput{TargetGroupArns: []*string{&arn}})
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == "TargetGroupNotFound" {
		return false, nil
	}
	return err == nil, err
}

// alarms is CloudWatch as target tracking policies use it.
type alarms struct{ cw api.Invoker }

func (a alarms) PutAlarm(account, region string, s AlarmSpec) error {
	in := &cwapi.PutMetricAlarmInput{
		AlarmName: str(s.Name), AlarmDescription: str(s.Description), Namespace: str(s.Namespace), MetricName: str(s.MetricName),
		Statistic: str(s.Statistic), Period: i64(s.Period), EvaluationPeriods: i64(s.EvaluationPeriods),
		Threshold: &s.Threshold, ComparisonOperator: str(s.ComparisonOperator),
	}
	if s.DatapointsToAlarm > 0 {
		in.DatapointsToAlarm = i64(s.DatapointsToAlarm)
	}
	if s.Unit != "" {
		in.Unit = str(s.Unit)
	}
	for _, d := range s.Dimensions {
		in.Dimensions = append(in.Dimensions, &cwapi.Dimension{Name: str(d.Name), Value: str(d.Value)})
	}
	for _, act := range s.AlarmActions {
		in.AlarmActions = append(in.AlarmActions, str(act))
	}
	_, err := a.cw.Invoke(asContext(context.Background(), account, region), "PutMetricAlarm", in)
	return err
}

func (a alarms) DeleteAlarm(account, region, name string) error {
	_, err := a.cw.Invoke(asContext(context.Background(), account, region), "DeleteAlarms", &cwapi.DeleteAlarmsInput{AlarmNames: []*string{&name}})
	return err
}

// publishGroupMetrics publishes the AWS/AutoScaling metrics of the groups
// that enabled them, once a virtual minute (their 1Minute granularity),
// until ctx ends.
func publishGroupMetrics(ctx context.Context, as *Service, cw metric.Publisher, clk *clock.Clock, log *slog.Logger) {
	t := time.NewTicker(clk.Wall(time.Minute))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		groups, err := as.CollectMetrics()
		if err != nil {
			log.Warn("autoscaling: group metrics", "error", err)
			continue
		}
		now := clk.Now()
		for _, g := range groups {
			data := make([]metric.Datum, 0, len(g.Values))
			for name, v := range g.Values {
				data = append(data, metric.Datum{Name: name, Value: v, Time: now, Dimensions: map[string]string{"AutoScalingGroupName": g.Group}})
			}
			if err := cw.Publish(g.Account, g.Region, "AWS/AutoScaling", data); err != nil {
				log.Warn("autoscaling: publishing group metrics", "group", g.Group, "error", err)
			}
		}
	}
}
