package ec2

import (
	"context"
	"reflect"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/store"
)

// created is the resource type each create operation makes, as the
// Service Authorization Reference names it: the call is authorized on
// "<type>/*" with the tags it asks for (aws:RequestTag/, aws:TagKeys).
var created = map[string]string{
	"RunInstances":               "instance",
	"CreateVpc":                  "vpc",
	"CreateSubnet":               "subnet",
	"CreateSecurityGroup":        "security-group",
	"CreateVolume":               "volume",
	"CreateSnapshot":             "snapshot",
	"CopySnapshot":               "snapshot",
	"CreateNetworkInterface":     "network-interface",
	"CreateLaunchTemplate":       "launch-template",
	"CreateInternetGateway":      "internet-gateway",
	"CreateRouteTable":           "route-table",
	"CreateNetworkAcl":           "network-acl",
	"AllocateAddress":            "elastic-ip",
	"CreateNatGateway":           "natgateway",
	"CreateVpcPeeringConnection": "vpc-peering-connection",
	"CreateDhcpOptions":          "dhcp-options",
	"CreateImage":                "image",
	"CopyImage":                  "image",
	"RegisterImage":              "image",
}

// Authorization is the accesses of an EC2 call, for the authorizer
// (cloudbox up --iam): ec2:<Operation> on each resource the input names
// by id (InstanceIds, GroupId, SubnetId, Resources...; KeyName), with
// its tags as ec2:ResourceTag/ and aws:ResourceTag/ and an instance's
// ec2:InstanceType from EC2's records; a create operation also on the
// "<type>/*" it makes, with the tags it asks for. Describe* are on "*"
// (they support no resource-level permissions on AWS either).
func (s *Service) Authorization(ctx context.Context, op string, in any) []authz.Access {
	action := "ec2:" + op
	if strings.HasPrefix(op, "Describe") {
		return []authz.Access{{Action: action}}
	}
	r := api.RequestFrom(ctx)
	sc := scope{account: r.Caller.Account, region: r.Region}
	tags := requestTags(in)
	var out []authz.Access
	if t, ok := created[op]; ok {
		keys := map[string][]string{"ec2:Region": {sc.region}}
		for k, v := range tags {
			keys[k] = v
		}
		if it := memberStrings(in, "InstanceType"); op == "RunInstances" && len(it) > 0 {
			keys["ec2:InstanceType"] = it
		}
		out = append(out, authz.Access{Action: action, Resource: sc.arn(t, "*"), Keys: keys})
	}
	ids := namedIDs(in)
	if len(ids) == 0 {
		return out
	}
	// A store that cannot be read leaves the resources without their
	// tags: conditions on them then do not match.
	s.store.View(func(tx *store.Tx) error {
		for _, id := range ids {
			acc := authz.Access{Action: action, Keys: map[string][]string{"ec2:Region": {sc.region}}}
			acc.Resource = sc.resourceKeys(tx, id, acc.Keys)
			if op == "CreateTags" || op == "DeleteTags" {
				for k, v := range tags {
					acc.Keys[k] = v
				}
			}
			out = append(out, acc)
		}
		return nil
	})
	return out
}

// arn is the ARN of an EC2 resource; images and snapshots are not an
// account's.
func (sc scope) arn(typ, id string) string {
	account := sc.account
	if typ == "image" || typ == "snapshot" {
		account = ""
	}
	return arn.New("ec2", sc.region, account, typ+"/"+id).String()
}

// resourceKeys returns the ARN of the resource id names (a key pair by
// its name, "key-name:" prefixed) and adds its keys from EC2's records.
func (sc scope) resourceKeys(tx *store.Tx, id string, keys map[string][]string) string {
	if name, ok := strings.CutPrefix(id, "key-name:"); ok {
		return sc.arn("key-pair", name)
	}
	k := kindOfID(id)
	var rec struct {
		Tags, TagSet []*ec2api.Tag
		InstanceType *string
		KeyName      *string
	}
	found, err := tx.Get(sc.key(k, id), &rec)
	if err != nil || !found {
		if k == kindKeyPair {
			return sc.arn("key-pair", "*") // its name is unknown
		}
		return sc.arn(k.resourceType, id)
	}
	for _, t := range append(rec.Tags, rec.TagSet...) {
		if t != nil && t.Key != nil && t.Value != nil {
			keys["ec2:ResourceTag/"+*t.Key] = []string{*t.Value}
			keys["aws:ResourceTag/"+*t.Key] = []string{*t.Value}
		}
	}
	if k == kindInstance && rec.InstanceType != nil {
		keys["ec2:InstanceType"] = []string{*rec.InstanceType}
	}
	if k == kindKeyPair && rec.KeyName != nil {
		return sc.arn("key-pair", *rec.KeyName)
	}
	return sc.arn(k.resourceType, id)
}

// namedIDs are the resources an input names: the values of its
// top-level …Id and …Ids members (and CreateTags' Resources) that are
// ids of a kind EC2 keeps, and KeyName as "key-name:<name>".
func namedIDs(in any) []string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	var ids []string
	seen := map[string]bool{}
	t := v.Elem().Type()
	for i := 0; i < t.NumField(); i++ {
		name := t.Field(i).Name
		if !strings.HasSuffix(name, "Id") && !strings.HasSuffix(name, "Ids") && name != "Resources" && name != "KeyName" {
			continue
		}
		for _, s := range memberStrings(in, name) {
			if name == "KeyName" {
				s = "key-name:" + s
			} else if kindOfID(s) == nil {
				continue
			}
			if !seen[s] {
				seen[s] = true
				ids = append(ids, s)
			}
		}
	}
	return ids
}

// requestTags are aws:RequestTag/<key> and aws:TagKeys of the tags a
// call sets (its TagSpecifications, CreateTags' Tags), and aws:TagKeys
// of those DeleteTags removes.
func requestTags(in any) map[string][]string {
	var tags []*ec2api.Tag
	removing := false
	switch r := in.(type) {
	case *ec2api.CreateTagsRequest:
		tags = r.Tags
	case *ec2api.DeleteTagsRequest:
		tags, removing = r.Tags, true
	default:
		v := reflect.ValueOf(in)
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return nil
		}
		f := v.Elem().FieldByName("TagSpecifications")
		if !f.IsValid() {
			return nil
		}
		specs, _ := f.Interface().([]*ec2api.TagSpecification)
		for _, s := range specs {
			if s != nil {
				tags = append(tags, s.Tags...)
			}
		}
	}
	keys := map[string][]string{}
	var names []string
	for _, t := range tags {
		if t == nil || t.Key == nil {
			continue
		}
		names = append(names, *t.Key)
		if t.Value != nil && !removing {
			keys["aws:RequestTag/"+*t.Key] = []string{*t.Value}
		}
	}
	if len(names) == 0 {
		return nil
	}
	keys["aws:TagKeys"] = names
	return keys
}

// memberStrings is the value of an input's *string member, or the values
// of its []*string member.
func memberStrings(in any, name string) []string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() {
		return nil
	}
	one := func(e reflect.Value) string {
		if e.Kind() == reflect.Pointer && !e.IsNil() && e.Elem().Kind() == reflect.String {
			return e.Elem().String()
		}
		return ""
	}
	if f.Kind() != reflect.Slice {
		if s := one(f); s != "" {
			return []string{s}
		}
		return nil
	}
	var out []string
	for i := 0; i < f.Len(); i++ {
		if s := one(f.Index(i)); s != "" {
			out = append(out, s)
		}
	}
	return out
}
