package route53_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestListResourceRecordSets: Route 53's order (the name's labels
// reversed, then the type, then the set identifier) and its pages
// (StartRecordName/Type/Identifier, NextRecord*, MaxItems).
func TestListResourceRecordSets(t *testing.T) {
	c := newCloud(t)
	id := c.zone(t, "example.com")
	weighted := func(set string) types.Change {
		s := rr("w.example.com", types.RRTypeA, 60, "192.0.2.1")
		s.SetIdentifier, s.Weight = aws.String(set), aws.Int64(1)
		return chg(types.ChangeActionCreate, s)
	}
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id,
		chg(types.ChangeActionCreate, rr("b.example.com", types.RRTypeTxt, 60, `"b"`)),
		chg(types.ChangeActionCreate, rr("b.example.com", types.RRTypeA, 60, "192.0.2.2")),
		chg(types.ChangeActionCreate, rr("a-b.example.com", types.RRTypeA, 60, "192.0.2.3")),
		chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeA, 60, "192.0.2.4")),
		chg(types.ChangeActionCreate, rr("x.a.example.com", types.RRTypeA, 60, "192.0.2.5")),
		chg(types.ChangeActionCreate, rr("*.example.com", types.RRTypeA, 60, "192.0.2.6")),
		weighted("two"), weighted("one"), weighted("three"),
	))
	all := []string{
		"example.com. NS", "example.com. SOA",
		`\052.example.com. A`, // '*' comes before letters and '.'
		"a-b.example.com. A",  // "com.example.a-b." < "com.example.a."
		"a.example.com. A",
		"x.a.example.com. A",
		"b.example.com. A", "b.example.com. TXT",
		"w.example.com. A [one]", "w.example.com. A [three]", "w.example.com. A [two]",
	}
	short := func(s types.ResourceRecordSet) string {
		v := aws.ToString(s.Name) + " " + string(s.Type)
		if s.SetIdentifier != nil {
			v += " [" + *s.SetIdentifier + "]"
		}
		return v
	}
	var got []string
	for _, s := range c.sets(t, id) {
		got = append(got, short(s))
	}
	if strings.Join(got, "\n") != strings.Join(all, "\n") {
		t.Fatalf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(all, "\n"))
	}

	// Pages of 2 by hand, following NextRecord*.
	in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), MaxItems: aws.Int32(2)}
	var paged []string
	for page := 0; ; page++ {
		out := must[*r53.ListResourceRecordSetsOutput](t)(c.r53.ListResourceRecordSets(ctx, in))
		if aws.ToInt32(out.MaxItems) != 2 || len(out.ResourceRecordSets) > 2 {
			t.Fatalf("page %d: MaxItems %d, %d sets", page, aws.ToInt32(out.MaxItems), len(out.ResourceRecordSets))
		}
		for _, s := range out.ResourceRecordSets {
			paged = append(paged, short(s))
		}
		if !out.IsTruncated {
			if out.NextRecordName != nil {
				t.Errorf("last page has NextRecordName %q", *out.NextRecordName)
			}
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	if strings.Join(paged, "\n") != strings.Join(all, "\n") {
		t.Errorf("paged:\n%s", strings.Join(paged, "\n"))
	}

	start := func(name string, typ types.RRType, set string, max int32) string {
		in := &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordName: aws.String(name), StartRecordType: typ, MaxItems: aws.Int32(max)}
		if set != "" {
			in.StartRecordIdentifier = aws.String(set)
		}
		out := must[*r53.ListResourceRecordSetsOutput](t)(c.r53.ListResourceRecordSets(ctx, in))
		var s []string
		for _, r := range out.ResourceRecordSets {
			s = append(s, short(r))
		}
		next := ""
		if out.IsTruncated {
			next = fmt.Sprintf(" next=%s/%s/%s", aws.ToString(out.NextRecordName), out.NextRecordType, aws.ToString(out.NextRecordIdentifier))
		}
		return strings.Join(s, ",") + next
	}
	for _, tc := range []struct {
		name string
		typ  types.RRType
		set  string
		max  int32
		want string
	}{
		{"B.example.com", "", "", 1, "b.example.com. A next=b.example.com./TXT/"},
		{"b.example.com", types.RRTypeTxt, "", 5, "b.example.com. TXT,w.example.com. A [one],w.example.com. A [three],w.example.com. A [two]"},
		{"b.example.com", types.RRTypeMx, "", 1, "b.example.com. TXT next=w.example.com./A/one"},
		{"w.example.com", types.RRTypeA, "three", 5, "w.example.com. A [three],w.example.com. A [two]"},
		{"c.example.com", "", "", 1, "w.example.com. A [one] next=w.example.com./A/three"},
		{"zzz.example.com", "", "", 1, ""},
		{"com", "", "", 1, "example.com. NS next=example.com./SOA/"},
	} {
		if got := start(tc.name, tc.typ, tc.set, tc.max); got != tc.want {
			t.Errorf("from %s %s %s: %s, want %s", tc.name, tc.typ, tc.set, got, tc.want)
		}
	}

	_, err := c.r53.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(id), StartRecordType: types.RRTypeA})
	wantErr(t, err, "InvalidInput", 400, "The input is not valid: StartRecordType can be specified only with StartRecordName.")
	_, err = c.r53.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String("ZNOPE")})
	wantErr(t, err, "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE")
}

// TestTags: ChangeTagsForResource and the two ways to list them.
func TestTags(t *testing.T) {
	c := newCloud(t)
	a, b := c.zone(t, "a.com"), c.zone(t, "b.com")
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	must[*r53.ChangeTagsForResourceOutput](t)(c.r53.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{
		ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(a), AddTags: []types.Tag{tag("env", "dev"), tag("team", "web"), tag("x", "1")},
	}))
	must[*r53.ChangeTagsForResourceOutput](t)(c.r53.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{
		ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(a), AddTags: []types.Tag{tag("env", "prod")}, RemoveTagKeys: []string{"x", "absent"},
	}))
	shownTags := func(ts []types.Tag) string {
		var s []string
		for _, t := range ts {
			s = append(s, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
		}
		return strings.Join(s, ",")
	}
	one := must[*r53.ListTagsForResourceOutput](t)(c.r53.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(a)}))
	if got := shownTags(one.ResourceTagSet.Tags); got != "env=prod,team=web" || aws.ToString(one.ResourceTagSet.ResourceId) != a || one.ResourceTagSet.ResourceType != types.TagResourceTypeHostedzone {
		t.Errorf("tags of %s: %s %+v", a, got, one.ResourceTagSet)
	}
	many := must[*r53.ListTagsForResourcesOutput](t)(c.r53.ListTagsForResources(ctx, &r53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHostedzone, ResourceIds: []string{a, b}}))
	if len(many.ResourceTagSets) != 2 || shownTags(many.ResourceTagSets[0].Tags) != "env=prod,team=web" || aws.ToString(many.ResourceTagSets[1].ResourceId) != b || len(many.ResourceTagSets[1].Tags) != 0 {
		t.Errorf("tags of both: %+v", many.ResourceTagSets)
	}

	var ten []types.Tag
	for i := 0; i < 10; i++ {
		ten = append(ten, tag(fmt.Sprintf("k%d", i), "v"))
	}
	_, err := c.r53.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String(a), AddTags: ten})
	wantErr(t, err, "InvalidInput", 400, "Invalid request: a resource can have at most 10 tags.")
	_, err = c.r53.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHostedzone, ResourceId: aws.String("ZNOPE"), AddTags: []types.Tag{tag("a", "b")}})
	wantErr(t, err, "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE")
	_, err = c.r53.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String("abc")})
	wantErr(t, err, "NoSuchHealthCheck", 404, "No health check exists with the specified ID abc")
	_, err = c.r53.ListTagsForResources(ctx, &r53.ListTagsForResourcesInput{ResourceType: types.TagResourceTypeHostedzone, ResourceIds: []string{a, "ZNOPE"}})
	wantErr(t, err, "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE")
}
