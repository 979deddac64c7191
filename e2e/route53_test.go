package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seed001Batch is seed 001's records: the database, cache and broker of
// the vprofile application, by name in the private zone vprofile.in.
const seed001Batch = `{
  "Comment": "vprofile backend",
  "Changes": [
    {"Action": "CREATE", "ResourceRecordSet": {"Name": "db01.vprofile.in", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "172.31.20.11"}]}},
    {"Action": "CREATE", "ResourceRecordSet": {"Name": "mc01.vprofile.in", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "172.31.20.12"}]}},
    {"Action": "CREATE", "ResourceRecordSet": {"Name": "rmq01.vprofile.in", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "172.31.20.13"}]}}
  ]
}`

// TestRoute53CLI is seed 001's Route 53 with the aws CLI v1 and v2: a
// private hosted zone in the VPC, its A records from a change batch file,
// `aws route53 wait resource-record-sets-changed` through PENDING to
// INSYNC, the records listed, and refused batches as the CLI prints them.
func TestRoute53CLI(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			cr := accountCreds(uniqueAccount())
			ok := func(args ...string) map[string]any {
				t.Helper()
				return c.awsOK(t, cli, cr, args...)
			}
			fail := func(code, msg string, args ...string) {
				t.Helper()
				e := c.awsErr(t, cli, cr, append([]string{"route53"}, args...)...)
				if e.Code != code || e.Message != msg {
					t.Errorf("%v:\n got %s %q\nwant %s %q", args, e.Code, e.Message, code, msg)
				}
			}
			dir := t.TempDir()
			file := func(name, body string) string {
				t.Helper()
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				return "file://" + p
			}

			vpc := get(ok("ec2", "create-vpc", "--cidr-block", "172.31.0.0/16"), "Vpc", "VpcId")
			zone := ok("route53", "create-hosted-zone", "--name", "vprofile.in", "--vpc", "VPCRegion=us-east-1,VPCId="+vpc,
				"--caller-reference", "x", "--hosted-zone-config", "PrivateZone=true")
			id := get(zone, "HostedZone", "Id")
			if !strings.HasPrefix(id, "/hostedzone/Z") || get(zone, "HostedZone", "Name") != "vprofile.in." || get(zone, "HostedZone", "Config", "PrivateZone") != "true" ||
				get(zone, "VPC", "VPCId") != vpc || get(zone, "ChangeInfo", "Status") != "PENDING" || get(zone, "HostedZone", "ResourceRecordSetCount") != "2" {
				t.Fatalf("create-hosted-zone: %v", zone)
			}
			fail("HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.",
				"create-hosted-zone", "--name", "vprofile.in", "--vpc", "VPCRegion=us-east-1,VPCId="+vpc, "--caller-reference", "x", "--hosted-zone-config", "PrivateZone=true")
			fail("InvalidVPCId", "The VPC ID 'vpc-0000000000000000f' that you specified either isn't a valid ID or the current account is not authorized to access this VPC.",
				"create-hosted-zone", "--name", "other.in", "--vpc", "VPCRegion=us-east-1,VPCId=vpc-0000000000000000f", "--caller-reference", "y")

			got := ok("route53", "get-hosted-zone", "--id", id)
			if get(got, "VPCs", 0, "VPCId") != vpc || get(got, "VPCs", 0, "VPCRegion") != "us-east-1" || get(got, "DelegationSet") != "" {
				t.Errorf("get-hosted-zone: %v", got)
			}

			batch := file("batch.json", seed001Batch)
			change := ok("route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", batch)
			changeID := get(change, "ChangeInfo", "Id")
			if !strings.HasPrefix(changeID, "/change/C") || get(change, "ChangeInfo", "Status") != "PENDING" || get(change, "ChangeInfo", "Comment") != "vprofile backend" {
				t.Fatalf("change-resource-record-sets: %v", change)
			}
			// PENDING for 2 s after submission: a slow CLI may already see
			// INSYNC (the unit tests step through it on a virtual clock).
			if got := ok("route53", "get-change", "--id", changeID); get(got, "ChangeInfo", "Id") != changeID ||
				get(got, "ChangeInfo", "SubmittedAt") != get(change, "ChangeInfo", "SubmittedAt") || (get(got, "ChangeInfo", "Status") != "PENDING" && get(got, "ChangeInfo", "Status") != "INSYNC") {
				t.Errorf("get-change: %v", got)
			}
			start := time.Now()
			if r := c.aws(t, cli, cr, "route53", "wait", "resource-record-sets-changed", "--id", changeID); r.ExitCode != 0 {
				t.Fatalf("wait resource-record-sets-changed: %s", r)
			}
			t.Logf("wait resource-record-sets-changed took %s", time.Since(start).Round(time.Second))
			if s := get(ok("route53", "get-change", "--id", changeID), "ChangeInfo", "Status"); s != "INSYNC" {
				t.Errorf("get-change after the wait: %s", s)
			}

			var sets []string
			for _, s := range ok("route53", "list-resource-record-sets", "--hosted-zone-id", id)["ResourceRecordSets"].([]any) {
				sets = append(sets, fmt.Sprintf("%s %s %s %s", get(s, "Name"), get(s, "Type"), get(s, "TTL"), get(s, "ResourceRecords", 0, "Value")))
			}
			want := []string{
				"vprofile.in. NS 172800 ns-1536.awsdns-00.co.uk.",
				"vprofile.in. SOA 900 ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400",
				"db01.vprofile.in. A 300 172.31.20.11",
				"mc01.vprofile.in. A 300 172.31.20.12",
				"rmq01.vprofile.in. A 300 172.31.20.13",
			}
			if strings.Join(sets, "\n") != strings.Join(want, "\n") {
				t.Errorf("list-resource-record-sets:\n%s\nwant:\n%s", strings.Join(sets, "\n"), strings.Join(want, "\n"))
			}

			// The same batch again, and other refused batches, as printed.
			fail("InvalidChangeBatch", "[Tried to create resource record set [name='db01.vprofile.in.', type='A'] but it already exists, "+
				"Tried to create resource record set [name='mc01.vprofile.in.', type='A'] but it already exists, "+
				"Tried to create resource record set [name='rmq01.vprofile.in.', type='A'] but it already exists]",
				"change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", batch)
			bad := func(name, body string) string {
				return file(name+".json", `{"Changes": [`+body+`]}`)
			}
			fail("InvalidChangeBatch", "[Tried to delete resource record set [name='app01.vprofile.in.', type='A'] but it was not found]",
				"change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", bad("delete",
					`{"Action": "DELETE", "ResourceRecordSet": {"Name": "app01.vprofile.in", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "172.31.20.14"}]}}`))
			fail("InvalidChangeBatch", "[RRSet of type CNAME with DNS name vprofile.in. is not permitted at apex in zone vprofile.in.]",
				"change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", bad("apex",
					`{"Action": "UPSERT", "ResourceRecordSet": {"Name": "vprofile.in", "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": "db01.vprofile.in"}]}}`))
			fail("InvalidChangeBatch", "[RRSet of type CNAME with DNS name db01.vprofile.in. is not permitted as it conflicts with other records with the same DNS name in zone vprofile.in.]",
				"change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", bad("conflict",
					`{"Action": "CREATE", "ResourceRecordSet": {"Name": "db01.vprofile.in", "Type": "CNAME", "TTL": 300, "ResourceRecords": [{"Value": "mc01.vprofile.in"}]}}`))
			fail("InvalidChangeBatch", "[RRSet with DNS name db01.vprofile.com. is not permitted in zone vprofile.in., "+
				"Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'v=spf1 -all'']",
				"change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", bad("several",
					`{"Action": "CREATE", "ResourceRecordSet": {"Name": "db01.vprofile.com", "Type": "A", "TTL": 300, "ResourceRecords": [{"Value": "172.31.20.11"}]}},`+
						`{"Action": "CREATE", "ResourceRecordSet": {"Name": "vprofile.in", "Type": "TXT", "TTL": 300, "ResourceRecords": [{"Value": "v=spf1 -all"}]}}`))
			fail("InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=web01.vprofile.in, Type=A, SetIdentifier=null]",
				"change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", bad("nottl",
					`{"Action": "CREATE", "ResourceRecordSet": {"Name": "web01.vprofile.in", "Type": "A", "ResourceRecords": [{"Value": "172.31.20.15"}]}}`))
			fail("NoSuchHostedZone", "No hosted zone found with ID: ZNOSUCHZONE", "list-resource-record-sets", "--hosted-zone-id", "ZNOSUCHZONE")
			fail("HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.", "delete-hosted-zone", "--id", id)
			fail("LastVPCAssociation", "The VPC that you're trying to disassociate from the private hosted zone is the last VPC that is associated with the hosted zone. Amazon Route 53 doesn't support disassociating the last VPC from a hosted zone.",
				"disassociate-vpc-from-hosted-zone", "--hosted-zone-id", id, "--vpc", "VPCRegion=us-east-1,VPCId="+vpc)

			byName := ok("route53", "list-hosted-zones-by-name", "--dns-name", "vprofile.in")
			if get(byName, "HostedZones", 0, "Id") != id || get(byName, "DNSName") != "vprofile.in" {
				t.Errorf("list-hosted-zones-by-name: %v", byName)
			}
			byVPC := ok("route53", "list-hosted-zones-by-vpc", "--vpc-id", vpc, "--vpc-region", "us-east-1")
			if get(byVPC, "HostedZoneSummaries", 0, "Name") != "vprofile.in." || "/hostedzone/"+get(byVPC, "HostedZoneSummaries", 0, "HostedZoneId") != id ||
				get(byVPC, "HostedZoneSummaries", 0, "Owner", "OwningAccount") != cr.AccessKeyID {
				t.Errorf("list-hosted-zones-by-vpc: %v", byVPC)
			}

			// Emptied, the zone goes.
			del := strings.ReplaceAll(seed001Batch, `"CREATE"`, `"DELETE"`)
			ok("route53", "change-resource-record-sets", "--hosted-zone-id", id, "--change-batch", file("delete-all.json", del))
			if s := get(ok("route53", "delete-hosted-zone", "--id", id), "ChangeInfo", "Status"); s != "PENDING" {
				t.Errorf("delete-hosted-zone: %s", s)
			}
			fail("NoSuchHostedZone", "No hosted zone found with ID: "+strings.TrimPrefix(id, "/hostedzone/"), "get-hosted-zone", "--id", id)
		})
	}
}

// TestRoute53Boto3 drives Route 53's pages with boto3's paginators
// (record sets by name, type and set identifier; hosted zones by marker),
// creates a health check, and reads errors as boto3 reports them.
func TestRoute53Boto3(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	var out map[string]any
	c.python(t, accountCreds(uniqueAccount()), `
r53 = client("route53")
r = {}
zid = r53.create_hosted_zone(Name="paged.example", CallerReference="paged")["HostedZone"]["Id"]
changes = []
for i in range(20):
    changes.append({"Action": "CREATE", "ResourceRecordSet": {"Name": "h%02d.paged.example" % i, "Type": "A", "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.%d" % (i + 1)}]}})
for s in ["blue", "green", "red"]:
    changes.append({"Action": "CREATE", "ResourceRecordSet": {"Name": "api.paged.example", "Type": "A", "SetIdentifier": s, "Weight": 10, "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.100"}]}})
changes.append({"Action": "CREATE", "ResourceRecordSet": {"Name": "*.paged.example", "Type": "TXT", "TTL": 60, "ResourceRecords": [{"Value": "\"wild\""}]}})
r["change"] = call(r53.change_resource_record_sets, HostedZoneId=zid, ChangeBatch={"Changes": changes})
pages = []
for p in r53.get_paginator("list_resource_record_sets").paginate(HostedZoneId=zid, PaginationConfig={"PageSize": 4}):
    pages.append([s["Name"] + " " + s["Type"] + ("/" + s["SetIdentifier"] if "SetIdentifier" in s else "") for s in p["ResourceRecordSets"]])
r["record_pages"] = pages
first = r53.list_resource_record_sets(HostedZoneId=zid, MaxItems="2", StartRecordName="api.paged.example", StartRecordType="A")
r["first"] = {k: first.get(k) for k in ["IsTruncated", "MaxItems", "NextRecordName", "NextRecordType", "NextRecordIdentifier"]}
for i in range(4):
    r53.create_hosted_zone(Name="z%d.example" % i, CallerReference="z%d" % i)
r["zone_pages"] = [[z["Name"] for z in p["HostedZones"]] for p in r53.get_paginator("list_hosted_zones").paginate(PaginationConfig={"PageSize": 2})]
r["count"] = call(r53.get_hosted_zone_count)
r["dup"] = call(r53.change_resource_record_sets, HostedZoneId=zid, ChangeBatch={"Changes": changes[:1]})
r["tld"] = call(r53.create_hosted_zone, Name="example", CallerReference="tld")
r["no_change"] = call(r53.get_change, Id="/change/CNOSUCHCHANGE")
r["tags"] = call(r53.change_tags_for_resource, ResourceType="hostedzone", ResourceId=zid.split("/")[-1], AddTags=[{"Key": "env", "Value": "e2e"}])
r["tag_list"] = call(r53.list_tags_for_resource, ResourceType="hostedzone", ResourceId=zid.split("/")[-1])
hc = call(r53.create_health_check, CallerReference="hc", HealthCheckConfig={"Type": "HTTPS_STR_MATCH", "FullyQualifiedDomainName": "www.paged.example", "SearchString": "ok"})
r["health_check"] = hc
r["hc_status"] = call(r53.get_health_check_status, HealthCheckId=hc["result"]["HealthCheck"]["Id"])
r["hc_bad"] = call(r53.create_health_check, CallerReference="hc2", HealthCheckConfig={"Type": "TCP", "IPAddress": "198.51.100.1"})
emit(r)
`, nil, &out)
	call := func(name string) PyCall {
		var r PyCall
		b, _ := json.Marshal(out[name])
		json.Unmarshal(b, &r)
		return r
	}
	if r := call("change"); r.Error != nil || get(r.Result, "ChangeInfo", "Status") != "PENDING" {
		t.Fatalf("change: %+v", r)
	}
	var flat []string
	var sizes []int
	for _, p := range out["record_pages"].([]any) {
		sizes = append(sizes, len(p.([]any)))
		for _, s := range p.([]any) {
			flat = append(flat, s.(string))
		}
	}
	if fmt.Sprint(sizes) != "[4 4 4 4 4 4 2]" || len(flat) != 26 || flat[0] != "paged.example. NS" || flat[2] != `\052.paged.example. TXT` ||
		flat[3] != "api.paged.example. A/blue" || flat[5] != "api.paged.example. A/red" || flat[6] != "h00.paged.example. A" || flat[25] != "h19.paged.example. A" {
		t.Errorf("record pages %v: %v", sizes, flat)
	}
	if f := out["first"].(map[string]any); fmt.Sprintf("%v %v %v %v %v", f["IsTruncated"], f["MaxItems"], f["NextRecordName"], f["NextRecordType"], f["NextRecordIdentifier"]) !=
		"true 2 api.paged.example. A red" {
		t.Errorf("first page from api: %v", f)
	}
	if fmt.Sprint(out["zone_pages"]) != "[[paged.example. z0.example.] [z1.example. z2.example.] [z3.example.]]" {
		t.Errorf("zone pages: %v", out["zone_pages"])
	}
	if n := get(call("count").Result, "HostedZoneCount"); n != "5" {
		t.Errorf("count %s", n)
	}
	for name, want := range map[string][3]string{
		"dup":       {"400", "InvalidChangeBatch", "[Tried to create resource record set [name='h00.paged.example.', type='A'] but it already exists]"},
		"tld":       {"400", "InvalidDomainName", "example is reserved by AWS!"},
		"no_change": {"404", "NoSuchChange", "A change with the specified change ID does not exist."},
		"hc_bad":    {"400", "InvalidInput", "Invalid parameter : A port must be specified for TCP health checks."},
	} {
		r := call(name)
		if r.Error == nil || fmt.Sprint(r.Status) != want[0] || r.Error.Code != want[1] || r.Error.Message != want[2] {
			t.Errorf("%s: %+v %+v, want %v", name, r, r.Error, want)
		}
	}
	if r := call("tag_list"); get(r.Result, "ResourceTagSet", "Tags", 0, "Key") != "env" || get(r.Result, "ResourceTagSet", "ResourceType") != "hostedzone" {
		t.Errorf("tags: %+v", r)
	}
	hc := call("health_check")
	if hc.Status != 201 || get(hc.Result, "HealthCheck", "HealthCheckConfig", "Port") != "443" || get(hc.Result, "HealthCheck", "HealthCheckConfig", "EnableSNI") != "true" ||
		!strings.HasSuffix(get(hc.Result, "Location"), "/2013-04-01/healthcheck/"+get(hc.Result, "HealthCheck", "Id")) {
		t.Errorf("create_health_check: %+v", hc)
	}
	if r := call("hc_status"); r.Error != nil || get(r.Result, "HealthCheckObservations") != "[]" {
		t.Errorf("get_health_check_status before the data plane reports: %+v", r)
	}
}

// TestRoute53MetricHealthCheck is a CLOUDWATCH_METRIC health check on an
// alarm in another region: its status follows the alarm (insufficient
// data counts as the check says), GetHealthCheck shows the alarm's
// configuration, and Route 53 publishes HealthCheckStatus to CloudWatch in
// us-east-1.
func TestRoute53MetricHealthCheck(t *testing.T) {
	p := newCPCloud(t)
	west := func(args ...string) map[string]any { return p.aws(append(args, "--region", "eu-west-1")...) }
	west("cloudwatch", "put-metric-alarm", "--alarm-name", "deep-queue", "--namespace", "Cloudbox/Test", "--metric-name", "QueueDepth",
		"--statistic", "Maximum", "--period", "60", "--evaluation-periods", "1", "--threshold", "100",
		"--comparison-operator", "GreaterThanThreshold", "--treat-missing-data", "ignore")
	hc := get(p.aws("route53", "create-health-check", "--caller-reference", "metric-1", "--health-check-config",
		`{"Type":"CLOUDWATCH_METRIC","AlarmIdentifier":{"Region":"eu-west-1","Name":"deep-queue"},"InsufficientDataHealthStatus":"Unhealthy"}`),
		"HealthCheck", "Id")

	status := func() string {
		return get(p.aws("route53", "get-health-check-status", "--health-check-id", hc), "HealthCheckObservations", 0, "StatusReport", "Status")
	}
	waitStatus := func(prefix string) {
		t.Helper()
		p.waitUntil("health check status "+prefix, 20*time.Second, func() (bool, string) {
			s := status()
			return strings.HasPrefix(s, prefix), s
		})
	}
	// No data yet: InsufficientDataHealthStatus Unhealthy.
	waitStatus("Failure")
	cfg := p.aws("route53", "get-health-check", "--health-check-id", hc)
	if get(cfg, "HealthCheck", "CloudWatchAlarmConfiguration", "MetricName") != "QueueDepth" ||
		get(cfg, "HealthCheck", "CloudWatchAlarmConfiguration", "ComparisonOperator") != "GreaterThanThreshold" ||
		get(cfg, "HealthCheck", "CloudWatchAlarmConfiguration", "Threshold") != "100" {
		t.Errorf("get-health-check: %v", cfg)
	}

	put := func(v string) {
		west("cloudwatch", "put-metric-data", "--namespace", "Cloudbox/Test", "--metric-name", "QueueDepth", "--value", v)
	}
	put("5")
	waitStatus("Success")
	put("500")
	waitStatus("Failure")
	if r := get(p.aws("route53", "get-health-check-last-failure-reason", "--health-check-id", hc), "HealthCheckObservations", 0, "StatusReport", "Status"); !strings.Contains(r, "ALARM") {
		t.Errorf("last failure reason %q does not name the ALARM state", r)
	}
	put("1")
	waitStatus("Success")

	// HealthCheckStatus, once a virtual minute, in us-east-1: its latest
	// datapoint is 1.
	p.waitUntil("HealthCheckStatus 1 in CloudWatch", 20*time.Second, func() (bool, string) {
		out := p.aws("cloudwatch", "get-metric-statistics", "--region", "us-east-1", "--namespace", "AWS/Route53", "--metric-name", "HealthCheckStatus",
			"--dimensions", "Name=HealthCheckId,Value="+hc, "--statistics", "Minimum", "--period", "60",
			"--start-time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--end-time", time.Now().Add(12*time.Hour).UTC().Format(time.RFC3339))
		points, _ := out["Datapoints"].([]any)
		var at string
		var v float64
		for _, pt := range points {
			m := pt.(map[string]any)
			if ts := m["Timestamp"].(string); ts > at {
				at, v = ts, m["Minimum"].(float64)
			}
		}
		return at != "" && v == 1, fmt.Sprint(points)
	})
}

// TestRoute53HostDNSWithoutDataplane: a daemon serving the control plane
// alone still answers the public hosted zones on its loopback DNS port
// (cloudbox info's dns), for pipelines that check their records with dig.
func TestRoute53HostDNSWithoutDataplane(t *testing.T) {
	c := startBinary(t, Opts{})
	cli := clis()[0]
	cli.need(t)
	cr := accountCreds(uniqueAccount())
	ok := func(args ...string) map[string]any {
		t.Helper()
		return c.awsOK(t, cli, cr, args...)
	}
	r := run(t, t.TempDir(), os.Environ(), cloudboxBin, "info", "--json", "--endpoint", c.URL)
	var info map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &info); err != nil {
		t.Fatalf("cloudbox info: %v\n%s", err, r)
	}
	host, port, err := net.SplitHostPort(get(info, "dns"))
	if err != nil || get(info, "dataplane") == "on" {
		t.Fatalf("cloudbox info: dns %q (%v), dataplane %q", get(info, "dns"), err, get(info, "dataplane"))
	}
	dig := func(name string) string {
		t.Helper()
		r := run(t, t.TempDir(), os.Environ(), "dig", "@"+host, "-p", port, "+short", name, "A")
		return strings.TrimSpace(r.Stdout)
	}
	zone := get(ok("route53", "create-hosted-zone", "--name", "pipeline.example", "--caller-reference", "p"), "HostedZone", "Id")
	ok("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch",
		`{"Changes":[{"Action":"CREATE","ResourceRecordSet":{"Name":"api.pipeline.example","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.44"}]}}]}`)
	if got := dig("api.pipeline.example"); got != "192.0.2.44" {
		t.Errorf("dig api.pipeline.example = %q, want 192.0.2.44", got)
	}
	// A change is answered at once.
	ok("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch",
		`{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"api.pipeline.example","Type":"A","TTL":60,"ResourceRecords":[{"Value":"192.0.2.45"}]}}]}`)
	if got := dig("api.pipeline.example"); got != "192.0.2.45" {
		t.Errorf("dig api.pipeline.example after the UPSERT = %q, want 192.0.2.45", got)
	}
}
