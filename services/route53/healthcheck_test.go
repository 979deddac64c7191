package route53_test

import (
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// TestHealthChecks: health checks created with Route 53's defaults,
// CallerReference idempotency, pages, updates with HealthCheckVersion, the
// status the data plane reports, tags, and the errors.
func TestHealthChecks(t *testing.T) {
	c := newCloud(t)
	create := func(ref string, cfg *types.HealthCheckConfig) (*r53.CreateHealthCheckOutput, error) {
		return c.r53.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String(ref), HealthCheckConfig: cfg})
	}
	httpCfg := func() *types.HealthCheckConfig {
		return &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("198.51.100.7"), ResourcePath: aws.String("/health")}
	}
	out := must[*r53.CreateHealthCheckOutput](t)(create("web", httpCfg()))
	hc := out.HealthCheck
	id := aws.ToString(hc.Id)
	cfg := hc.HealthCheckConfig
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) || aws.ToInt64(hc.HealthCheckVersion) != 1 ||
		aws.ToString(hc.CallerReference) != "web" || aws.ToString(out.Location) != "https://route53.amazonaws.com/2013-04-01/healthcheck/"+id {
		t.Errorf("health check %+v, location %q", hc, aws.ToString(out.Location))
	}
	if aws.ToInt32(cfg.Port) != 80 || aws.ToInt32(cfg.RequestInterval) != 30 || aws.ToInt32(cfg.FailureThreshold) != 3 || aws.ToBool(cfg.Inverted) ||
		aws.ToBool(cfg.Disabled) || aws.ToBool(cfg.MeasureLatency) || cfg.EnableSNI != nil || aws.ToString(cfg.ResourcePath) != "/health" {
		t.Errorf("defaults: %+v", cfg)
	}
	https := must[*r53.CreateHealthCheckOutput](t)(create("secure", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttps, FullyQualifiedDomainName: aws.String("www.example.com")}))
	if aws.ToInt32(https.HealthCheck.HealthCheckConfig.Port) != 443 || !aws.ToBool(https.HealthCheck.HealthCheckConfig.EnableSNI) {
		t.Errorf("HTTPS defaults: %+v", https.HealthCheck.HealthCheckConfig)
	}
	// The same request again is the same health check.
	if again := must[*r53.CreateHealthCheckOutput](t)(create("web", httpCfg())); aws.ToString(again.HealthCheck.Id) != id {
		t.Errorf("the same request made health check %s, not %s", aws.ToString(again.HealthCheck.Id), id)
	}
	const already = "A health check has already been created with the specified caller reference."
	other := httpCfg()
	other.Port = aws.Int32(8080)
	_, err := create("web", other)
	wantErr(t, err, "HealthCheckAlreadyExists", 409, already)

	tcp := must[*r53.CreateHealthCheckOutput](t)(create("tcp", &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("198.51.100.8"), Port: aws.Int32(5432)}))
	calc := must[*r53.CreateHealthCheckOutput](t)(create("calc", &types.HealthCheckConfig{Type: types.HealthCheckTypeCalculated, HealthThreshold: aws.Int32(1),
		ChildHealthChecks: []string{id, aws.ToString(tcp.HealthCheck.Id)}}))
	if cc := calc.HealthCheck.HealthCheckConfig; aws.ToInt32(cc.HealthThreshold) != 1 || len(cc.ChildHealthChecks) != 2 || cc.RequestInterval != nil {
		t.Errorf("calculated: %+v", cc)
	}

	for _, tc := range []struct {
		name   string
		cfg    *types.HealthCheckConfig
		code   string
		status int
		msg    string
	}{
		{"no endpoint", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp}, "InvalidInput", 400, "Invalid parameter : Either an IP address or a fully qualified domain name must be specified."},
		{"TCP without port", &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("198.51.100.1")}, "InvalidInput", 400, "Invalid parameter : A port must be specified for TCP health checks."},
		{"string match without string", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttpStrMatch, IPAddress: aws.String("198.51.100.1")}, "InvalidInput", 400,
			"Invalid parameter : A search string must be specified for string matching health checks."},
		{"alarm on an HTTP check", &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, IPAddress: aws.String("198.51.100.1"), Port: aws.Int32(80),
			AlarmIdentifier: &types.AlarmIdentifier{Name: aws.String("a"), Region: types.CloudWatchRegionUsEast2}}, "InvalidInput", 400, "Invalid parameter : Basic health checks must not have an metric region specified."},
		{"interval of 20", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("198.51.100.1"), RequestInterval: aws.Int32(20)}, "InvalidInput", 400,
			"Invalid parameter : The request interval must be 10 or 30 seconds."},
		{"bad IP", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("198.51.100")}, "InvalidInput", 400, "Invalid parameter : 198.51.100 is not a valid IP address."},
		{"unknown child", &types.HealthCheckConfig{Type: types.HealthCheckTypeCalculated, HealthThreshold: aws.Int32(1), ChildHealthChecks: []string{"nope"}}, "NoSuchHealthCheck", 404,
			"No health check exists with the specified ID nope"},
		{"threshold above children", &types.HealthCheckConfig{Type: types.HealthCheckTypeCalculated, HealthThreshold: aws.Int32(2), ChildHealthChecks: []string{id}}, "InvalidInput", 400,
			"Invalid parameter : The HealthThreshold (2) is greater than the number of child health checks (1)."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := create("bad-"+tc.name, tc.cfg)
			wantErr(t, err, tc.code, tc.status, tc.msg)
		})
	}

	// Pages, in creation order.
	var pages [][]string
	var marker *string
	for {
		page := must[*r53.ListHealthChecksOutput](t)(c.r53.ListHealthChecks(ctx, &r53.ListHealthChecksInput{MaxItems: aws.Int32(3), Marker: marker}))
		var ids []string
		for _, h := range page.HealthChecks {
			ids = append(ids, aws.ToString(h.CallerReference))
		}
		pages = append(pages, ids)
		if !page.IsTruncated {
			break
		}
		marker = page.NextMarker
	}
	if len(pages) != 2 || len(pages[0]) != 3 || pages[0][0] != "web" || pages[1][0] != "calc" {
		t.Errorf("pages %v", pages)
	}
	if n := must[*r53.GetHealthCheckCountOutput](t)(c.r53.GetHealthCheckCount(ctx, &r53.GetHealthCheckCountInput{})); aws.ToInt64(n.HealthCheckCount) != 4 {
		t.Errorf("count %d", aws.ToInt64(n.HealthCheckCount))
	}

	// Updates: HealthCheckVersion guards, and grows with each change.
	_, err = c.r53.UpdateHealthCheck(ctx, &r53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(7), Port: aws.Int32(8080)})
	wantErr(t, err, "HealthCheckVersionMismatch", 409, "The value of HealthCheckVersion in the request doesn't match the value of HealthCheckVersion in the health check.")
	upd := must[*r53.UpdateHealthCheckOutput](t)(c.r53.UpdateHealthCheck(ctx, &r53.UpdateHealthCheckInput{HealthCheckId: aws.String(id), HealthCheckVersion: aws.Int64(1),
		Port: aws.Int32(8080), FailureThreshold: aws.Int32(1), ResetElements: []types.ResettableElementName{types.ResettableElementNameResourcePath}}))
	if u := upd.HealthCheck; aws.ToInt64(u.HealthCheckVersion) != 2 || aws.ToInt32(u.HealthCheckConfig.Port) != 8080 || aws.ToInt32(u.HealthCheckConfig.FailureThreshold) != 1 ||
		u.HealthCheckConfig.ResourcePath != nil {
		t.Errorf("updated: %+v %+v", u, u.HealthCheckConfig)
	}
	got := must[*r53.GetHealthCheckOutput](t)(c.r53.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: aws.String(id)}))
	if aws.ToInt32(got.HealthCheck.HealthCheckConfig.Port) != 8080 {
		t.Errorf("get after update: %+v", got.HealthCheck.HealthCheckConfig)
	}

	// The status is what the data plane reported.
	status := func() []types.HealthCheckObservation {
		return must[*r53.GetHealthCheckStatusOutput](t)(c.r53.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: aws.String(id)})).HealthCheckObservations
	}
	if obs := status(); len(obs) != 0 {
		t.Errorf("status before any report: %+v", obs)
	}
	const down = "Failure: Connection refused. The endpoint is not listening on the port, or the port is blocked."
	if err := c.svc.ReportHealthCheck(account, id, false, down); err != nil {
		t.Fatal(err)
	}
	obs := status()
	if len(obs) != 8 || aws.ToString(obs[0].StatusReport.Status) != down || obs[0].Region != types.HealthCheckRegionUsEast1 || !obs[0].StatusReport.CheckedTime.Equal(c.clock.Now()) {
		t.Errorf("status after a report: %+v", obs)
	}
	last := must[*r53.GetHealthCheckLastFailureReasonOutput](t)(c.r53.GetHealthCheckLastFailureReason(ctx, &r53.GetHealthCheckLastFailureReasonInput{HealthCheckId: aws.String(id)}))
	if len(last.HealthCheckObservations) != 8 || aws.ToString(last.HealthCheckObservations[0].StatusReport.Status) != down {
		t.Errorf("last failure reason: %+v", last.HealthCheckObservations)
	}

	must[*r53.ChangeTagsForResourceOutput](t)(c.r53.ChangeTagsForResource(ctx, &r53.ChangeTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String(id),
		AddTags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}))
	tags := must[*r53.ListTagsForResourceOutput](t)(c.r53.ListTagsForResource(ctx, &r53.ListTagsForResourceInput{ResourceType: types.TagResourceTypeHealthcheck, ResourceId: aws.String(id)}))
	if ts := tags.ResourceTagSet; len(ts.Tags) != 1 || aws.ToString(ts.Tags[0].Value) != "web" || aws.ToString(ts.ResourceId) != id {
		t.Errorf("tags: %+v", ts)
	}

	must[*r53.DeleteHealthCheckOutput](t)(c.r53.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)}))
	_, err = c.r53.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: aws.String(id)})
	wantErr(t, err, "NoSuchHealthCheck", 404, "No health check exists with the specified ID "+id)
	_, err = c.r53.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: aws.String(id)})
	wantErr(t, err, "NoSuchHealthCheck", 404, "No health check exists with the specified ID "+id)
	// Its CallerReference stays taken.
	_, err = create("web", httpCfg())
	wantErr(t, err, "HealthCheckAlreadyExists", 409, already)
	// Another account has none of them.
	_, err = c.route53("111111111111").GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: https.HealthCheck.Id})
	wantErr(t, err, "NoSuchHealthCheck", 404, "No health check exists with the specified ID "+aws.ToString(https.HealthCheck.Id))
}
