package authz

import (
	"context"
	"reflect"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/arn"
)

// Accesses returns the accesses a call needs: its service's Refiner's, or
// by default "<prefix>:<Operation>" on each resource the input names (see
// resources) or on "*". Each carries the tags the input sets
// (aws:RequestTag/, aws:TagKeys) unless its refiner said them.
func (a *Authorizer) Accesses(ctx context.Context, svc *api.Service, op string, in any) []Access {
	prefix := Prefix(svc)
	var out []Access
	if r, ok := a.cfg.Refiners[svc.Package]; ok {
		out = r.Authorization(ctx, op, in)
	}
	if len(out) == 0 {
		for _, res := range a.resources(api.RequestFrom(ctx), prefix, op, in) {
			out = append(out, Access{Resource: res})
		}
	}
	if len(out) == 0 {
		out = []Access{{}}
	}
	tags := requestTags(in)
	for i := range out {
		acc := &out[i]
		if acc.Action == "" {
			acc.Action = prefix + ":" + op
		}
		if acc.Resource == "" {
			acc.Resource = "*"
		}
		if _, said := acc.Keys["aws:TagKeys"]; !said && len(tags) > 0 {
			keys := make(map[string][]string, len(acc.Keys)+len(tags))
			for k, v := range acc.Keys {
				keys[k] = v
			}
			for k, v := range tags {
				keys[k] = v
			}
			acc.Keys = keys
		}
	}
	return out
}

// named is an input member that names a resource by its name or id, and
// the ARN that makes: {p} is the region's partition, {r} the region, {a}
// the account, {n} the member's value. ops, when set, are the only
// operations where the member means this resource.
type named struct {
	member, arn string
	ops         []string
}

// namedResources are the members that name resources, by IAM prefix, as
// the Service Authorization Reference writes their ARNs; the first member
// an input has wins. IAM's and SSM's are in iamResources and
// ssmResources.
var namedResources = map[string][]named{
	"autoscaling": {
		{member: "AutoScalingGroupName", arn: "arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/{n}"},
		{member: "AutoScalingGroupNames", arn: "arn:{p}:autoscaling:{r}:{a}:autoScalingGroup:*:autoScalingGroupName/{n}"},
		{member: "LaunchConfigurationName", arn: "arn:{p}:autoscaling:{r}:{a}:launchConfiguration:*:launchConfigurationName/{n}"},
	},
	"cloudwatch": {
		{member: "AlarmName", arn: "arn:{p}:cloudwatch:{r}:{a}:alarm:{n}"},
		{member: "AlarmNames", arn: "arn:{p}:cloudwatch:{r}:{a}:alarm:{n}"},
		{member: "DashboardName", arn: "arn:{p}:cloudwatch::{a}:dashboard/{n}"},
		{member: "DashboardNames", arn: "arn:{p}:cloudwatch::{a}:dashboard/{n}"},
	},
	"route53": {
		{member: "HostedZoneId", arn: "arn:{p}:route53:::hostedzone/{n}"},
		{member: "HealthCheckId", arn: "arn:{p}:route53:::healthcheck/{n}"},
		{member: "Id", arn: "arn:{p}:route53:::change/{n}", ops: []string{"GetChange"}},
		{member: "Id", arn: "arn:{p}:route53:::delegationset/{n}", ops: []string{"GetReusableDelegationSet", "DeleteReusableDelegationSet"}},
		{member: "Id", arn: "arn:{p}:route53:::hostedzone/{n}", ops: []string{"GetHostedZone", "DeleteHostedZone", "UpdateHostedZoneComment", "GetDNSSEC"}},
	},
	"sts": {
		// AssumeRole* act on the role.
		{member: "RoleArn", arn: "{n}"},
	},
}

// resources are the resources a call's input names: for IAM and SSM
// theirs; else the first member of namedResources the input has, or the
// ARNs its …Arn/…ARN members hold that are the service's own (a TopicARN
// given to Auto Scaling is not what the call acts on). None is "*".
func (a *Authorizer) resources(req *api.Request, prefix, op string, in any) []string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	switch prefix {
	case "iam":
		return a.iamResources(req.Caller.Account, v)
	case "ssm":
		return ssmResources(req.Region, req.Caller.Account, v)
	}
	r := strings.NewReplacer("{p}", arn.Partition(req.Region), "{r}", req.Region, "{a}", req.Caller.Account)
	for _, m := range namedResources[prefix] {
		if m.ops != nil && !contains(m.ops, op) {
			continue
		}
		var out []string
		for _, n := range strs(v, m.member) {
			if prefix == "route53" {
				n = n[strings.LastIndexByte(n, '/')+1:] // "/hostedzone/Z1" names Z1
			}
			if res := strings.ReplaceAll(r.Replace(m.arn), "{n}", n); wellFormed(res) {
				out = append(out, res)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	var out []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Name
		if !strings.HasSuffix(name, "Arn") && !strings.HasSuffix(name, "ARN") && !strings.HasSuffix(name, "Arns") && !strings.HasSuffix(name, "ARNs") {
			continue
		}
		for _, s := range strs(v, name) {
			if a, err := arn.Parse(s); err == nil && a.Service == prefix && a.Resource != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// strs is the value of a *string member, or the values of a []*string
// member, of struct v; empty strings left out.
func strs(v reflect.Value, member string) []string {
	f := v.FieldByName(member)
	if !f.IsValid() {
		return nil
	}
	one := func(e reflect.Value) string {
		if e.Kind() == reflect.Pointer && !e.IsNil() && e.Elem().Kind() == reflect.String {
			return e.Elem().String()
		}
		return ""
	}
	if f.Kind() == reflect.Slice {
		var out []string
		for i := 0; i < f.Len(); i++ {
			if s := one(f.Index(i)); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	if s := one(f); s != "" {
		return []string{s}
	}
	return nil
}

// iamResources is the resource of an IAM call, from the input's
// GroupName, InstanceProfileName, UserName, RoleName or PolicyArn, first
// found in that order; none for the others ("*"). A role's ARN has its
// path when IAM has the role; the others' are taken to have "/".
func (a *Authorizer) iamResources(account string, v reflect.Value) []string {
	for _, m := range []struct{ member, noun string }{{"GroupName", "group"}, {"InstanceProfileName", "instance-profile"}, {"UserName", "user"}, {"RoleName", "role"}} {
		n := strs(v, m.member)
		if len(n) == 0 {
			continue
		}
		res := "arn:aws:iam::" + account + ":" + m.noun + "/" + n[0]
		if m.noun == "role" && a.cfg.IAM != nil {
			if full, _, ok, err := a.cfg.IAM.RoleTrust(res); err == nil && ok {
				res = full
			}
		}
		return []string{res}
	}
	for _, member := range []string{"PolicyArn", "OpenIDConnectProviderArn", "SAMLProviderArn"} {
		if p := strs(v, member); len(p) > 0 && wellFormed(p[0]) {
			return p[:1]
		}
	}
	return nil
}

// wellFormed reports whether s is an ARN: what a member the service has
// not validated yet holds may be anything.
func wellFormed(s string) bool {
	a, err := arn.Parse(s)
	return err == nil && a.Resource != ""
}

// ssmResources are the parameters an SSM call names (Name or Names):
// arn:aws:ssm:region:account:parameter/name.
func ssmResources(region, account string, v reflect.Value) []string {
	var out []string
	for _, n := range append(strs(v, "Name"), strs(v, "Names")...) {
		out = append(out, "arn:"+arn.Partition(region)+":ssm:"+region+":"+account+":parameter/"+strings.TrimPrefix(n, "/"))
	}
	return out
}

// requestTags are aws:RequestTag/<key> and aws:TagKeys for the tags an
// input sets (its Tags member of Key/Value pairs) or removes (TagKeys).
func requestTags(in any) map[string][]string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	keys := map[string][]string{}
	var tagKeys []string
	if f := v.FieldByName("Tags"); f.IsValid() && f.Kind() == reflect.Slice {
		for i := 0; i < f.Len(); i++ {
			e := f.Index(i)
			if e.Kind() != reflect.Pointer || e.IsNil() || e.Elem().Kind() != reflect.Struct {
				continue
			}
			k, val := strs(e.Elem(), "Key"), strs(e.Elem(), "Value")
			if len(k) == 0 {
				continue
			}
			tagKeys = append(tagKeys, k[0])
			keys["aws:RequestTag/"+k[0]] = []string{strings.Join(val, "")}
		}
	}
	tagKeys = append(tagKeys, strs(v, "TagKeys")...)
	if len(tagKeys) == 0 {
		return nil
	}
	keys["aws:TagKeys"] = tagKeys
	return keys
}
