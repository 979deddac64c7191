package console_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/cloudbox/cloudbox/console"
	"github.com/cloudbox/cloudbox/reachability"
)

// TestConsoleAPI builds the seed-000 world through the AWS API and checks
// each of the console's endpoints against it.
func TestConsoleAPI(t *testing.T) {
	c := startCloud(t)
	s := c.buildSeed(t)
	c.waitHealthy(t, s.TG)
	c.putMetrics(t, s.AppA, 37.5, s.LBDimension, 600)

	t.Run("scopes", func(t *testing.T) {
		var scopes []console.Scope
		c.get(t, "scopes", nil, &scopes)
		if !slices.Contains(scopes, console.Scope{Account: account, Region: region}) {
			t.Errorf("scopes %v lack %s %s", scopes, account, region)
		}
	})

	t.Run("world", func(t *testing.T) {
		var w console.World
		if st := c.get(t, "world", scopeParams(), &w); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		// The region's default VPC is there too.
		i := slices.IndexFunc(w.VPCs, func(v *console.VPC) bool { return v.ID == s.VPC })
		if i < 0 {
			t.Fatalf("vpcs %+v lack %s", w.VPCs, s.VPC)
		}
		vpc := w.VPCs[i]
		if vpc.Name != "devloop" || vpc.CIDR != "10.0.0.0/16" || vpc.InternetGateway != s.IGW {
			t.Errorf("vpc %+v", vpc)
		}
		subnets := map[string]*console.Subnet{}
		for _, az := range vpc.AZs {
			for _, sn := range az.Subnets {
				subnets[sn.ID] = sn
			}
		}
		if azs := len(vpc.AZs); azs != 2 {
			t.Errorf("%d zones, want 2", azs)
		}
		for id, public := range map[string]bool{s.PublicA: true, s.PublicC: true, s.PrivateA: false, s.PrivateC: false} {
			sn := subnets[id]
			if sn == nil {
				t.Fatalf("subnet %s missing", id)
			}
			if sn.Public != public {
				t.Errorf("subnet %s public %v, want %v", id, sn.Public, public)
			}
		}
		if rt := subnets[s.PrivateA].RouteTable; rt != s.PrivateRT {
			t.Errorf("private subnet's route table %s, want %s", rt, s.PrivateRT)
		}
		for sn, id := range map[string]string{s.PublicA: s.Bastion, s.PrivateA: s.AppA, s.PrivateC: s.AppC} {
			in := subnets[sn].Instances
			if len(in) != 1 || in[0].ID != id || in[0].State != "running" || in[0].PrivateIP == "" {
				t.Errorf("subnet %s instances %+v, want %s running", sn, in, id)
			}
		}
		if subnets[s.PublicA].Instances[0].PublicIP == "" {
			t.Error("the bastion has no public address")
		}
		kinds := func(sn string) (out []string) {
			for _, n := range subnets[sn].Nodes {
				out = append(out, n.Kind+" "+n.Resource)
			}
			return out
		}
		for _, want := range []string{"nat-gateway " + s.NAT, "load-balancer " + s.LB} {
			if !slices.Contains(kinds(s.PublicA), want) {
				t.Errorf("public subnet's nodes %v lack %q", kinds(s.PublicA), want)
			}
		}
		if !slices.Contains(kinds(s.PublicC), "load-balancer "+s.LB) {
			t.Errorf("second public subnet's nodes %v lack the ALB's", kinds(s.PublicC))
		}
		if !slices.Contains(kinds(s.PrivateA), "rds rds:"+s.DB) {
			t.Errorf("private subnet's nodes %v lack the database", kinds(s.PrivateA))
		}
		if !slices.Contains(kinds(s.PrivateC), "elasticache elasticache:"+s.Cache) {
			t.Errorf("private subnet's nodes %v lack the cache node", kinds(s.PrivateC))
		}
		// Their states are the services' statuses.
		for _, n := range append(subnets[s.PrivateA].Nodes, subnets[s.PrivateC].Nodes...) {
			if n.State == "" {
				t.Errorf("node %+v has no status", n)
			}
		}
		if len(w.LoadBalancers) != 1 {
			t.Fatalf("load balancers %+v", w.LoadBalancers)
		}
		lb := w.LoadBalancers[0]
		if lb.ARN != s.LB || len(lb.Nodes) != 2 || len(lb.TargetGroups) != 1 || lb.TargetGroups[0].ARN != s.TG {
			t.Fatalf("load balancer %+v", lb)
		}
		health := map[string]string{}
		for _, tg := range lb.TargetGroups[0].Targets {
			health[tg.ID] = tg.State
		}
		if health[s.AppA] != "healthy" || health[s.AppC] != "healthy" {
			t.Errorf("targets' health %v", health)
		}
		if len(w.Zones) != 1 || w.Zones[0].ID != s.Zone || !w.Zones[0].Private || !slices.Contains(w.Zones[0].VPCs, s.VPC) {
			t.Fatalf("zones %+v", w.Zones)
		}
		found := false
		for _, r := range w.Zones[0].Records {
			found = found || r.Name == "app.devloop.internal." && r.Type == "A" && slices.Equal(r.Values, []string{"10.0.11.10"})
		}
		if !found {
			t.Errorf("zone records %+v lack app.devloop.internal", w.Zones[0].Records)
		}
	})

	t.Run("counters", func(t *testing.T) {
		var cs console.Counters
		c.get(t, "counters", scopeParams(), &cs)
		if got := cs.Instances[s.AppA]; got.CPU == nil || *got.CPU != 37.5 || got.State != "running" {
			t.Errorf("app-a's counters %+v, want CPU 37.5", got)
		}
		if got := cs.Instances[s.AppC]; got.CPU != nil {
			t.Errorf("app-c has no datapoint, yet CPU %v", *got.CPU)
		}
		if got := cs.LoadBalancers[s.LB]; got.RequestsPerSecond == nil || math.Abs(*got.RequestsPerSecond-10) > 1e-9 {
			t.Errorf("the ALB's counters %+v, want 10 req/s", got)
		}
	})

	t.Run("resource", func(t *testing.T) {
		var r console.Resource
		if st := c.get(t, "resource", scopeParams("id", s.AppA), &r); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		// The same answer as the API's, member for member.
		api := must[*ec2sdk.DescribeInstancesOutput](t)(c.ec2.DescribeInstances(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: []string{s.AppA}}))
		got := r.Describe["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)
		want := api.Reservations[0].Instances[0]
		if got["InstanceId"] != *want.InstanceId || got["PrivateIpAddress"] != *want.PrivateIpAddress || got["SubnetId"] != s.PrivateA ||
			got["State"].(map[string]any)["Name"] != string(want.State.Name) {
			t.Errorf("describe %v", got)
		}
		if _, ok := got["KernelId"]; ok {
			t.Error("absent members are shown as null")
		}
		if r.Operation != "DescribeInstances" || r.ConsoleOutput == nil {
			t.Errorf("operation %q, console output %v", r.Operation, r.ConsoleOutput)
		}
		states := []string{}
		for _, ev := range r.Events {
			if ev.DetailType == "EC2 Instance State-change Notification" {
				states = append(states, ev.Detail.(map[string]any)["state"].(string))
			}
		}
		if !slices.Contains(states, "running") {
			t.Errorf("events %+v lack the instance's running", r.Events)
		}

		var tg console.Resource
		c.get(t, "resource", scopeParams("id", s.TG), &tg)
		if tg.Operation != "DescribeTargetGroups" || len(tg.Health["TargetHealthDescriptions"].([]any)) != 2 {
			t.Errorf("target group %+v", tg)
		}
		var db console.Resource
		c.get(t, "resource", scopeParams("id", "rds:"+s.DB), &db)
		if got := db.Describe["DBInstances"].([]any)[0].(map[string]any)["DBInstanceIdentifier"]; got != s.DB {
			t.Errorf("database %v", db.Describe)
		}

		var cache console.Resource
		c.get(t, "resource", scopeParams("id", "elasticache:"+s.Cache), &cache)
		if got := cache.Describe["CacheClusters"].([]any)[0].(map[string]any); got["CacheClusterId"] != s.Cache || len(got["CacheNodes"].([]any)) != 1 {
			t.Errorf("cache cluster %v", cache.Describe)
		}

		var e map[string]string
		if st := c.get(t, "resource", scopeParams("id", "i-0123456789abcdef0"), &e); st != http.StatusBadRequest || e["error"] != "InvalidInstanceID.NotFound" {
			t.Errorf("unknown instance: %d %v", st, e)
		}
		if st := c.get(t, "resource", scopeParams("id", "bogus"), &e); st != http.StatusBadRequest || e["error"] != "InvalidParameterValue" {
			t.Errorf("bogus id: %d %v", st, e)
		}
		if st := c.get(t, "resource", url.Values{"account": {"me"}, "region": {region}, "id": {s.AppA}}, &e); st != http.StatusBadRequest {
			t.Errorf("bad account: %d %v", st, e)
		}
	})

	t.Run("reach", func(t *testing.T) {
		var r reachability.Result
		c.get(t, "reach", url.Values{"from": {s.Bastion}, "to": {s.AppA}, "port": {"22"}}, &r)
		if !r.Reachable {
			t.Errorf("bastion -> app-a:22 unreachable: %s", r.Explanation)
		}
		c.get(t, "reach", url.Values{"from": {s.Bastion}, "to": {s.AppA}, "port": {"8080"}}, &r)
		if r.Reachable {
			t.Fatal("bastion -> app-a:8080 reachable, but only the ALB's group may")
		}
		if last := r.Path[len(r.Path)-1]; last.Component != "security-group" || last.ID != s.AppSG || last.Allowed {
			t.Errorf("decided by %+v, want %s", last, s.AppSG)
		}
		var e map[string]string
		if st := c.get(t, "reach", url.Values{"from": {s.Bastion}, "to": {s.AppA}, "port": {"http"}}, &e); st != http.StatusBadRequest {
			t.Errorf("port http: %d %v", st, e)
		}
	})

	t.Run("unknown scope", func(t *testing.T) {
		// Nothing there, and asking makes nothing: no default VPC appears.
		var w console.World
		c.get(t, "world", url.Values{"account": {account}, "region": {"eu-west-3"}}, &w)
		if len(w.VPCs) != 0 {
			t.Errorf("vpcs %+v", w.VPCs)
		}
		var scopes []console.Scope
		c.get(t, "scopes", nil, &scopes)
		if slices.Contains(scopes, console.Scope{Account: account, Region: "eu-west-3"}) {
			t.Errorf("looking at eu-west-3 made resources there: %v", scopes)
		}
	})

	t.Run("read-only", func(t *testing.T) {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequest(m, c.URL+console.Prefix+"/api/world?"+scopeParams().Encode(), nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s: %s", m, resp.Status)
			}
		}
		// A page elsewhere that rebinds its name to the loopback is refused.
		req, _ := http.NewRequest(http.MethodGet, c.URL+console.Prefix+"/api/world?"+scopeParams().Encode(), nil)
		req.Host = "attacker.example:80"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("foreign Host: %s", resp.Status)
		}
		// The daemon's mutations still want the admin token.
		resp, err = http.Post(c.URL+"/_cloudbox/reset", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("reset without the token: %s", resp.Status)
		}
		if _, err := c.ec2.DescribeVpcs(context.Background(), &ec2sdk.DescribeVpcsInput{VpcIds: []string{s.VPC}}); err != nil {
			t.Errorf("the world is gone: %v", err)
		}
	})

	t.Run("page", func(t *testing.T) {
		resp, err := http.Get(c.URL + console.Prefix)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `<script src="console.js"`) {
			t.Errorf("page: %s %.200s", resp.Status, b)
		}
		var info struct{ Console string }
		resp, err = http.Get(c.URL + "/_cloudbox/info")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if info.Console != c.URL+console.Prefix+"/" {
			t.Errorf("info's console %q", info.Console)
		}
	})
}
