package policy

import (
	"reflect"
	"testing"
)

func TestStatementSpans(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []Span
	}{{
		// AWS's example of simulate-custom-policy: Line 1, Columns 38 to 167.
		name: "one object",
		doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`,
		want: []Span{{Position{1, 38}, Position{1, 167}}},
	}, {
		// AdministratorAccess as IAM keeps it: Line 3 Column 17 to Line 8
		// Column 6.
		name: "pretty list",
		doc:  "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\"\n    }\n  ]\n}",
		want: []Span{{Position{3, 17}, Position{8, 6}}},
	}, {
		name: "compact list of two",
		doc:  `{"Statement":[{"Effect":"Allow","Action":"a:b","Resource":"*"}, {"Effect":"Deny","Action":"a:c","Resource":"*"}],"Version":"2012-10-17"}`,
		want: []Span{{Position{1, 15}, Position{1, 63}}, {Position{1, 63}, Position{1, 112}}},
	}, {
		name: "CRLF and unicode",
		doc:  "{\"Id\":\"é\",\r\n\"Statement\":[\r\n{\"Sid\":\"ü\",\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
		want: []Span{{Position{2, 14}, Position{3, 57}}},
	}, {
		name: "not an object",
		doc:  `[1]`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StatementSpans(tt.doc); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestContextKeys(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string
	}{{
		// AWS's example of get-context-keys-for-custom-policy.
		name: "resource variable then condition",
		doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}`,
		want: []string{"aws:username", "aws:CurrentTime"},
	}, {
		name: "once whatever the case, values' variables, no special variables",
		doc: `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${*}/${aws:userid, 'x'}","Condition":{"StringLike":{"s3:prefix":"${aws:PrincipalTag/team}/*"},"NumericLessThan":{"s3:max-keys":"${x:y}"}}},
			{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::b/${AWS:UserId}","Condition":{"Bool":{"aws:SecureTransport":"false"},"StringEquals":{"S3:Prefix":"a"}}}]}`,
		want: []string{"aws:userid", "s3:prefix", "aws:PrincipalTag/team", "s3:max-keys", "aws:SecureTransport"},
	}, {
		name: "2008 policies have no variables",
		doc:  `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`,
		want: []string{"aws:SourceIp"},
	}, {
		name: "none",
		doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(UserInline, tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.ContextKeys(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContextOnly(t *testing.T) {
	p, err := Parse(UserInline, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*"}}`)
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Principal: PrincipalOf("arn:aws:iam::111122223333:user/alice", ""), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/alice/k"}
	if d := Evaluate(req, &Set{Identity: []*Policy{p}}); !d.Allowed() {
		t.Fatalf("derived aws:username: %v", d.Outcome)
	}
	req.ContextOnly = true
	if d := Evaluate(req, &Set{Identity: []*Policy{p}}); d.Allowed() {
		t.Fatal("ContextOnly still derived aws:username")
	}
	req.Context.Set("aws:username", "alice")
	if d := Evaluate(req, &Set{Identity: []*Policy{p}}); !d.Allowed() {
		t.Fatalf("given aws:username: %v", d.Outcome)
	}
}
