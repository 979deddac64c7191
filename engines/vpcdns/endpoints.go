package vpcdns

import (
	"net/netip"
	"strings"
)

// Endpoints resolves the names of AWS's public API endpoints to the one
// address that serves them on the simulated internet, for the services
// cloudbox serves; any other name under amazonaws.com is not known here
// (NXDOMAIN unless a zone has it). The names, under amazonaws.com, or
// amazonaws.com.cn for the China regions:
//
//   - <prefix>.<region>: every service, by its endpoint prefix (ec2,
//     monitoring, elasticloadbalancing, sts...);
//   - <prefix>: the services with a global endpoint (sts, iam, route53,
//     cloudfront, s3);
//   - S3's names, each also under any bucket name ("<bucket>." first):
//     s3, s3.<region>, s3.dualstack.<region>, s3-<region>,
//     s3-website-<region> and s3-website.<region>.
//
// A region is one Route 53 knows (regions.go). AWS has no regional name
// for its global-only services (iam.us-east-1...): answering those too
// costs nothing, since no client asks for them.
type Endpoints struct {
	addr     netip.Addr
	prefixes map[string]bool
}

// globalEndpoints are the services reached without a region in the name.
var globalEndpoints = map[string]bool{"sts": true, "iam": true, "route53": true, "cloudfront": true, "s3": true}

// NewEndpoints answers addr for the endpoints of the services whose
// endpoint prefixes (api.Service.EndpointPrefix) are given.
func NewEndpoints(addr netip.Addr, prefixes []string) Endpoints {
	e := Endpoints{addr: addr, prefixes: map[string]bool{}}
	for _, p := range prefixes {
		e.prefixes[strings.ToLower(p)] = true
	}
	return e
}

// LookupA implements Resolver.
func (e Endpoints) LookupA(_, name string) ([]netip.Addr, bool) {
	if !e.Serves(name) {
		return nil, false
	}
	return []netip.Addr{e.addr}, true
}

// LookupPTR implements Resolver: the endpoints' address has no name of
// its own.
func (Endpoints) LookupPTR(string, netip.Addr) (string, bool) { return "", false }

// Serves reports whether name (a host name, any case, with or without
// the trailing dot) is one of the endpoints e answers.
func (e Endpoints) Serves(name string) bool {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	var rest string
	var china, ok bool
	if rest, ok = strings.CutSuffix(name, ".amazonaws.com"); !ok {
		if rest, ok = strings.CutSuffix(name, ".amazonaws.com.cn"); !ok {
			return false
		}
		china = true
	}
	region := func(r string) bool {
		_, known := regions[r]
		return known && strings.HasPrefix(r, "cn-") == china
	}
	labels := strings.Split(rest, ".")
	switch n := len(labels); {
	case n == 1 && e.prefixes[labels[0]] && globalEndpoints[labels[0]]:
		return true
	case n == 2 && e.prefixes[labels[0]] && region(labels[1]):
		return true
	}
	return e.prefixes["s3"] && s3Endpoint(labels, region)
}

// s3Endpoint reports whether labels are one of S3's names, under a
// bucket name or not. A bucket's name may hold dots, so S3's part is
// found from the right.
func s3Endpoint(labels []string, region func(string) bool) bool {
	n := len(labels)
	last := labels[n-1]
	switch {
	case last == "s3":
		return true
	case region(last) && n >= 2 && (labels[n-2] == "s3" || labels[n-2] == "s3-website"):
		return true
	case region(last) && n >= 3 && labels[n-2] == "dualstack" && labels[n-3] == "s3":
		return true
	}
	if r, ok := strings.CutPrefix(last, "s3-website-"); ok {
		return region(r)
	}
	if r, ok := strings.CutPrefix(last, "s3-"); ok {
		return region(r)
	}
	return false
}
