package policy

import "testing"

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a**b", "ab", true},
		{"a*b*c", "abbbc", true},
		{"a*b*c", "acb", false},
		{"*b?", "abbbc", true},
		{"*b?", "abb", true},
		{"*b?", "ab", false},
		{"?", "é", true},
		{"??", "é", false},
		{"a?c", "aéc", true},
		{"*?*", "", false},
		{"*.metal", "m5.metal", true},
		{"x*y*z", "xyyyzzz", true},
		{"x*y*z", "xzy", false},
	} {
		g := compileGlob(tc.pattern, false)
		if got := g.match(tc.s, nil); got != tc.want {
			t.Errorf("%q ~ %q = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestParseVariable(t *testing.T) {
	for _, tc := range []struct {
		s      string
		op     gop
		text   string
		def    string
		n      int
		wantOK bool
	}{
		{"${aws:username}/x", varOp, "aws:username", "", 15, true},
		{"${ AWS:UserName }", varOp, "aws:username", "", 17, true},
		{"${aws:PrincipalTag/team, 'company-wide'}-x", varOp, "aws:principaltag/team", "company-wide", 40, true},
		{"${aws:PrincipalTag/team,'a}b'}", varOp, "aws:principaltag/team", "a}b", 30, true},
		{"${*}", litOp, "*", "", 4, true},
		{"${?}", litOp, "?", "", 4, true},
		{"${$}", litOp, "$", "", 4, true},
		{"${}", 0, "", "", 0, false},
		{"${aws:username", 0, "", "", 0, false},
		{"${a, b}", 0, "", "", 0, false},
		{"${a, 'b}", 0, "", "", 0, false},
	} {
		v, n, ok := parseVariable(tc.s)
		if ok != tc.wantOK || ok && (v.op != tc.op || v.text != tc.text || v.def != tc.def || n != tc.n) {
			t.Errorf("parseVariable(%q) = %+v, %d, %v", tc.s, v, n, ok)
		}
	}
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
// "You can use a policy variable with the ARN condition operator": a
// variable's colons do not split the ARN's fields.
func TestARNConditionVariable(t *testing.T) {
	p := mustParse(t, Managed, condDoc("sns:Publish", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:${aws:RequestedRegion}:*:alerts"}}`), "p")
	for region, want := range map[string]bool{"eu-west-1": true, "us-east-1": false} {
		req := &Request{Principal: alice(), Action: "sns:Publish", Resource: "*"}
		req.Context.Set("aws:RequestedRegion", region)
		req.Context.Set("aws:SourceArn", "arn:aws:sns:eu-west-1:111122223333:alerts")
		if got := Evaluate(req, &Set{Identity: []*Policy{p}}).Allowed(); got != want {
			t.Errorf("region %s: allowed %v, want %v", region, got, want)
		}
	}
}

// A bucket policy naming a deleted role's unique id is refused
// (ministryofjustice/analytical-platform#4932).
func TestCheckPrincipalsUniqueID(t *testing.T) {
	p := mustParse(t, Bucket, bucketGrant("Allow", `{"AWS":"AROA27HJSWAHEPTTLIWSO"}`), "b")
	if err := p.CheckPrincipals(func(string) bool { return false }); err == nil || err.Error() != "MalformedPolicy: Invalid principal in policy" {
		t.Errorf("CheckPrincipals = %v", err)
	}
}

func TestPrincipalOf(t *testing.T) {
	for arn, want := range map[string]PrincipalType{
		"arn:aws:iam::111122223333:root":                    Root,
		"arn:aws:iam::111122223333:user/team/alice":         User,
		"arn:aws:sts::111122223333:assumed-role/app/i-0abc": AssumedRole,
		"arn:aws:sts::111122223333:federated-user/fed":      FederatedUser,
		"":                                      Anonymous,
		"arn:aws:iam::111122223333:role/app":    Anonymous,
		"arn:aws-cn:iam::111122223333:user/bob": User,
		"arn:aws:sts::111122223333:assumed-role-typo/app/s": Anonymous,
	} {
		p := PrincipalOf(arn, "ID")
		if p.Type != want || want != Anonymous && (p.Account != "111122223333" || p.ARN != arn || p.UserID != "ID") {
			t.Errorf("PrincipalOf(%q) = %+v, want type %v", arn, p, want)
		}
	}
}
