package authz_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/s3"
	"github.com/cloudbox/cloudbox/store"
)

func ptr(s string) *string { return &s }

// The resources the inputs of the services without a refiner name, as
// the Service Authorization Reference writes their ARNs.
func TestResources(t *testing.T) {
	a := authz.New(authz.Config{Mode: authz.Enforce})
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "eu-west-1", Caller: api.Principal{Account: "111122223333"}})
	tg := "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/0123456789abcdef"
	for _, c := range []struct {
		svc  *api.Service
		op   string
		in   any
		want []string
	}{
		{&api.Service{Package: "autoscaling", SigningName: "autoscaling"}, "UpdateAutoScalingGroup", &struct{ AutoScalingGroupName *string }{ptr("web")},
			[]string{"arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/web"}},
		// The SNS topic and the role given to Auto Scaling are not what
		// the call acts on.
		{&api.Service{Package: "autoscaling", SigningName: "autoscaling"}, "PutLifecycleHook", &struct{ AutoScalingGroupName, NotificationTargetARN, RoleARN *string }{ptr("web"), ptr("arn:aws:sns:eu-west-1:111122223333:t"), ptr("arn:aws:iam::111122223333:role/r")},
			[]string{"arn:aws:autoscaling:eu-west-1:111122223333:autoScalingGroup:*:autoScalingGroupName/web"}},
		{&api.Service{Package: "autoscaling", SigningName: "autoscaling"}, "PutNotificationConfiguration", &struct{ TopicARN *string }{ptr("arn:aws:sns:eu-west-1:111122223333:t")}, []string{"*"}},
		{&api.Service{Package: "cloudwatch", SigningName: "monitoring"}, "DeleteAlarms", &struct{ AlarmNames []*string }{[]*string{ptr("a1"), ptr("a2")}},
			[]string{"arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a1", "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a2"}},
		{&api.Service{Package: "elbv2", SigningName: "elasticloadbalancing"}, "RegisterTargets", &struct{ TargetGroupArn *string }{&tg}, []string{tg}},
		{&api.Service{Package: "route53", SigningName: "route53"}, "ChangeResourceRecordSets", &struct{ HostedZoneId *string }{ptr("/hostedzone/Z123")}, []string{"arn:aws:route53:::hostedzone/Z123"}},
		{&api.Service{Package: "route53", SigningName: "route53"}, "GetChange", &struct{ Id *string }{ptr("C9")}, []string{"arn:aws:route53:::change/C9"}},
		{&api.Service{Package: "route53", SigningName: "route53"}, "GetHealthCheck", &struct{ HealthCheckId *string }{ptr("h1")}, []string{"arn:aws:route53:::healthcheck/h1"}},
		{&api.Service{Package: "acm", SigningName: "acm"}, "DescribeCertificate", &struct{ CertificateArn *string }{ptr("arn:aws:acm:eu-west-1:111122223333:certificate/c1")}, []string{"arn:aws:acm:eu-west-1:111122223333:certificate/c1"}},
		{&api.Service{Package: "sts", SigningName: "sts"}, "AssumeRole", &struct{ RoleArn *string }{ptr("arn:aws:iam::111122223333:role/r")}, []string{"arn:aws:iam::111122223333:role/r"}},
		{&api.Service{Package: "iam", SigningName: "iam"}, "AttachRolePolicy", &struct{ RoleName, PolicyArn *string }{ptr("r"), ptr("arn:aws:iam::aws:policy/ReadOnlyAccess")}, []string{"arn:aws:iam::111122223333:role/r"}},
	} {
		var got []string
		for _, acc := range a.Accesses(ctx, c.svc, c.op, c.in) {
			got = append(got, acc.Resource)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %v, want %v", c.svc.Package, c.op, got, c.want)
		}
	}
	// The tags an input sets are aws:RequestTag/ and aws:TagKeys.
	type tag struct{ Key, Value *string }
	acc := a.Accesses(ctx, &api.Service{Package: "iam", SigningName: "iam"}, "TagRole", &struct {
		RoleName *string
		Tags     []*tag
	}{ptr("r"), []*tag{{ptr("env"), ptr("prod")}}})
	if k := acc[0].Keys; !slices.Equal(k["aws:RequestTag/env"], []string{"prod"}) || !slices.Equal(k["aws:TagKeys"], []string{"env"}) {
		t.Errorf("TagRole keys %v", k)
	}
}

// Every operation of every served service, its string members filled,
// is authorized on well-formed ARNs or on "*".
func TestEveryOperationsResources(t *testing.T) {
	d, err := daemon.New(daemon.Config{Ephemeral: true, Dataplane: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	refiners := map[string]authz.Refiner{"s3": &s3.Service{}, "ec2": ec2.New(store.OpenMemory(), time.Now, nil, 1)}
	a := authz.New(authz.Config{Mode: authz.Enforce, Refiners: refiners})
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "eu-west-1", Caller: api.Principal{Account: "111122223333"}})
	for _, s := range d.Services() {
		for _, op := range s.Invoker.Implemented() {
			o := s.API.Operations[op]
			if o == nil || o.NewInput == nil {
				continue
			}
			in := o.NewInput()
			fill(reflect.ValueOf(in))
			for _, acc := range a.Accesses(ctx, s.API, op, in) {
				if !strings.HasPrefix(acc.Action, authz.Prefix(s.API)+":") && s.API.Package != "s3" {
					t.Errorf("%s %s: action %s", s.API.Package, op, acc.Action)
				}
				if acc.Resource == "*" {
					continue
				}
				r, err := arn.Parse(acc.Resource)
				if err != nil || r.Resource == "" || strings.Contains(acc.Resource, "{") {
					t.Errorf("%s %s: resource %q", s.API.Package, op, acc.Resource)
				}
			}
		}
	}
}

// fill sets an input's top-level string members to "name-1" and its
// string lists to one such value.
func fill(v reflect.Value) {
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Type() == reflect.TypeFor[*string]():
			f.Set(reflect.ValueOf(ptr("name-1")))
		case f.Type() == reflect.TypeFor[[]*string]():
			f.Set(reflect.ValueOf([]*string{ptr("name-1")}))
		}
	}
}
