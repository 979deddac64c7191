package policy

import (
	"fmt"
	"testing"
)

// attached20 is a principal's 20 attached policies, managed-policy-like:
// several statements each, wildcard actions, ARN patterns, a few
// conditions and variables. The request is allowed by the last one.
func attached20(tb testing.TB) *Set {
	services := []string{"ec2", "rds", "dynamodb", "sqs", "sns", "lambda", "logs", "cloudwatch", "kms", "ssm",
		"elasticloadbalancing", "autoscaling", "route53", "acm", "secretsmanager", "sts", "ecr", "ecs", "events"}
	set := &Set{}
	for i, svc := range services {
		d := doc(fmt.Sprintf(`
			{"Sid":"Read%d","Effect":"Allow","Action":["%s:Describe*","%s:Get*","%s:List*"],"Resource":"*"},
			{"Sid":"Write%d","Effect":"Allow","Action":["%s:Create*","%s:Delete*","%s:Update*"],
			 "Resource":"arn:aws:%s:*:111122223333:team-%d/*",
			 "Condition":{"StringEquals":{"aws:RequestedRegion":["eu-west-1","us-east-1"]},"Bool":{"aws:SecureTransport":"true"}}},
			{"Sid":"Tagged%d","Effect":"Allow","Action":"%s:*","Resource":"*",
			 "Condition":{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}},
			{"Sid":"DenyOther%d","Effect":"Deny","Action":"%s:Delete*","Resource":"*",
			 "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}`,
			i, svc, svc, svc, i, svc, svc, svc, svc, i, i, svc, i, svc))
		set.Identity = append(set.Identity, mustParse(tb, Managed, d, "arn:aws:iam::111122223333:policy/"+svc))
	}
	set.Identity = append(set.Identity, mustParse(tb, Managed, doc(`
		{"Sid":"ListBucket","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data",
		 "Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}},
		{"Sid":"HomeObjects","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],
		 "Resource":"arn:aws:s3:::data/home/${aws:username}/*",
		 "Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:db8::/32"]}}}`), "arn:aws:iam::111122223333:policy/home"))
	if len(set.Identity) != 20 {
		tb.Fatalf("%d policies", len(set.Identity))
	}
	return set
}

func benchRequest() *Request {
	req := &Request{Principal: alice(), Action: "s3:GetObject", Resource: "arn:aws:s3:::data/home/alice/report.csv"}
	req.Context.Set("aws:SourceIp", "203.0.113.9")
	req.Context.Set("aws:SecureTransport", "true")
	req.Context.Set("aws:RequestedRegion", "eu-west-1")
	return req
}

func TestAttached20(t *testing.T) {
	set, req := attached20(t), benchRequest()
	d := Evaluate(req, set)
	if !d.Allowed() || len(d.Statements) != 1 || d.Statements[0].Sid != "HomeObjects" {
		t.Fatalf("decision %+v", d)
	}
	req.Resource = "arn:aws:s3:::data/home/bob/report.csv"
	if d := Evaluate(req, set); d.Outcome != ImplicitDeny {
		t.Fatalf("another's object: %+v", d)
	}
}

// BenchmarkEvaluate measures decisions for a principal with 20 attached
// policies (the benchmark), allowed by its last policy.
func BenchmarkEvaluate(b *testing.B) {
	set, req := attached20(b), benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if !Evaluate(req, set).Allowed() {
			b.Fatal("denied")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkEvaluateDenied is the same principal asking for what nothing
// allows: every statement is tried.
func BenchmarkEvaluateDenied(b *testing.B) {
	set, req := attached20(b), benchRequest()
	req.Action = "s3:DeleteBucket"
	b.ReportAllocs()
	for b.Loop() {
		if Evaluate(req, set).Allowed() {
			b.Fatal("allowed")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(Managed, homeDirectory); err != nil {
			b.Fatal(err)
		}
	}
}
