package policy

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/api"
)

// stmt is a statement in a 2012-10-17 document.
func stmt(body string) string { return doc(`{` + body + `}`) }

// The messages are those IAM and S3 return, as users report them in
// GitHub issues (searched by message text): "Syntax errors in policy."
// (boto/boto3#180), "Policy document must be version 2012-10-17 or
// greater." (Meteor-CollectionFS#630), "The policy failed legacy parsing"
// for Effect "allow" (hashicorp/terraform#10057), "Policy document should
// not specify a principal." (hashicorp/terraform#13449), "Has prohibited
// field Resource" from CreateRole, "Policy statement must contain
// resources." (terraform-aws-modules/terraform-aws-iam#603), "Policy
// statement must contain actions." (aws/aws-cdk#7615), "Actions/Condition
// can contain only one colon." (garnaat/kappa#111), "Resource ... must be
// in ARN format or \"*\"." (trussworks/terraform-aws-s3-anti-virus#21),
// "IAM resource ... cannot contain region information."
// (cloud-gov/terraform-provision#1838), "Invalid principal in policy:
// \"AWS\":\"arn...\"" (aws-samples/aws-iam-access-key-auto-rotation#26),
// the balsa message for a statement with no principals
// (terraform-aws-modules/terraform-aws-iam#47), "Statement IDs (SID) in a
// single policy must be unique." (kubernetes/kops#4951), the SID regular
// expression message (Wolox/carthage_cache#22), the LimitExceeded quotas
// (docker/docs#4685, HumanCellAtlas/data-store#1963); S3's texts as
// versity/versitygw#645-#650 record them from S3, "Missing required field
// Principal" (humanmade/S3-Uploads#191), "Invalid policy syntax." for a
// bare principal ARN (awsdocs/aws-cloudformation-user-guide#1013) and
// "Statement is missing required element" (aws/aws-cdk#6708).
var parseErrors = []struct {
	name string
	kind Kind
	doc  string
	code string
	msg  string
}{
	{"not JSON", Managed, `{`, "MalformedPolicyDocument", msgSyntax},
	{"not an object", RoleInline, `[]`, "MalformedPolicyDocument", msgSyntax},
	{"trailing data", RoleInline, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*"`) + `x`, "MalformedPolicyDocument", msgSyntax},
	{"a key twice", RoleInline, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}}`, "MalformedPolicyDocument", msgSyntax},
	{"trailing comma", RoleInline, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*",}]}`, "MalformedPolicyDocument", msgSyntax},
	{"managed without Version", Managed, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "MalformedPolicyDocument", msgVersion},
	{"managed 2008-10-17", Managed, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "MalformedPolicyDocument", msgVersion},
	{"unknown version", UserInline, `{"Version":"2019-08-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, "MalformedPolicyDocument", msgSyntax},
	{"unknown element", Managed, `{"Version":"2012-10-17","Statement":[],"Condition":{}}`, "MalformedPolicyDocument", msgSyntax},
	{"unknown statement element", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condtion":{}`), "MalformedPolicyDocument", msgSyntax},
	{"no Statement", Managed, `{"Version":"2012-10-17"}`, "MalformedPolicyDocument", msgSyntax},
	{"empty Statement", Managed, `{"Version":"2012-10-17","Statement":[]}`, "MalformedPolicyDocument", msgSyntax},
	{"Statement a string", Managed, `{"Version":"2012-10-17","Statement":"x"}`, "MalformedPolicyDocument", msgSyntax},
	{"Effect allow", Managed, stmt(`"Effect":"allow","Action":"es:ESHttp*","Resource":"*"`), "MalformedPolicyDocument", msgLegacy},
	{"no Effect", Managed, stmt(`"Action":"s3:*","Resource":"*"`), "MalformedPolicyDocument", msgSyntax},
	{"Principal in a managed policy", Managed, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/u"},"Action":"s3:*","Resource":"*"`), "MalformedPolicyDocument", msgNoPrincipal},
	{"Principal in a role policy", RoleInline, stmt(`"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"`), "MalformedPolicyDocument", msgNoPrincipal},
	{"NotPrincipal in a user policy", UserInline, stmt(`"Effect":"Deny","NotPrincipal":"*","Action":"s3:*","Resource":"*"`), "MalformedPolicyDocument", msgNoPrincipal},
	{"Principal in a session policy", Session, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"`), "MalformedPolicyDocument", msgNoPrincipal},
	{"no Action", GroupInline, stmt(`"Effect":"Allow","Resource":"*"`), "MalformedPolicyDocument", msgActions},
	{"empty Action", GroupInline, stmt(`"Effect":"Allow","Action":[],"Resource":"*"`), "MalformedPolicyDocument", msgActions},
	{"Action and NotAction", GroupInline, stmt(`"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"`), "MalformedPolicyDocument", msgSyntax},
	{"Action a number", GroupInline, stmt(`"Effect":"Allow","Action":5,"Resource":"*"`), "MalformedPolicyDocument", msgSyntax},
	{"Action null", GroupInline, stmt(`"Effect":"Allow","Action":null,"Resource":"*"`), "MalformedPolicyDocument", msgSyntax},
	{"no Resource", Managed, stmt(`"Effect":"Allow","Action":"s3:*"`), "MalformedPolicyDocument", msgResources},
	{"Resource null", Managed, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":null}]}`, "MalformedPolicyDocument", msgSyntax},
	{"action without a vendor", Managed, stmt(`"Effect":"Allow","Action":"GetObject","Resource":"*"`), "MalformedPolicyDocument", msgVendor},
	{"action with two colons", Managed, stmt(`"Effect":"Allow","Action":"arn:aws:logs:*","Resource":"*"`), "MalformedPolicyDocument", msgColon},
	{"wildcard vendor", Managed, stmt(`"Effect":"Allow","Action":"*:Untag*","Resource":"*"`), "MalformedPolicyDocument", msgVendorWildcard},
	{"resource not an ARN", RoleInline, stmt(`"Effect":"Allow","Action":"sns:Publish","Resource":"sns-topic-name"`), "MalformedPolicyDocument", `Resource sns-topic-name must be in ARN format or "*".`},
	{"empty resource", RoleInline, stmt(`"Effect":"Allow","Action":"kms:*","Resource":""`), "MalformedPolicyDocument", `Resource  must be in ARN format or "*".`},
	{"resource vendor wildcard", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:*:::b"`), "MalformedPolicyDocument", msgResourceVendor},
	{"IAM resource with a region", Managed, stmt(`"Effect":"Allow","Action":"iam:GetRole","Resource":"arn:aws:iam:us-east-1:123456789012:role/r"`), "MalformedPolicyDocument", "IAM resource arn:aws:iam:us-east-1:123456789012:role/r cannot contain region information."},
	{"duplicate Sid", RoleInline, doc(`{"Sid":"S3","Effect":"Allow","Action":"s3:Get*","Resource":"*"},{"Sid":"S3","Effect":"Allow","Action":"s3:Put*","Resource":"*"}`), "MalformedPolicyDocument", msgSidUnique},
	{"managed Sid with a hyphen", Managed, stmt(`"Sid":"autogenerated-id","Effect":"Allow","Action":"s3:ListBucket","Resource":"*"`), "MalformedPolicyDocument", msgSidAlphanumeric},
	{"Sid a number", Managed, stmt(`"Sid":1,"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"`), "MalformedPolicyDocument", msgSyntax},
	{"unknown condition operator", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}`), "MalformedPolicyDocument", msgSyntax},
	{"condition without an operator", Managed, stmt(`"Effect":"Allow","Action":"servicecatalog:*","Resource":"*","Condition":{"servicecatalog:accountLevel":"self"}`), "MalformedPolicyDocument", msgSyntax},
	{"NullIfExists", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}`), "MalformedPolicyDocument", msgSyntax},
	{"unknown set operator", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringEquals":{"aws:TagKeys":"a"}}`), "MalformedPolicyDocument", msgSyntax},
	{"condition key without a vendor", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"username":"a"}}`), "MalformedPolicyDocument", msgVendor},
	{"condition value an object", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":"b"}}}`), "MalformedPolicyDocument", msgSyntax},
	{"condition value null", Managed, stmt(`"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}`), "MalformedPolicyDocument", msgSyntax},
	{"managed over 6144", Managed, bigPolicy(6145), "LimitExceeded", "Cannot exceed quota for PolicySize: 6144"},

	// Trust policies (CreateRole, UpdateAssumeRolePolicy).
	{"trust with Resource", Trust, stmt(`"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"`), "MalformedPolicyDocument", "Has prohibited field Resource"},
	{"trust with NotResource", Trust, stmt(`"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","NotResource":"*"`), "MalformedPolicyDocument", "Has prohibited field NotResource"},
	{"trust without Principal", Trust, stmt(`"Effect":"Allow","Action":"sts:AssumeRole"`), "MalformedPolicyDocument", "Missing required field Principal"},
	{"trust with an empty Principal", Trust, stmt(`"Effect":"Allow","Principal":{},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", msgNoPrincipals},
	{"trust with NotPrincipal", Trust, stmt(`"Effect":"Deny","NotPrincipal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", "Has prohibited field NotPrincipal"},
	{"trust granting s3", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["sts:AssumeRole","s3:GetObject"]`), "MalformedPolicyDocument", msgAssumeRole},
	{"trust without Action", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"123456789012"}`), "MalformedPolicyDocument", msgActions},
	{"trust naming a role by wildcard", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/*"},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/*"`},
	{"trust naming a key id", Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"user"},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", `Invalid principal in policy: "AWS":"user"`},
	{"trust naming a canonical user", Trust, stmt(`"Effect":"Allow","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", `Invalid principal in policy: "CANONICALUSER":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"`},
	// aws-samples/aws-cdk-examples#801.
	{"trust with a bad service", Trust, stmt(`"Effect":"Allow","Principal":{"Service":"amazonaws.com"},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", `Invalid principal in policy: "SERVICE":"amazonaws.com"`},
	{"trust with an unknown principal type", Trust, stmt(`"Effect":"Allow","Principal":{"Group":"admins"},"Action":"sts:AssumeRole"`), "MalformedPolicyDocument", `Invalid principal in policy: "GROUP":"admins"`},
	{"trust over 2048", Trust, bigTrust(2049), "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048"},

	// S3 bucket policies (PutBucketPolicy).
	{"bucket empty", Bucket, ``, "MalformedPolicy", s3FirstByte},
	{"bucket leading space", Bucket, ` {}`, "MalformedPolicy", s3FirstByte},
	{"bucket bad JSON", Bucket, `{"Version":`, "MalformedPolicy", s3InvalidJSON},
	{"bucket without Statement", Bucket, `{"Version":"2012-10-17"}`, "MalformedPolicy", s3MissingStatement},
	{"bucket empty Statement", Bucket, `{"Version":"2012-10-17","Statement":[]}`, "MalformedPolicy", s3EmptyStatement},
	{"bucket bad Version", Bucket, `{"Version":"2017-06-20","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, "MalformedPolicy", s3Version},
	{"bucket bad Effect", Bucket, stmt(`"Principal":{"AWS":"123456789012"},"Effect":"hello","Action":"s3:*","Resource":["arn:aws:s3:::b"]`), "MalformedPolicy", "Invalid effect: hello"},
	{"bucket without Effect", Bucket, stmt(`"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`), "MalformedPolicy", "Missing required field Effect"},
	{"bucket without Principal", Bucket, stmt(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`), "MalformedPolicy", "Missing required field Principal"},
	{"bucket bare principal ARN", Bucket, stmt(`"Effect":"Allow","Principal":"arn:aws:iam::123456789012:root","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`), "MalformedPolicy", s3Syntax},
	{"bucket invalid principal", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"user"},"Action":"s3:*","Resource":["arn:aws:s3:::b"]`), "MalformedPolicy", s3Principal},
	{"bucket OAI with spaces", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E3*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`), "MalformedPolicy", s3Principal},
	{"bucket invalid action", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"invalid_action","Resource":["arn:aws:s3:::b"]`), "MalformedPolicy", s3Action},
	{"bucket IAM action", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":"iam:PassRole","Resource":"arn:aws:s3:::b"`), "MalformedPolicy", s3Action},
	{"bucket unknown S3 action", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"`), "MalformedPolicy", s3Action},
	{"bucket Resource *", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":["123456789012"]},"Action":["s3:*"],"Resource":["*"]`), "MalformedPolicy", s3Resource},
	{"bucket resource of another service", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:sqs:us-east-1:123456789012:q"`), "MalformedPolicy", s3Resource},
	{"bucket resource with a region", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:us-east-1:123456789012:b/*"`), "MalformedPolicy", s3Resource},
	{"bucket object action on the bucket", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["s3:PutObject"],"Resource":["arn:aws:s3:::b"]`), "MalformedPolicy", s3ActionResource},
	{"bucket ListBucket on objects", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/*"`), "MalformedPolicy", s3ActionResource},
	{"bucket account action", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:ListAllMyBuckets","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]`), "MalformedPolicy", s3ActionResource},
	{"bucket without Action", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Resource":"arn:aws:s3:::b"`), "MalformedPolicy", s3MissingElement},
	{"bucket without Resource", Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:*"`), "MalformedPolicy", s3MissingElement},
	{"bucket condition key without a vendor", Bucket, stmt(`"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"SourceVpce":"vpce-1"}}`), "MalformedPolicy", s3ConditionKey},
	{"bucket over 20 KB", Bucket, bigBucket(20*1024 + 1), "MalformedPolicy", s3TooLarge},
}

// bigPolicy is a managed policy of exactly size characters without white
// space, padded with white space that does not count.
func bigPolicy(size int) string {
	head := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::`
	tail := `"}}`
	return head + strings.Repeat("a", size-len(head)-len(tail)) + tail + strings.Repeat(" \n", 100)
}

func bigTrust(size int) string {
	head := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Sid":"`
	tail := `"}}`
	return head + strings.Repeat("a", size-len(head)-len(tail)) + tail
}

func bigBucket(size int) string {
	head := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/`
	tail := `"}}`
	return head + strings.Repeat("a", size-len(head)-len(tail)) + tail
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrors {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.kind, tc.doc)
			var ae *api.Error
			if !errors.As(err, &ae) {
				t.Fatalf("Parse = %v, want %s: %s", err, tc.code, tc.msg)
			}
			if ae.Code != tc.code || ae.Message != tc.msg {
				t.Errorf("Parse = %s: %q, want %s: %q", ae.Code, ae.Message, tc.code, tc.msg)
			}
			want := http.StatusBadRequest
			if tc.code == "LimitExceeded" {
				want = http.StatusConflict
			}
			if ae.Status != want {
				t.Errorf("status %d, want %d", ae.Status, want)
			}
		})
	}
}

func TestParseAtQuota(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		doc  string
	}{{Managed, bigPolicy(ManagedPolicySize)}, {Trust, bigTrust(TrustPolicySize)}, {Bucket, bigBucket(BucketPolicySize)}} {
		if _, err := Parse(tc.kind, tc.doc); err != nil {
			t.Errorf("%s policy at its quota: %v", tc.kind, err)
		}
	}
}

func TestParseBucket(t *testing.T) {
	policy := stmt(`"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::barton-travel-site/*"`)
	if _, err := ParseBucket("barton-travel-site", policy); err != nil {
		t.Errorf("own bucket: %v", err)
	}
	// "Policy has invalid resource ... confirm that the bucket name in the
	// bucket policy matches your bucket name" (aws-samples/aws-serverless-appsync-app#4).
	_, err := ParseBucket("barton-travel", policy)
	if err == nil || err.Error() != "MalformedPolicy: "+s3Resource {
		t.Errorf("another bucket: %v", err)
	}
	if _, err := ParseBucket("logs-2024", stmt(`"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::logs-*"`)); err != nil {
		t.Errorf("a pattern naming the bucket, bucket and object actions: %v", err)
	}
}

// TestParseForms checks the flexible forms AWS accepts ("Policy grammar":
// a single value for a list, Statement as one object, Principal "*").
func TestParseForms(t *testing.T) {
	p, err := Parse(Bucket, `{
		"Id": "Policy1",
		"Statement": {
			"Sid": "Public read",
			"Effect": "Allow",
			"Principal": {"AWS": ["*"], "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
			"Action": "s3:GetObject",
			"Resource": "arn:aws:s3:::b/*",
			"Condition": {
				"NumericLessThanEquals": {"s3:max-keys": 10},
				"Bool": {"aws:SecureTransport": true},
				"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b"]}
			}
		}}`)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Statements[0]
	if p.Version != "" || p.ID != "Policy1" || s.Sid != "Public read" || s.Effect != Allow || !s.Principal.Any ||
		len(s.Principal.CanonicalUser) != 1 || len(s.Action) != 1 || len(s.Resource) != 1 {
		t.Errorf("parsed %+v %+v", p, s)
	}
	want := []Condition{
		{"NumericLessThanEquals", "s3:max-keys", []string{"10"}},
		{"Bool", "aws:SecureTransport", []string{"true"}},
		{"ForAnyValue:StringLikeIfExists", "aws:TagKeys", []string{"a*", "b"}},
	}
	if len(s.Condition) != len(want) {
		t.Fatalf("conditions %v", s.Condition)
	}
	for i, c := range want {
		got := s.Condition[i]
		if got.Operator != c.Operator || got.Key != c.Key || strings.Join(got.Values, ",") != strings.Join(c.Values, ",") {
			t.Errorf("condition %d = %+v, want %+v", i, got, c)
		}
	}
	for _, ok := range []struct {
		kind Kind
		doc  string
	}{
		{Managed, stmt(`"Sid":"S3Read1","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":["*"]`)},
		{UserInline, `{"Version":"2008-10-17","Statement":[{"Sid":"home dir","Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b"}]}`},
		{RoleInline, `{"Statement":{"Effect":"Deny","NotAction":"iam:*","NotResource":"arn:aws:s3:::b/*"}}`},
		{Trust, stmt(`"Effect":"Allow","Principal":{"Service":["ecs.amazonaws.com","elasticloadbalancing.amazonaws.com"]},"Action":"sts:AssumeRole"`)},
		{Trust, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]`)},
		{Trust, stmt(`"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-2:id"}}`)},
		{Trust, stmt(`"Effect":"Allow","Principal":{"AWS":["arn:aws:sts::123456789012:assumed-role/r/s","AROAEXAMPLEROLEID123"]},"Action":"sts:*"`)},
		{Trust, stmt(`"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`)},
		{Bucket, stmt(`"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]`)},
		{Bucket, stmt(`"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/logs/*"`)},
		{Bucket, stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:federated-user/fed"},"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]`)},
		{ResourceBased, stmt(`"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sns:*","Resource":"*"`)},
	} {
		if _, err := Parse(ok.kind, ok.doc); err != nil {
			t.Errorf("%s %s: %v", ok.kind, ok.doc, err)
		}
	}
}

func TestSize(t *testing.T) {
	if got := Size("{ \"a\" :\n\t\"b c\" }"); got != 10 {
		t.Errorf("Size = %d, want 10 (white space is not counted)", got)
	}
}

func TestCheckInlineSize(t *testing.T) {
	for _, tc := range []struct {
		kind  Kind
		total int
		want  string
	}{
		{UserInline, 2048, ""},
		{UserInline, 2049, "Maximum policy size of 2048 bytes exceeded for user mapsnap"},
		{GroupInline, 5121, "Maximum policy size of 5120 bytes exceeded for group mapsnap"},
		{RoleInline, 10241, "Maximum policy size of 10240 bytes exceeded for role mapsnap"},
		{Managed, 100000, ""},
	} {
		err := CheckInlineSize(tc.kind, "mapsnap", tc.total)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s %d: %v", tc.kind, tc.total, err)
		case tc.want != "" && (err == nil || err.Error() != "LimitExceeded: "+tc.want):
			t.Errorf("%s %d: %v, want %s", tc.kind, tc.total, err, tc.want)
		}
	}
}

func TestCheckPrincipals(t *testing.T) {
	exists := func(arn string) bool { return arn == "arn:aws:iam::123456789012:role/app" }
	trust := mustParse(t, Trust, trustFor(`{"AWS":["arn:aws:iam::123456789012:role/app","123456789012","arn:aws:iam::123456789012:role/bk-nodes"]}`), "trust")
	err := trust.CheckPrincipals(exists)
	if err == nil || err.Error() != `MalformedPolicyDocument: Invalid principal in policy: "AWS":"arn:aws:iam::123456789012:role/bk-nodes"` {
		t.Errorf("trust: %v", err)
	}
	bucket := mustParse(t, Bucket, bucketGrant("Allow", `{"AWS":"arn:aws:iam::123456789012:user/gone"}`), "bucket")
	if err := bucket.CheckPrincipals(exists); err == nil || err.Error() != "MalformedPolicy: Invalid principal in policy" {
		t.Errorf("bucket: %v", err)
	}
	ok := mustParse(t, Trust, trustFor(`{"AWS":"arn:aws:iam::123456789012:role/app"}`), "trust")
	if err := ok.CheckPrincipals(exists); err != nil {
		t.Errorf("existing role: %v", err)
	}
}
