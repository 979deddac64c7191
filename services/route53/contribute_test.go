package route53_test

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// TestContribute: the zones as the DNS servers see them (desired.Zone):
// names lower case without the trailing dot, values as given, aliases,
// routing, VPCs, and every account's zones in region "".
func TestContribute(t *testing.T) {
	c := newCloud(t)
	v := vpc(t, c.ec2)
	priv := c.privateZone(t, "VProfile.in", v)
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(priv,
		chg(types.ChangeActionCreate, rr("db01.vprofile.in", types.RRTypeA, 300, "172.31.1.10")),
		chg(types.ChangeActionCreate, rr("*.vprofile.in", types.RRTypeTxt, 60, `"any"`)),
	))
	pub := c.zone(t, "example.com")
	hc := c.healthCheck(t, "api", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttpStrMatch, FullyQualifiedDomainName: aws.String("api.example.com"),
		ResourcePath: aws.String("/health"), SearchString: aws.String("ok"), RequestInterval: aws.Int32(10), FailureThreshold: aws.Int32(2)})
	w := rr("api.example.com", types.RRTypeA, 30, "192.0.2.1")
	w.SetIdentifier, w.Weight, w.HealthCheckId = aws.String("blue"), aws.Int64(10), aws.String(hc)
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(pub,
		chg(types.ChangeActionCreate, w),
		chg(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("example.com"), Type: types.RRTypeA, AliasTarget: &types.AliasTarget{
			HostedZoneId: aws.String("Z35SXDOTRQ7X7K"), DNSName: aws.String("dualstack.Web-LB-1.us-east-1.elb.amazonaws.com."), EvaluateTargetHealth: true}}),
		chg(types.ChangeActionCreate, &types.ResourceRecordSet{Name: aws.String("www.example.com"), Type: types.RRTypeA, AliasTarget: &types.AliasTarget{
			HostedZoneId: aws.String(pub), DNSName: aws.String("API.example.com")}}),
	))
	other := c.route53("333333333333")
	must[*r53.CreateHostedZoneOutput](t)(other.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("third.net"), CallerReference: aws.String("t")}))

	if ok := c.svc.Follows("route53:hostedzone") && c.svc.Follows("route53:rrsets") && c.svc.Follows("route53:healthcheck") &&
		!c.svc.Follows("route53:change") && !c.svc.Follows("ec2:vpc"); !ok {
		t.Error("Follows")
	}
	var scopes []desired.Scope
	c.st.View(func(tx *store.Tx) (err error) {
		scopes, err = c.svc.Scopes(tx)
		return err
	})
	if len(scopes) != 2 || scopes[0] != (desired.Scope{Account: account}) || scopes[1] != (desired.Scope{Account: "333333333333"}) {
		t.Errorf("scopes %v", scopes)
	}

	world, err := desired.Snapshot(c.st, c.svc)
	if err != nil {
		t.Fatal(err)
	}
	if len(world.Zones) != 3 || world.Zones[2].Name != "third.net" || world.Zones[2].Account != "333333333333" {
		t.Fatalf("zones: %s", js(world.Zones))
	}
	p, e := world.Zones[0], world.Zones[1]
	want := &desired.Zone{ID: priv, Account: account, Name: "vprofile.in", Private: true, VPCs: []string{v}, Records: []*desired.Record{
		{Name: "vprofile.in", Type: "NS", TTL: 172800, Values: []string{"ns-1536.awsdns-00.co.uk.", "ns-0.awsdns-00.com.", "ns-1024.awsdns-00.org.", "ns-512.awsdns-00.net."}, Healthy: true},
		{Name: "vprofile.in", Type: "SOA", TTL: 900, Values: []string{"ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}, Healthy: true},
		{Name: "*.vprofile.in", Type: "TXT", TTL: 60, Values: []string{`"any"`}, Healthy: true},
		{Name: "db01.vprofile.in", Type: "A", TTL: 300, Values: []string{"172.31.1.10"}, Healthy: true},
	}}
	if js(p) != js(want) {
		t.Errorf("private zone:\n%s\nwant:\n%s", js(p), js(want))
	}
	if e.Name != "example.com" || e.Private || len(e.VPCs) != 0 || len(e.Records) != 5 {
		t.Fatalf("public zone: %s", js(e))
	}
	ten := int64(10)
	wantRecs := []*desired.Record{
		{Name: "example.com", Type: "A", AliasTarget: "web-lb-1.us-east-1.elb.amazonaws.com", EvaluateTargetHealth: true, Healthy: true},
		{Name: "api.example.com", Type: "A", TTL: 30, Values: []string{"192.0.2.1"}, SetID: "blue", Weight: &ten, HealthCheck: hc, Healthy: true},
		{Name: "www.example.com", Type: "A", AliasTarget: "api.example.com", Healthy: true},
	}
	got := []*desired.Record{e.Records[0], e.Records[3], e.Records[4]}
	if js(got) != js(wantRecs) {
		t.Errorf("public records:\n%s\nwant:\n%s", js(got), js(wantRecs))
	}

	wantHC := []*desired.DNSHealthCheck{{ID: hc, Account: account, Type: "HTTP_STR_MATCH", FQDN: "api.example.com", Port: 80, ResourcePath: "/health",
		SearchString: "ok", RequestInterval: 10, FailureThreshold: 2}}
	if js(world.HealthChecks) != js(wantHC) {
		t.Errorf("health checks:\n%s\nwant:\n%s", js(world.HealthChecks), js(wantHC))
	}
	// The data plane reports the check unhealthy: so is its record.
	if err := c.svc.ReportHealthCheck(account, hc, false, "Failure: HTTP Status Code 503, Service Unavailable"); err != nil {
		t.Fatal(err)
	}
	world, _ = desired.Snapshot(c.st, c.svc)
	if r := world.Zones[1].Records[3]; r.HealthCheck != hc || r.Healthy {
		t.Errorf("after an unhealthy report: %s", js(r))
	}
	// A record whose health check is deleted counts as healthy again.
	must[*r53.DeleteHealthCheckOutput](t)(c.r53.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: aws.String(hc)}))
	world, _ = desired.Snapshot(c.st, c.svc)
	if r := world.Zones[1].Records[3]; !r.Healthy || len(world.HealthChecks) != 0 {
		t.Errorf("after the health check is deleted: %s %s", js(r), js(world.HealthChecks))
	}

	// A region's scope has no zones.
	w2 := &desired.World{}
	c.st.View(func(tx *store.Tx) error {
		return c.svc.Contribute(tx, desired.Scope{Account: account, Region: region}, w2)
	})
	if len(w2.Zones) != 0 {
		t.Errorf("zones in a region's scope: %s", js(w2.Zones))
	}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
