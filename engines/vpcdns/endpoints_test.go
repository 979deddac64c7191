package vpcdns

import (
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

// served are the endpoint prefixes of the services cloudbox serves today.
var served = []string{"acm", "autoscaling", "monitoring", "ec2", "elasticloadbalancing", "iam", "route53", "s3", "ssm", "sts"}

func TestEndpointsNames(t *testing.T) {
	e := NewEndpoints(addr("198.18.0.12"), served)
	for name, want := range map[string]bool{
		"ec2.us-east-1.amazonaws.com.":                   true,
		"EC2.AP-NORTHEAST-2.amazonaws.com":               true,
		"monitoring.eu-west-1.amazonaws.com.":            true,
		"elasticloadbalancing.us-west-2.amazonaws.com.":  true,
		"sts.amazonaws.com.":                             true,
		"sts.ap-northeast-2.amazonaws.com.":              true,
		"iam.amazonaws.com.":                             true,
		"route53.amazonaws.com.":                         true,
		"ec2.cn-north-1.amazonaws.com.cn.":               true,
		"s3.amazonaws.com.":                              true,
		"s3.us-east-1.amazonaws.com.":                    true,
		"s3.dualstack.us-east-1.amazonaws.com.":          true,
		"s3-ap-northeast-2.amazonaws.com.":               true,
		"my-bucket.s3.amazonaws.com.":                    true,
		"my.dotted.bucket.s3.amazonaws.com.":             true,
		"my-bucket.s3.ap-northeast-2.amazonaws.com.":     true,
		"my-bucket.s3.dualstack.us-east-1.amazonaws.com": true,
		"my-bucket.s3-us-west-2.amazonaws.com.":          true,
		"my-bucket.s3-website-us-east-1.amazonaws.com.":  true,
		"my-bucket.s3-website.eu-west-3.amazonaws.com.":  true,
		"my-bucket.s3.cn-north-1.amazonaws.com.cn.":      true,

		// Services cloudbox does not serve, and names no endpoint has.
		"cloudfront.amazonaws.com.":                           false,
		"lambda.us-east-1.amazonaws.com.":                     false,
		"abc123.execute-api.us-east-1.amazonaws.com.":         false,
		"ec2.amazonaws.com.":                                  false,
		"ec2.mars-east-1.amazonaws.com.":                      false,
		"ec2.cn-north-1.amazonaws.com.":                       false,
		"ec2.us-east-1.amazonaws.com.cn.":                     false,
		"x.ec2.us-east-1.amazonaws.com.":                      false,
		"amazonaws.com.":                                      false,
		"s3.amazonaws.com.example.com.":                       false,
		"my-bucket.s3.mars-east-1.amazonaws.com.":             false,
		"my-bucket.s3-website-mars-east-1.amazonaws.com.":     false,
		"my-lb-1.ap-northeast-2.elb.amazonaws.com.":           false,
		"ip-10-0-1-54.ap-northeast-2.compute.internal.":       false,
		"ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com": false,
	} {
		addrs, ok := e.LookupA(Internet, name)
		if ok != want {
			t.Errorf("%s: known = %v, want %v", name, ok, want)
			continue
		}
		if ok && (len(addrs) != 1 || addrs[0] != addr("198.18.0.12")) {
			t.Errorf("%s = %v", name, addrs)
		}
	}
	if _, ok := NewEndpoints(addr("198.18.0.12"), []string{"sts"}).LookupA(Internet, "my-bucket.s3.amazonaws.com."); ok {
		t.Errorf("S3's names answered without S3")
	}
}

// TestEndpointsInChain answers the endpoints as the resolvers chain them:
// after a VPC's private zones (a private zone of an endpoint's name wins,
// as with Route 53 Resolver) and before the public zones (a public zone
// named amazonaws.com does not take the endpoints away).
func TestEndpointsInChain(t *testing.T) {
	w := &desired.World{
		VPCs: []*desired.VPC{vpc("vpc-a", "us-east-1", "10.0.0.0/16", true, true, "10.0.1.54", "198.18.3.4")},
		Zones: []*desired.Zone{
			{ID: "ZPRIV", Name: "sts.us-east-1.amazonaws.com", Private: true, VPCs: []string{"vpc-a"}, Records: []*desired.Record{
				rec("sts.us-east-1.amazonaws.com", "A", 60, "10.0.9.9"),
			}},
			{ID: "ZPUB", Name: "amazonaws.com", Records: []*desired.Record{
				rec("sts.amazonaws.com", "A", 60, "203.0.113.1"),
				rec("mine.amazonaws.com", "A", 60, "203.0.113.2"),
			}},
		},
	}
	current := func() *desired.World { return w }
	l := &Lookup{Names: Chain{NamesResolver{World: current}, NewEndpoints(addr("198.18.0.12"), served)}, World: current}
	srv := map[string]string{}
	for _, v := range []string{"vpc-a", Internet} {
		srv[v], _ = serve(t, v, l)
	}
	for _, tc := range []struct {
		from, name, want string
		rcode            int
	}{
		{"vpc-a", "sts.amazonaws.com.", "198.18.0.12", dns.RcodeSuccess},
		{Internet, "sts.amazonaws.com.", "198.18.0.12", dns.RcodeSuccess},
		{"vpc-a", "sts.us-east-1.amazonaws.com.", "10.0.9.9", dns.RcodeSuccess},
		{Internet, "sts.us-east-1.amazonaws.com.", "198.18.0.12", dns.RcodeSuccess},
		{"vpc-a", "my-bucket.s3.amazonaws.com.", "198.18.0.12", dns.RcodeSuccess},
		{"vpc-a", "mine.amazonaws.com.", "203.0.113.2", dns.RcodeSuccess},
		{Internet, "lambda.us-east-1.amazonaws.com.", "", dns.RcodeNameError},
	} {
		m := exchange(t, "udp", srv[tc.from], tc.name, dns.TypeA)
		if got := strings.Join(values(m, dns.TypeA), " "); m.Rcode != tc.rcode || got != tc.want {
			t.Errorf("%q asks %s = %s %q, want %s %q", tc.from, tc.name, dns.RcodeToString[m.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
		}
	}
	// An endpoint has no IPv6 address: NODATA, so clients go on with IPv4.
	if m := exchange(t, "udp", srv["vpc-a"], "ec2.us-east-1.amazonaws.com.", dns.TypeAAAA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Errorf("AAAA of an endpoint:\n%v", m)
	}
}
