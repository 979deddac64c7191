package policy

import (
	"errors"
	"testing"

	"github.com/cloudbox/cloudbox/api"
)

// FuzzParse feeds documents to every kind's parser and evaluates what
// parses, with the fuzzed value in the request: neither may panic, and a
// refused document fails with an AWS error.
func FuzzParse(f *testing.F) {
	for _, tc := range evalCases {
		for _, d := range append(append(tc.identity, tc.session...), tc.boundary, tc.resource, tc.trust) {
			if d != "" {
				f.Add(d, tc.res)
			}
		}
	}
	for _, tc := range parseErrors {
		if len(tc.doc) < 4096 {
			f.Add(tc.doc, "arn:aws:s3:::b/x")
		}
	}
	f.Add(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::${aws:username, 'a}'}*${","Condition":{"ForAllValues:DateLessThanIfExists":{"aws:CurrentTime":["1e9999","2020"]}}}}`, "${")
	f.Fuzz(func(t *testing.T, doc, value string) {
		for kind := Managed; kind <= ResourceBased; kind++ {
			p, err := Parse(kind, doc)
			if err != nil {
				var ae *api.Error
				if !errors.As(err, &ae) || ae.Code == "" || ae.Message == "" {
					t.Fatalf("%s: error %#v is not an AWS error", kind, err)
				}
				continue
			}
			set := &Set{Identity: []*Policy{p}, Boundary: p, Session: []*Policy{p}}
			if kind.resource() {
				set = &Set{Resource: p}
			}
			for _, req := range fuzzRequests(value) {
				d := Evaluate(req, set)
				if d.Outcome == ImplicitDeny && len(d.Statements) > 0 {
					t.Fatalf("implicit deny with statements %v", d.Statements)
				}
			}
		}
	})
}

func fuzzRequests(value string) []*Request {
	var reqs []*Request
	for _, p := range []Principal{alice("team", value), session(acct, "app", value), fedUser(acct, value, "alice"),
		root(other), {Type: Anonymous}, {Type: Service, ARN: value}, {Type: WebIdentity, ARN: value}} {
		req := &Request{Principal: p, Action: "s3:" + value, Resource: "arn:aws:s3:::b/" + value, ResourceAccount: value}
		for _, k := range []string{"aws:SourceIp", "aws:CurrentTime", "aws:TagKeys", "s3:prefix", "aws:SecureTransport", "aws:SourceArn", "s3:max-keys"} {
			req.Context.Set(k, value, "")
		}
		reqs = append(reqs, req)
	}
	return reqs
}
