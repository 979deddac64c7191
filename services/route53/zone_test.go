package route53_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

var nameServer = regexp.MustCompile(`^ns-(\d+)\.awsdns-\d\d\.(com|net|org|co\.uk)$`)

// TestCreateHostedZone: a public zone as Route 53 creates it (its id,
// delegation set, NS and SOA, a PENDING change), CallerReference
// idempotency, and the zone read back.
func TestCreateHostedZone(t *testing.T) {
	c := newCloud(t)
	out := must[*r53.CreateHostedZoneOutput](t)(c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
		Name: aws.String("Example.COM"), CallerReference: aws.String("ref-1"),
		HostedZoneConfig: &types.HostedZoneConfig{Comment: aws.String("the shop")},
	}))
	hz := out.HostedZone
	id := bare(*hz.Id)
	if !regexp.MustCompile(`^/hostedzone/Z[0-9A-Z]{20}$`).MatchString(*hz.Id) || *hz.Name != "example.com." || *hz.CallerReference != "ref-1" ||
		hz.Config.PrivateZone || aws.ToString(hz.Config.Comment) != "the shop" || aws.ToInt64(hz.ResourceRecordSetCount) != 2 {
		t.Errorf("hosted zone: %+v %+v", hz, hz.Config)
	}
	if aws.ToString(out.Location) != "https://route53.amazonaws.com/2013-04-01/hostedzone/"+id {
		t.Errorf("location %q", aws.ToString(out.Location))
	}
	if out.ChangeInfo.Status != types.ChangeStatusPending || !regexp.MustCompile(`^/change/C[0-9A-Z]{20}$`).MatchString(*out.ChangeInfo.Id) || !out.ChangeInfo.SubmittedAt.Equal(c.clock.Now()) {
		t.Errorf("change info %+v", out.ChangeInfo)
	}
	ns := out.DelegationSet.NameServers
	tlds := []string{"com", "net", "org", "co.uk"}
	if len(ns) != 4 || out.VPC != nil {
		t.Fatalf("delegation set %v, vpc %v", ns, out.VPC)
	}
	for i, n := range ns {
		m := nameServer.FindStringSubmatch(n)
		var num int
		if m != nil {
			fmt.Sscan(m[1], &num)
		}
		if m == nil || m[2] != tlds[i] || num/512 != i {
			t.Errorf("name server %q", n)
		}
	}

	sets := c.sets(t, id)
	if len(sets) != 2 || *sets[0].Name != "example.com." || sets[0].Type != types.RRTypeNs || *sets[0].TTL != 172800 || len(sets[0].ResourceRecords) != 4 ||
		sets[1].Type != types.RRTypeSoa || *sets[1].TTL != 900 || *sets[1].ResourceRecords[0].Value != ns[0]+". awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400" {
		t.Fatalf("apex records: %+v", sets)
	}
	for i, r := range sets[0].ResourceRecords {
		if *r.Value != ns[i]+"." {
			t.Errorf("NS value %q, want %q", *r.Value, ns[i]+".")
		}
	}

	// The same CallerReference never makes a second zone, even once the
	// first is gone.
	again := &r53.CreateHostedZoneInput{Name: aws.String("other.com"), CallerReference: aws.String("ref-1")}
	const already = "A hosted zone has already been created with the specified caller reference."
	_, err := c.r53.CreateHostedZone(ctx, again)
	wantErr(t, err, "HostedZoneAlreadyExists", 409, already)

	got := must[*r53.GetHostedZoneOutput](t)(c.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)}))
	if *got.HostedZone.Id != *hz.Id || !slices.Equal(got.DelegationSet.NameServers, ns) || len(got.VPCs) != 0 {
		t.Errorf("get hosted zone: %+v %+v %v", got.HostedZone, got.DelegationSet, got.VPCs)
	}
	// A zone's name servers do not change.
	if got := c.sets(t, id); *got[0].ResourceRecords[0].Value != ns[0]+"." {
		t.Errorf("NS after reading: %v", *got[0].ResourceRecords[0].Value)
	}

	must[*r53.DeleteHostedZoneOutput](t)(c.r53.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)}))
	_, err = c.r53.CreateHostedZone(ctx, again)
	wantErr(t, err, "HostedZoneAlreadyExists", 409, already)
}

// TestHostedZoneErrors: the errors of the zone operations, with their
// messages and statuses.
func TestHostedZoneErrors(t *testing.T) {
	c := newCloud(t)
	id := c.zone(t, "example.com")
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id, chg(types.ChangeActionCreate, rr("www.example.com", types.RRTypeA, 60, "192.0.2.1"))))
	for _, tc := range []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"get unknown", func() error {
			_, err := c.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String("Z0000000000000000000X")})
			return err
		}, "NoSuchHostedZone", 404, "No hosted zone found with ID: Z0000000000000000000X"},
		{"delete unknown", func() error {
			_, err := c.r53.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String("ZNOPE")})
			return err
		}, "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"top-level domain", func() error {
			_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("com."), CallerReference: aws.String("tld")})
			return err
		}, "InvalidDomainName", 400, "com is reserved by AWS!"},
		{"label too long", func() error {
			_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(fmt.Sprintf("%064d.com", 0)), CallerReference: aws.String("long")})
			return err
		}, "InvalidDomainName", 400, fmt.Sprintf("%064d.com is not a valid domain name: DomainLabelTooLong (Domain label is too long)", 0)},
		{"empty label", func() error {
			_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("a..com"), CallerReference: aws.String("dots")})
			return err
		}, "InvalidDomainName", 400, "a..com is not a valid domain name: DomainLabelEmpty (Domain label is empty)"},
		{"delegation set", func() error {
			_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("a.com"), CallerReference: aws.String("ds"), DelegationSetId: aws.String("N123")})
			return err
		}, "NoSuchDelegationSet", 400, "A reusable delegation set with the specified ID does not exist."},
		{"private without VPC", func() error {
			_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("a.com"), CallerReference: aws.String("pz"), HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true}})
			return err
		}, "InvalidInput", 400, "When you create a private hosted zone (PrivateZone is true), you must specify VPCId and VPCRegion."},
		{"not empty", func() error {
			_, err := c.r53.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)})
			return err
		}, "HostedZoneNotEmpty", 400, "The specified hosted zone contains non-required resource record sets and so cannot be deleted."},
		{"comment of unknown", func() error {
			_, err := c.r53.UpdateHostedZoneComment(ctx, &r53.UpdateHostedZoneCommentInput{Id: aws.String("ZNOPE"), Comment: aws.String("x")})
			return err
		}, "NoSuchHostedZone", 404, "No hosted zone found with ID: ZNOPE"},
		{"by name: id without name", func() error {
			_, err := c.r53.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{HostedZoneId: aws.String(id)})
			return err
		}, "InvalidInput", 400, "When you specify HostedZoneId, you must also specify DNSName."},
		{"list: unknown marker", func() error {
			_, err := c.r53.ListHostedZones(ctx, &r53.ListHostedZonesInput{Marker: aws.String("ZNOPE")})
			return err
		}, "InvalidInput", 400, "The marker ZNOPE is not the id of a hosted zone"},
		{"list: delegation set", func() error {
			_, err := c.r53.ListHostedZones(ctx, &r53.ListHostedZonesInput{DelegationSetId: aws.String("N1")})
			return err
		}, "NoSuchDelegationSet", 400, "A reusable delegation set with the specified ID does not exist."},
	} {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.status, tc.msg) })
	}

	// Once its records are gone, the zone can be deleted.
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id, chg(types.ChangeActionDelete, rr("www.example.com", types.RRTypeA, 60, "192.0.2.1"))))
	del := must[*r53.DeleteHostedZoneOutput](t)(c.r53.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(id)}))
	if del.ChangeInfo.Status != types.ChangeStatusPending {
		t.Errorf("delete change: %+v", del.ChangeInfo)
	}
	_, err := c.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)})
	wantErr(t, err, "NoSuchHostedZone", 404, "No hosted zone found with ID: "+id)
	if n := must[*r53.GetHostedZoneCountOutput](t)(c.r53.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})); aws.ToInt64(n.HostedZoneCount) != 0 {
		t.Errorf("count after delete: %d", aws.ToInt64(n.HostedZoneCount))
	}
}

// TestZoneLimit: TooManyHostedZones past the account's quota.
func TestZoneLimit(t *testing.T) {
	c := newCloud(t)
	c.svc.ZoneLimit = 2
	c.zone(t, "a.com")
	c.zone(t, "b.com")
	_, err := c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("c.com"), CallerReference: aws.String("c")})
	wantErr(t, err, "TooManyHostedZones", 400, "Limits Exceeded: MAX_HOSTED_ZONES_BY_OWNER - Cannot create more hosted zones.")
}

// TestListHostedZones: creation order and Marker/MaxItems pages;
// ListHostedZonesByName's reversed-label order and DNSName/HostedZoneId
// starts; the count; the comment; private zones alone.
func TestListHostedZones(t *testing.T) {
	c := newCloud(t)
	names := []string{"b.example.com", "example.org", "a-b.example.com", "example.com", "a.example.com"}
	ids := map[string]string{}
	for _, n := range names {
		ids[n] = c.zone(t, n)
	}
	var pages [][]string
	var marker *string
	for {
		out := must[*r53.ListHostedZonesOutput](t)(c.r53.ListHostedZones(ctx, &r53.ListHostedZonesInput{MaxItems: aws.Int32(2), Marker: marker}))
		var page []string
		for _, z := range out.HostedZones {
			page = append(page, *z.Name)
		}
		pages = append(pages, page)
		if aws.ToInt32(out.MaxItems) != 2 || aws.ToString(out.Marker) != aws.ToString(marker) {
			t.Errorf("page echo: MaxItems %d Marker %q", aws.ToInt32(out.MaxItems), aws.ToString(out.Marker))
		}
		if !out.IsTruncated {
			break
		}
		marker = out.NextMarker
	}
	if fmt.Sprint(pages) != "[[b.example.com. example.org.] [a-b.example.com. example.com.] [a.example.com.]]" {
		t.Errorf("pages %v", pages)
	}

	byName := func(in *r53.ListHostedZonesByNameInput) (string, *r53.ListHostedZonesByNameOutput) {
		out := must[*r53.ListHostedZonesByNameOutput](t)(c.r53.ListHostedZonesByName(ctx, in))
		var got []string
		for _, z := range out.HostedZones {
			got = append(got, *z.Name)
		}
		return fmt.Sprint(got), out
	}
	// "com.example." < "com.example.a-b." < "com.example.a." ('-' sorts
	// before '.') < "com.example.b." < "org.example.".
	if got, _ := byName(&r53.ListHostedZonesByNameInput{}); got != "[example.com. a-b.example.com. a.example.com. b.example.com. example.org.]" {
		t.Errorf("by name: %s", got)
	}
	got, out := byName(&r53.ListHostedZonesByNameInput{DNSName: aws.String("A.example.com"), MaxItems: aws.Int32(1)})
	if got != "[a.example.com.]" || !out.IsTruncated || aws.ToString(out.NextDNSName) != "b.example.com." || aws.ToString(out.NextHostedZoneId) != ids["b.example.com"] || aws.ToString(out.DNSName) != "A.example.com" {
		t.Errorf("by name from a.example.com: %s %+v", got, out)
	}
	got, _ = byName(&r53.ListHostedZonesByNameInput{DNSName: out.NextDNSName, HostedZoneId: out.NextHostedZoneId})
	if got != "[b.example.com. example.org.]" {
		t.Errorf("by name, next page: %s", got)
	}

	if n := must[*r53.GetHostedZoneCountOutput](t)(c.r53.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})); aws.ToInt64(n.HostedZoneCount) != 5 {
		t.Errorf("count %d", aws.ToInt64(n.HostedZoneCount))
	}
	// Another account sees none of them.
	if n := must[*r53.GetHostedZoneCountOutput](t)(c.route53("111111111111").GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})); aws.ToInt64(n.HostedZoneCount) != 0 {
		t.Errorf("other account's count %d", aws.ToInt64(n.HostedZoneCount))
	}

	upd := must[*r53.UpdateHostedZoneCommentOutput](t)(c.r53.UpdateHostedZoneComment(ctx, &r53.UpdateHostedZoneCommentInput{Id: aws.String(ids["example.org"]), Comment: aws.String("new")}))
	if aws.ToString(upd.HostedZone.Config.Comment) != "new" {
		t.Errorf("updated comment: %+v", upd.HostedZone.Config)
	}
	upd = must[*r53.UpdateHostedZoneCommentOutput](t)(c.r53.UpdateHostedZoneComment(ctx, &r53.UpdateHostedZoneCommentInput{Id: aws.String(ids["example.org"])}))
	if upd.HostedZone.Config.Comment != nil {
		t.Errorf("comment removed: %+v", upd.HostedZone.Config)
	}

	v := vpc(t, c.ec2)
	c.privateZone(t, "internal.example.com", v)
	priv := must[*r53.ListHostedZonesOutput](t)(c.r53.ListHostedZones(ctx, &r53.ListHostedZonesInput{HostedZoneType: types.HostedZoneTypePrivateHostedZone}))
	if len(priv.HostedZones) != 1 || *priv.HostedZones[0].Name != "internal.example.com." || !priv.HostedZones[0].Config.PrivateZone {
		t.Errorf("private zones: %+v", priv.HostedZones)
	}
}

// The model's constraints fail as Route 53 words them: InvalidInput, with
// the validation message every AWS service shares.
func TestModelValidationIsInvalidInput(t *testing.T) {
	c := newCloud(t)
	zRepeat := "Z123456789012345678901234567890123"
	_, err := c.route53("123456789012").GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(zRepeat)})
	wantErr(t, err, "InvalidInput", 400, "1 validation error detected: Value '"+zRepeat+"' at 'id' failed to satisfy constraint: Member must have length less than or equal to 32")
}
