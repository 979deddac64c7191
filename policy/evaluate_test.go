package policy

import (
	"strconv"
	"testing"
	"time"
)

const (
	acct  = "111122223333"
	other = "444455556666"
)

func user(account, name string, tags ...string) Principal {
	p := Principal{Type: User, ARN: "arn:aws:iam::" + account + ":user/" + name, Account: account,
		UserID: "AIDA" + account + "EXAMPLE"}
	p.Tags = tagMap(tags)
	return p
}

func alice(tags ...string) Principal { return user(acct, "alice", tags...) }

func session(account, role, name string, tags ...string) Principal {
	return Principal{Type: AssumedRole, ARN: "arn:aws:sts::" + account + ":assumed-role/" + role + "/" + name,
		Account: account, UserID: "AROA" + account + "ROLE:" + name, Tags: tagMap(tags)}
}

func fedUser(account, name, parent string) Principal {
	return Principal{Type: FederatedUser, ARN: "arn:aws:sts::" + account + ":federated-user/" + name,
		Account: account, Parent: "arn:aws:iam::" + account + ":user/" + parent}
}

func root(account string) Principal {
	return Principal{Type: Root, ARN: "arn:aws:iam::" + account + ":root", Account: account}
}

func tagMap(kv []string) map[string]string {
	if len(kv) == 0 {
		return nil
	}
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// kvs are the condition keys of a request.
type kvs map[string][]string

type evalCase struct {
	name     string
	identity []string // identity-based policies
	boundary string
	session  []string
	resource string // a resource-based policy
	trust    string // a trust policy, the resource policy of sts:AssumeRole*
	p        Principal
	action   string
	res      string
	resAcct  string
	ctx      kvs
	at       string // aws:CurrentTime, default 2021-06-01T12:00:00Z
	want     Outcome
	by       string // the deciding policy type, when the case checks it
}

const (
	allowed  = Allowed
	denied   = ExplicitDeny
	implicit = ImplicitDeny
)

// doc wraps statements into a 2012-10-17 policy document.
func doc(statements string) string {
	return `{"Version":"2012-10-17","Statement":[` + statements + `]}`
}

// Carlos's policies of "Policy evaluation logic", "Example identity-based
// and resource-based policy evaluation".
const (
	carlosIdentity = `{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AllowS3ListRead", "Effect": "Allow",
         "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock", "s3:ListAccessPoints", "s3:ListAllMyBuckets"],
         "Resource": "arn:aws:s3:::*"},
        {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]},
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}
    ]}`
	carlosBucket = `{
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:user/carlossalazar"},
        "Action": "s3:*",
        "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]}]}`
	// "Cross-account policy evaluation logic", "Example cross-account
	// policy evaluation".
	carlosCrossIdentity = `{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AllowS3ListRead", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
        {"Sid": "AllowS3ProductionObjectActions", "Effect": "Allow", "Action": "s3:*Object*", "Resource": "arn:aws:s3:::Production/*"},
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"]}
    ]}`
	carlosCrossBucket = `{
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow",
        "Action": ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject", "s3:RestoreObject"],
        "Principal": {"AWS": "arn:aws:iam::111111111111:user/carlossalazar"},
        "Resource": "arn:aws:s3:::Production/*"}]}`
	// "The difference between explicit and implicit denies".
	getListReports = `{
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"}
    ]}`
	// "Permissions boundaries for IAM entities": ShirleyRodriguez.
	shirleyBoundary = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}]}`
	shirleyCreateUser = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"}}`
	allowAll          = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}`
	allowS3           = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}`
	allowGetObject    = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}`
	allowAssumeRole   = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}}`
)

// bucketGrant is a bucket policy of bucket "b" granting s3:GetObject to a
// principal element.
func bucketGrant(effect, principal string) string {
	return doc(`{"Effect":"` + effect + `","Principal":` + principal + `,"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`)
}

func trustFor(principal string) string {
	return doc(`{"Effect":"Allow","Principal":` + principal + `,"Action":"sts:AssumeRole"}`)
}

// condDoc is an identity policy allowing action on * under a Condition.
func condDoc(action, condition string) string {
	return doc(`{"Effect":"Allow","Action":"` + action + `","Resource":"*","Condition":` + condition + `}`)
}

// denyDoc is an identity policy denying action on * under a Condition.
func denyDoc(action, condition string) string {
	return doc(`{"Effect":"Deny","Action":"` + action + `","Resource":"*","Condition":` + condition + `}`)
}

const obj = "arn:aws:s3:::b/key"

var evalCases = []evalCase{
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
	// "Example identity-based and resource-based policy evaluation".
	{name: "carlos/logs bucket denied by identity Deny", identity: []string{carlosIdentity}, resource: carlosBucket,
		p: user("123456789012", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::carlossalazar-logs/file", want: denied, by: "identity-based policy"},
	{name: "carlos/own bucket allowed by both", identity: []string{carlosIdentity}, resource: carlosBucket,
		p: user("123456789012", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::carlossalazar/file", want: allowed},
	{name: "carlos/bucket policy alone allows the user it names", resource: carlosBucket,
		p: user("123456789012", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::carlossalazar/file", want: allowed, by: "resource-based policy"},
	{name: "carlos/identity policy alone allows", identity: []string{carlosIdentity},
		p: user("123456789012", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::carlossalazar/file", want: allowed, by: "identity-based policy"},
	{name: "carlos/bucket policy names another user", resource: carlosBucket,
		p: user("123456789012", "maria"), action: "s3:PutObject", res: "arn:aws:s3:::carlossalazar/file", want: implicit, by: "identity-based policy"},
	{name: "carlos/GetBucketLocation on any bucket", identity: []string{carlosIdentity},
		p: user("123456789012", "carlossalazar"), action: "s3:GetBucketLocation", res: "arn:aws:s3:::photos", want: allowed},
	{name: "carlos/DeleteBucket of another bucket implicitly denied", identity: []string{carlosIdentity},
		p: user("123456789012", "carlossalazar"), action: "s3:DeleteBucket", res: "arn:aws:s3:::photos", want: implicit},
	{name: "carlos/Deny wins over the bucket policy's Allow", identity: []string{carlosIdentity},
		resource: doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::carlossalazar-logs/*"}`),
		p:        user("123456789012", "carlossalazar"), action: "s3:GetObject", res: "arn:aws:s3:::carlossalazar-logs/x", want: denied},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html
	// "Example cross-account policy evaluation".
	{name: "cross/Production-logs denied in the trusted account", identity: []string{carlosCrossIdentity}, resource: carlosCrossBucket,
		p: user("111111111111", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::Production-logs/f", resAcct: "222222222222", want: denied},
	{name: "cross/Production allowed by both accounts", identity: []string{carlosCrossIdentity}, resource: carlosCrossBucket,
		p: user("111111111111", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: allowed},
	{name: "cross/no bucket policy", identity: []string{carlosCrossIdentity},
		p: user("111111111111", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: implicit, by: "resource-based policy"},
	{name: "cross/bucket policy without identity policy", resource: carlosCrossBucket,
		p: user("111111111111", "carlossalazar"), action: "s3:PutObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: implicit, by: "identity-based policy"},
	{name: "cross/DeleteObject not in the bucket policy", identity: []string{carlosCrossIdentity}, resource: carlosCrossBucket,
		p: user("111111111111", "carlossalazar"), action: "s3:DeleteObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: implicit, by: "resource-based policy"},
	{name: "cross/GetObjectAcl matched by s3:GetObject* and s3:*Object*", identity: []string{carlosCrossIdentity}, resource: carlosCrossBucket,
		p: user("111111111111", "carlossalazar"), action: "s3:GetObjectAcl", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: allowed},
	{name: "cross/bucket policy naming the account", identity: []string{carlosCrossIdentity},
		resource: doc(`{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"arn:aws:s3:::Production/*"}`),
		p:        user("111111111111", "carlossalazar"), action: "s3:GetObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: allowed},
	{name: "cross/account named but no identity policy", resource: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:*","Resource":"arn:aws:s3:::Production/*"}`),
		p: user("111111111111", "carlossalazar"), action: "s3:GetObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: implicit, by: "identity-based policy"},
	{name: "cross/bucket policy names a third account", identity: []string{allowS3},
		resource: doc(`{"Effect":"Allow","Principal":{"AWS":"333333333333"},"Action":"s3:*","Resource":"arn:aws:s3:::Production/*"}`),
		p:        user("111111111111", "carlossalazar"), action: "s3:GetObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: implicit, by: "resource-based policy"},
	{name: "cross/bucket policy Deny across accounts", identity: []string{allowS3},
		resource: doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::Production/*"}`),
		p:        user("111111111111", "carlossalazar"), action: "s3:GetObject", res: "arn:aws:s3:::Production/f", resAcct: "222222222222", want: denied, by: "resource-based policy"},
	{name: "cross/\"*\" still needs the identity side", resource: bucketGrant("Allow", `"*"`),
		p: alice(), action: "s3:GetObject", res: obj, resAcct: other, want: implicit, by: "identity-based policy"},
	{name: "cross/\"*\" with the identity side", identity: []string{allowGetObject}, resource: bucketGrant("Allow", `"*"`),
		p: alice(), action: "s3:GetObject", res: obj, resAcct: other, want: allowed},
	{name: "cross/role session via role ARN, identity allows", identity: []string{allowS3},
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:role/reader"}`),
		p:        session(acct, "reader", "s1"), action: "s3:GetObject", res: obj, resAcct: other, want: allowed},
	{name: "cross/role session via role ARN, boundary does not allow", identity: []string{allowS3}, boundary: shirleyCreateUser,
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:role/reader"}`),
		p:        session(acct, "reader", "s1"), action: "s3:GetObject", res: obj, resAcct: other, want: implicit, by: "permissions boundary"},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
	// "The difference between explicit and implicit denies".
	{name: "interplay/iam:GetUser allowed", identity: []string{getListReports}, p: alice(), action: "iam:GetUser", res: "arn:aws:iam::111122223333:user/bob", want: allowed},
	{name: "interplay/iam:ListUsers allowed", identity: []string{getListReports}, p: alice(), action: "iam:ListUsers", res: "*", want: allowed},
	{name: "interplay/iam:CreatePolicy implicitly denied", identity: []string{getListReports}, p: alice(), action: "iam:CreatePolicy", res: "*", want: implicit, by: "identity-based policy"},
	{name: "interplay/iam:GetOrganizationsAccessReport explicitly denied", identity: []string{getListReports}, p: alice(), action: "iam:GetOrganizationsAccessReport", res: "*", want: denied},
	{name: "interplay/iam:GenerateCredentialReport denied despite another Allow", identity: []string{getListReports, allowAll}, p: alice(), action: "iam:GenerateCredentialReport", res: "*", want: denied},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html
	// "The prefix and the action name are case insensitive".
	{name: "action/case-insensitive IAM:getuser", identity: []string{getListReports}, p: alice(), action: "IAM:getuser", res: "*", want: allowed},
	{name: "action/iam:*AccessKey* matches CreateAccessKey", identity: []string{doc(`{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}`)}, p: alice(), action: "iam:CreateAccessKey", res: "*", want: allowed},
	{name: "action/iam:*AccessKey* matches ListAccessKeys", identity: []string{doc(`{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}`)}, p: alice(), action: "iam:ListAccessKeys", res: "*", want: allowed},
	{name: "action/iam:*AccessKey* does not match GetUser", identity: []string{doc(`{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}`)}, p: alice(), action: "iam:GetUser", res: "*", want: implicit},
	{name: "action/s3:* does not match ec2 actions", identity: []string{allowS3}, p: alice(), action: "ec2:RunInstances", res: "*", want: implicit},
	{name: "action/? matches one character", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObjec?","Resource":"*"}`)}, p: alice(), action: "s3:GetObject", res: obj, want: allowed},
	{name: "action/? does not match two", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObje?","Resource":"*"}`)}, p: alice(), action: "s3:GetObject", res: obj, want: implicit},
	{name: "action/\"*\" matches every service", identity: []string{allowAll}, p: alice(), action: "dynamodb:PutItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/t", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
	{name: "notaction/Allow NotAction iam:* allows ec2", identity: []string{doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "notaction/Allow NotAction iam:* does not allow iam", identity: []string{doc(`{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`)}, p: alice(), action: "iam:CreateUser", res: "*", want: implicit},
	{name: "notaction/NotAction s3:DeleteBucket allows GetObject", identity: []string{doc(`{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::*"}`)}, p: alice(), action: "s3:GetObject", res: obj, want: allowed},
	{name: "notaction/NotAction s3:DeleteBucket does not allow DeleteBucket", identity: []string{doc(`{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::*"}`)}, p: alice(), action: "s3:DeleteBucket", res: "arn:aws:s3:::b", want: implicit},
	{name: "notaction/ListAllMyBuckets needs the \"*\" resource", identity: []string{doc(`{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::*"}`)}, p: alice(), action: "s3:ListAllMyBuckets", res: "*", want: implicit},
	{name: "notaction/other services' resources are out of scope", identity: []string{doc(`{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::*"}`)}, p: alice(), action: "ec2:TerminateInstances", res: "arn:aws:ec2:us-east-1:111122223333:instance/i-1", want: implicit},
	{name: "notaction/Deny NotAction iam:* without MFA denies ec2", identity: []string{allowAll, doc(`{"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)},
		p: alice(), action: "ec2:RunInstances", res: "*", want: denied},
	{name: "notaction/Deny NotAction iam:* leaves iam", identity: []string{allowAll, doc(`{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)},
		p: alice(), action: "iam:ChangePassword", res: "*", want: allowed},
	{name: "notaction/Deny NotAction iam:* with MFA", identity: []string{allowAll, doc(`{"Effect":"Deny","NotAction":"iam:*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}`)},
		p: session(acct, "admin", "s"), ctx: kvs{"aws:MultiFactorAuthPresent": {"true"}}, action: "ec2:RunInstances", res: "*", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html
	// "Using wildcards in resource ARNs": DOC-EXAMPLE-BUCKET/*/test/*.
	{name: "resource/*/test/* 1/test/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/test/object.jpg", want: allowed},
	{name: "resource/*/test/* 1/2/test/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/test/object.jpg", want: allowed},
	{name: "resource/*/test/* 1/2/test/3/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/test/3/object.jpg", want: allowed},
	{name: "resource/*/test/* 1/2/3/test/4/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/3/test/4/object.jpg", want: allowed},
	{name: "resource/*/test/* 1///test///object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1///test///object.jpg", want: allowed},
	{name: "resource/*/test/* 1/test/.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/test/.jpg", want: allowed},
	{name: "resource/*/test/* //test/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET//test/object.jpg", want: allowed},
	{name: "resource/*/test/* 1/test/", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/test/", want: allowed},
	{name: "resource/*/test/* not 1-test/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1-test/object.jpg", want: implicit},
	{name: "resource/*/test/* not test/object.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/test/object.jpg", want: implicit},
	{name: "resource/*/test/* not 1/2/test.jpg", identity: []string{testObjects}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/test.jpg", want: implicit},
	{name: "resource/user path accounting/*", identity: []string{doc(`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111122223333:user/accounting/*"}`)},
		p: alice(), action: "iam:GetUser", res: "arn:aws:iam::111122223333:user/accounting/bob", want: allowed},
	{name: "resource/user path outside accounting", identity: []string{doc(`{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111122223333:user/accounting/*"}`)},
		p: alice(), action: "iam:GetUser", res: "arn:aws:iam::111122223333:user/sales/bob", want: implicit},
	{name: "resource/a field wildcard does not cross colons", identity: []string{doc(`{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:*:111122223333:q"}`)},
		p: alice(), action: "sqs:SendMessage", res: "arn:aws:sqs:us-east-2:999999999999:111122223333:q", want: implicit},
	{name: "resource/region and account wildcards", identity: []string{doc(`{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/Thread"}`)},
		p: alice(), action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-2:111122223333:table/Thread", want: allowed},
	{name: "resource/the resource part spans colons", identity: []string{doc(`{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:log-group:app:*"}`)},
		p: alice(), action: "logs:PutLogEvents", res: "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:s1", want: allowed},
	{name: "resource/? in a resource", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/report-?.csv"}`)},
		p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::b/report-7.csv", want: allowed},
	{name: "resource/ARNs are case-sensitive", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/Key"}`)},
		p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::b/key", want: implicit},
	{name: "resource/multiple resources", identity: []string{doc(`{"Effect":"Allow","Action":"dynamodb:*","Resource":["arn:aws:dynamodb:us-east-2:111122223333:table/books_table","arn:aws:dynamodb:us-east-2:111122223333:table/magazines_table"]}`)},
		p: alice(), action: "dynamodb:Scan", res: "arn:aws:dynamodb:us-east-2:111122223333:table/magazines_table", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
	{name: "notresource/HRPayroll denied outside Payroll", identity: []string{allowS3, hrPayroll}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::HRBucket/Salaries/x", want: denied},
	{name: "notresource/HRPayroll Payroll folder not denied", identity: []string{allowS3, hrPayroll}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::HRBucket/Payroll/x", want: allowed},
	{name: "notresource/HRPayroll grants nothing itself", identity: []string{hrPayroll}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::HRBucket/Payroll/x", want: implicit},
	{name: "notresource/HRPayroll leaves EC2 alone", identity: []string{allowAll, hrPayroll}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "notresource/Allow NotResource", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","NotResource":"arn:aws:s3:::HRBucket/*"}`)}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::other/x", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
	{name: "boundary/ShirleyRodriguez cannot create users", identity: []string{shirleyCreateUser}, boundary: shirleyBoundary,
		p: user(acct, "ShirleyRodriguez"), action: "iam:CreateUser", res: "arn:aws:iam::111122223333:user/x", want: implicit, by: "permissions boundary"},
	{name: "boundary/the boundary grants nothing alone", boundary: shirleyBoundary,
		p: user(acct, "ShirleyRodriguez"), action: "s3:GetObject", res: obj, want: implicit, by: "identity-based policy"},
	{name: "boundary/intersection allows", identity: []string{allowAll}, boundary: shirleyBoundary,
		p: user(acct, "ShirleyRodriguez"), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "boundary/a Deny in the boundary", identity: []string{allowAll}, boundary: doc(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}`),
		p: user(acct, "ShirleyRodriguez"), action: "s3:DeleteBucket", res: "arn:aws:s3:::b", want: denied, by: "permissions boundary"},
	{name: "boundary/resource policy naming the user is not limited", boundary: shirleyCreateUser,
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:user/alice"}`),
		p:        alice(), action: "s3:GetObject", res: obj, want: allowed, by: "resource-based policy"},
	{name: "boundary/resource policy naming the role is limited", boundary: shirleyCreateUser,
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:role/app"}`),
		p:        session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: implicit},
	{name: "boundary/resource policy naming the role within the boundary", boundary: shirleyBoundary,
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:role/app"}`),
		p:        session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed, by: "resource-based policy"},
	{name: "boundary/resource policy naming the session is not limited", boundary: shirleyCreateUser,
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s"}`),
		p:        session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "boundary/\"*\" is not limited", boundary: shirleyCreateUser, resource: bucketGrant("Allow", `"*"`),
		p: session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "boundary/NotPrincipal Deny denies a bounded principal it lists", identity: []string{allowS3}, boundary: shirleyBoundary,
		resource: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`),
		p:        alice(), action: "s3:GetObject", res: obj, want: denied},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session
	{name: "session/intersection allows", identity: []string{allowS3}, session: []string{allowGetObject},
		p: session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "session/outside the session policy", identity: []string{allowS3}, session: []string{allowGetObject},
		p: session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: implicit, by: "session policy"},
	{name: "session/session policy grants nothing alone", session: []string{allowS3},
		p: session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: implicit, by: "identity-based policy"},
	{name: "session/one of several session policies allows", identity: []string{allowS3}, session: []string{allowGetObject, doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}`)},
		p: session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: allowed},
	{name: "session/a Deny in a session policy", identity: []string{allowS3}, session: []string{allowAll, doc(`{"Effect":"Deny","Action":"s3:PutObject","Resource":"*"}`)},
		p: session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: denied, by: "session policy"},
	{name: "session/no session policy: the role's permissions", identity: []string{allowS3},
		p: session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: allowed},
	{name: "session/resource policy naming the role is limited by the session policy", session: []string{allowGetObject},
		resource: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`),
		p:        session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: implicit, by: "identity-based policy"},
	{name: "session/resource policy naming the role within the session policy", session: []string{allowGetObject},
		resource: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`),
		p:        session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "session/resource policy naming the session is not limited", session: []string{allowGetObject},
		resource: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`),
		p:        session(acct, "app", "s"), action: "s3:PutObject", res: obj, want: allowed},
	{name: "session/another session of the role", session: []string{allowGetObject},
		resource: doc(`{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/app/s"},"Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`),
		p:        session(acct, "app", "other"), action: "s3:PutObject", res: obj, want: implicit},
	{name: "session/federated user without a session policy", identity: []string{allowS3},
		p: fedUser(acct, "fed", "alice"), action: "s3:GetObject", res: obj, want: implicit, by: "session policy"},
	{name: "session/federated user within its session policy", identity: []string{allowS3}, session: []string{allowGetObject},
		p: fedUser(acct, "fed", "alice"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "session/resource policy naming the federated user", resource: bucketGrant("Allow", `{"AWS":"arn:aws:sts::111122223333:federated-user/fed"}`),
		p: fedUser(acct, "fed", "alice"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "session/resource policy naming the user who federated is limited", session: []string{doc(`{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}`)},
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:user/alice"}`),
		p:        fedUser(acct, "fed", "alice"), action: "s3:GetObject", res: obj, want: implicit},
	{name: "session/resource policy naming the user who federated, within the session policy", session: []string{allowGetObject},
		resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:user/alice"}`),
		p:        fedUser(acct, "fed", "alice"), action: "s3:GetObject", res: obj, want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
	// "all requests are implicitly denied with the exception of the AWS
	// account root user, which has full access".
	{name: "root/full access in its account", p: root(acct), action: "ec2:TerminateInstances", res: "*", want: allowed},
	{name: "root/a bucket policy Deny applies to root", resource: bucketGrant("Deny", `"*"`), p: root(acct), action: "s3:GetObject", res: obj, want: denied},
	{name: "root/another account's resource needs its policy", p: root(acct), action: "s3:GetObject", res: obj, resAcct: other, want: implicit, by: "resource-based policy"},
	{name: "root/another account's bucket policy naming the account", resource: bucketGrant("Allow", `{"AWS":"111122223333"}`),
		p: root(acct), action: "s3:GetObject", res: obj, resAcct: other, want: allowed},
	{name: "anonymous/public bucket policy", resource: bucketGrant("Allow", `"*"`), p: Principal{Type: Anonymous}, action: "s3:GetObject", res: obj, want: allowed},
	{name: "anonymous/{\"AWS\":\"*\"} is everyone", resource: bucketGrant("Allow", `{"AWS":"*"}`), p: Principal{Type: Anonymous}, action: "s3:GetObject", res: obj, want: allowed},
	{name: "anonymous/no bucket policy", p: Principal{Type: Anonymous}, action: "s3:GetObject", res: obj, want: implicit, by: "resource-based policy"},
	{name: "anonymous/an account grant is not public", resource: bucketGrant("Allow", `{"AWS":"111122223333"}`), p: Principal{Type: Anonymous}, action: "s3:GetObject", res: obj, want: implicit},
	{name: "anonymous/aws:PrincipalType Anonymous", resource: doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"aws:PrincipalType":"Anonymous"}}},{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}`),
		p: Principal{Type: Anonymous}, action: "s3:GetObject", res: obj, want: denied},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
	{name: "principal/account id delegates to the identity policies", resource: bucketGrant("Allow", `{"AWS":"111122223333"}`),
		p: alice(), action: "s3:GetObject", res: obj, want: implicit, by: "identity-based policy"},
	{name: "principal/root ARN delegates the same way", identity: []string{allowGetObject}, resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:root"}`),
		p: alice(), action: "s3:GetObject", res: obj, want: allowed},
	{name: "principal/\"*\" grants users of the account", resource: bucketGrant("Allow", `"*"`), p: alice(), action: "s3:GetObject", res: obj, want: allowed},
	{name: "principal/role ARN grants its sessions", resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:role/app"}`),
		p: session(acct, "app", "i-0123"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "principal/role ARN with a path", resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:role/team/app"}`),
		p: func() Principal {
			s := session(acct, "app", "s")
			s.Parent = "arn:aws:iam::111122223333:role/team/app"
			return s
		}(), action: "s3:GetObject", res: obj, want: allowed},
	{name: "principal/user names are case-sensitive", resource: bucketGrant("Allow", `{"AWS":"arn:aws:iam::111122223333:user/Alice"}`),
		p: alice(), action: "s3:GetObject", res: obj, want: implicit},
	{name: "principal/a list grants each", resource: bucketGrant("Allow", `{"AWS":["123456789012","arn:aws:iam::111122223333:user/alice"]}`),
		p: alice(), action: "s3:GetObject", res: obj, want: allowed},
	{name: "principal/role unique id grants its sessions", resource: bucketGrant("Allow", `{"AWS":"AROA111122223333ROLE"}`),
		p: session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed},
	{name: "principal/ArnNotEquals aws:PrincipalArn spares the named user", identity: []string{allowS3}, resource: principalArnDeny,
		p: user(other, "user-name"), action: "s3:GetObject", res: "arn:aws:s3:::BUCKETNAME/x", want: allowed},
	{name: "principal/ArnNotEquals aws:PrincipalArn denies the others", identity: []string{allowS3}, resource: principalArnDeny,
		p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::BUCKETNAME/x", want: denied},
	{name: "principal/aws:PrincipalArn of a session is its role", identity: []string{allowS3},
		resource: doc(`{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app"}}}`),
		p:        session(acct, "app", "s"), action: "s3:GetObject", res: obj, want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html
	{name: "notprincipal/Bob is not denied", identity: []string{allowS3}, resource: bobNotPrincipal,
		p: user(other, "Bob"), action: "s3:GetObject", res: "arn:aws:s3:::BUCKETNAME/x", resAcct: acct, want: allowed},
	{name: "notprincipal/others are denied", identity: []string{allowS3}, resource: bobNotPrincipal,
		p: user(other, "Carol"), action: "s3:GetObject", res: "arn:aws:s3:::BUCKETNAME/x", resAcct: acct, want: denied},
	{name: "notprincipal/it allows nothing itself", resource: bobNotPrincipal,
		p: user(other, "Bob"), action: "s3:GetObject", res: "arn:aws:s3:::BUCKETNAME/x", resAcct: acct, want: implicit},
	{name: "notprincipal/the account left out denies Bob", identity: []string{allowS3},
		resource: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::444455556666:user/Bob"},"Action":"s3:*","Resource":"arn:aws:s3:::BUCKETNAME/*"},{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:*","Resource":"arn:aws:s3:::BUCKETNAME/*"}`),
		p:        user(other, "Bob"), action: "s3:GetObject", res: "arn:aws:s3:::BUCKETNAME/x", resAcct: acct, want: denied},
	{name: "notprincipal/the audit session is not denied", identity: []string{allowS3}, resource: auditNotPrincipal,
		p: session(other, "cross-account-read-only-role", "cross-account-audit-app"), action: "s3:GetObject", res: "arn:aws:s3:::Bucket_AccountAudit/x", resAcct: acct, want: allowed},
	{name: "notprincipal/another session of the role is denied", identity: []string{allowS3}, resource: auditNotPrincipal,
		p: session(other, "cross-account-read-only-role", "other-app"), action: "s3:GetObject", res: "arn:aws:s3:::Bucket_AccountAudit/x", resAcct: acct, want: denied},
	{name: "notprincipal/the role left out denies the session", identity: []string{allowS3},
		resource: doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":"arn:aws:s3:::Bucket_AccountAudit/*"},{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::Bucket_AccountAudit/*"}`),
		p:        session(other, "cross-account-read-only-role", "cross-account-audit-app"), action: "s3:GetObject", res: "arn:aws:s3:::Bucket_AccountAudit/x", resAcct: acct, want: denied},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_compare-resource-policies.html
	// and reference_policies_evaluation-logic.html: "IAM role trust
	// policies ... must explicitly allow access for principals".
	{name: "trust/account named: the identity policy decides", identity: []string{allowAssumeRole}, trust: trustFor(`{"AWS":"arn:aws:iam::111122223333:root"}`),
		p: alice(), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/account named, no identity policy", trust: trustFor(`{"AWS":"arn:aws:iam::111122223333:root"}`),
		p: alice(), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: implicit, by: "identity-based policy"},
	{name: "trust/the user named directly", trust: trustFor(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`),
		p: alice(), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/administrators need the trust too", identity: []string{allowAll}, trust: trustFor(`{"Service":"lambda.amazonaws.com"}`),
		p: alice(), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: implicit, by: "resource-based policy"},
	{name: "trust/cross-account with the identity policy", identity: []string{allowAssumeRole}, trust: trustFor(`{"AWS":"444455556666"}`),
		p: user(other, "dev"), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", resAcct: acct, want: allowed},
	{name: "trust/cross-account without the identity policy", trust: trustFor(`{"AWS":"arn:aws:iam::444455556666:user/dev"}`),
		p: user(other, "dev"), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", resAcct: acct, want: implicit, by: "identity-based policy"},
	{name: "trust/cross-account not trusted", identity: []string{allowAssumeRole}, trust: trustFor(`{"AWS":"999999999999"}`),
		p: user(other, "dev"), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", resAcct: acct, want: implicit, by: "resource-based policy"},
	{name: "trust/ec2.amazonaws.com", trust: trustFor(`{"Service":"ec2.amazonaws.com"}`),
		p: Principal{Type: Service, ARN: "ec2.amazonaws.com"}, action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/another service", trust: trustFor(`{"Service":"ec2.amazonaws.com"}`),
		p: Principal{Type: Service, ARN: "lambda.amazonaws.com"}, action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: implicit},
	{name: "trust/one of two services", trust: trustFor(`{"Service":["ecs.amazonaws.com","elasticloadbalancing.amazonaws.com"]}`),
		p: Principal{Type: Service, ARN: "elasticloadbalancing.amazonaws.com"}, action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/web identity provider", trust: doc(`{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"accounts.google.com:aud":"app-id"}}}`),
		p: Principal{Type: WebIdentity, ARN: "accounts.google.com"}, ctx: kvs{"accounts.google.com:aud": {"app-id"}}, action: "sts:AssumeRoleWithWebIdentity", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/web identity of another audience", trust: doc(`{"Effect":"Allow","Principal":{"Federated":"accounts.google.com"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"accounts.google.com:aud":"app-id"}}}`),
		p: Principal{Type: WebIdentity, ARN: "accounts.google.com"}, ctx: kvs{"accounts.google.com:aud": {"other"}}, action: "sts:AssumeRoleWithWebIdentity", res: "arn:aws:iam::111122223333:role/r", want: implicit},
	{name: "trust/SAML provider", trust: doc(`{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/corp"},"Action":"sts:AssumeRoleWithSAML"}`),
		p: Principal{Type: WebIdentity, ARN: "arn:aws:iam::111122223333:saml-provider/corp"}, action: "sts:AssumeRoleWithSAML", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/the trusted action only", trust: trustFor(`{"Service":"ec2.amazonaws.com"}`),
		p: Principal{Type: Service, ARN: "ec2.amazonaws.com"}, action: "sts:TagSession", res: "arn:aws:iam::111122223333:role/r", want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user_externalid.html
	{name: "trust/ExternalId matches", identity: []string{allowAssumeRole}, trust: externalIDTrust,
		p: user(other, "vendor"), ctx: kvs{"sts:ExternalId": {"Unique ID Assigned by Example Corp"}}, action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", resAcct: acct, want: allowed},
	{name: "trust/ExternalId wrong", identity: []string{allowAssumeRole}, trust: externalIDTrust,
		p: user(other, "vendor"), ctx: kvs{"sts:ExternalId": {"guess"}}, action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", resAcct: acct, want: implicit, by: "resource-based policy"},
	{name: "trust/ExternalId missing", identity: []string{allowAssumeRole}, trust: externalIDTrust,
		p: user(other, "vendor"), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", resAcct: acct, want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_mfa_configure-api-require.html
	{name: "trust/MFA required, present", identity: []string{allowAssumeRole}, trust: mfaTrust,
		p: session(acct, "base", "s"), ctx: kvs{"aws:MultiFactorAuthPresent": {"true"}}, action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/MFA required, long-term keys", identity: []string{allowAssumeRole}, trust: mfaTrust,
		p: alice(), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: implicit},
	// STS itself refuses AssumeRole with root credentials; these check
	// the trust policy's part alone.
	{name: "trust/root assumes a role its account trusts", trust: trustFor(`{"AWS":"111122223333"}`),
		p: root(acct), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},
	{name: "trust/root is not trusted by a user-only trust", trust: trustFor(`{"AWS":"arn:aws:iam::111122223333:user/alice"}`),
		p: root(acct), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: implicit},
	{name: "trust/role chaining via the role ARN", trust: trustFor(`{"AWS":"arn:aws:iam::111122223333:role/base"}`),
		p: session(acct, "base", "s"), action: "sts:AssumeRole", res: "arn:aws:iam::111122223333:role/r", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
	// String condition operators.
	{name: "string/PrincipalTag job-category", identity: []string{jobCategory}, p: alice("job-category", "iamuser-admin"), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/bob", want: allowed},
	{name: "string/PrincipalTag missing", identity: []string{jobCategory}, p: alice(), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/bob", want: implicit},
	{name: "string/PrincipalTag other value", identity: []string{jobCategory}, p: alice("job-category", "dev"), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/bob", want: implicit},
	{name: "string/tag keys are case-insensitive", identity: []string{jobCategory}, p: alice("Job-Category", "iamuser-admin"), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/bob", want: allowed},
	{name: "string/StringEquals is case-sensitive in values", identity: []string{jobCategory}, p: alice("job-category", "IAMUSER-ADMIN"), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/bob", want: implicit},
	{name: "string/home prefix \"\"", identity: []string{homeDirectory}, p: alice(), ctx: kvs{"s3:prefix": {""}}, action: "s3:ListBucket", res: "arn:aws:s3:::BUCKET-NAME", want: allowed},
	{name: "string/home prefix home/", identity: []string{homeDirectory}, p: alice(), ctx: kvs{"s3:prefix": {"home/"}}, action: "s3:ListBucket", res: "arn:aws:s3:::BUCKET-NAME", want: allowed},
	{name: "string/home prefix home/alice/", identity: []string{homeDirectory}, p: alice(), ctx: kvs{"s3:prefix": {"home/alice/"}}, action: "s3:ListBucket", res: "arn:aws:s3:::BUCKET-NAME", want: allowed},
	{name: "string/home prefix home/bob/", identity: []string{homeDirectory}, p: alice(), ctx: kvs{"s3:prefix": {"home/bob/"}}, action: "s3:ListBucket", res: "arn:aws:s3:::BUCKET-NAME", want: implicit},
	{name: "string/home prefix missing", identity: []string{homeDirectory}, p: alice(), action: "s3:ListBucket", res: "arn:aws:s3:::BUCKET-NAME", want: implicit},
	{name: "string/own home objects", identity: []string{homeDirectory}, p: alice(), action: "s3:PutObject", res: "arn:aws:s3:::BUCKET-NAME/home/alice/notes.txt", want: allowed},
	{name: "string/another's home objects", identity: []string{homeDirectory}, p: alice(), action: "s3:PutObject", res: "arn:aws:s3:::BUCKET-NAME/home/bob/notes.txt", want: implicit},
	{name: "string/StringEqualsIgnoreCase", identity: []string{condDoc("ec2:*", `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":["finance","hr","legal"]}}`)},
		p: alice("department", "HR"), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "string/StringNotEqualsIgnoreCase", identity: []string{condDoc("ec2:*", `{"StringNotEqualsIgnoreCase":{"aws:PrincipalTag/department":"hr"}}`)},
		p: alice("department", "HR"), action: "ec2:RunInstances", res: "*", want: implicit},
	{name: "string/StringLike ? and *", identity: []string{condDoc("ec2:*", `{"StringLike":{"ec2:InstanceType":"t?.*"}}`)},
		ctx: kvs{"ec2:InstanceType": {"t3.micro"}}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "string/StringNotLike matches", identity: []string{condDoc("ec2:*", `{"StringNotLike":{"ec2:InstanceType":"*.metal"}}`)},
		ctx: kvs{"ec2:InstanceType": {"t3.micro"}}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "string/StringNotLike on a missing key is true", identity: []string{condDoc("ec2:*", `{"StringNotLike":{"ec2:InstanceType":"*.metal"}}`)},
		p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	// aws:PrincipalAccount, from "AWS global condition context keys".
	{name: "string/Deny outside a specific account", identity: []string{allowS3, principalAccountDeny}, p: user(other, "x"), action: "s3:GetObject", res: "arn:aws:s3:::b/x", want: denied},
	{name: "string/not denied in the account", identity: []string{allowS3, principalAccountDeny}, p: user("123456789012", "x"), action: "s3:GetObject", res: "arn:aws:s3:::b/x", want: allowed},
	// Numeric condition operators.
	{name: "numeric/max-keys 5", identity: []string{maxKeys}, p: alice(), ctx: kvs{"s3:max-keys": {"5"}}, action: "s3:ListBucket", res: "arn:aws:s3:::example_bucket", want: allowed},
	{name: "numeric/max-keys 10", identity: []string{maxKeys}, p: alice(), ctx: kvs{"s3:max-keys": {"10"}}, action: "s3:ListBucket", res: "arn:aws:s3:::example_bucket", want: allowed},
	{name: "numeric/max-keys 11", identity: []string{maxKeys}, p: alice(), ctx: kvs{"s3:max-keys": {"11"}}, action: "s3:ListBucket", res: "arn:aws:s3:::example_bucket", want: implicit},
	{name: "numeric/max-keys missing", identity: []string{maxKeys}, p: alice(), action: "s3:ListBucket", res: "arn:aws:s3:::example_bucket", want: implicit},
	{name: "numeric/not a number", identity: []string{maxKeys}, p: alice(), ctx: kvs{"s3:max-keys": {"ten"}}, action: "s3:ListBucket", res: "arn:aws:s3:::example_bucket", want: implicit},
	{name: "numeric/decimal equals integer", identity: []string{condDoc("s3:*", `{"NumericEquals":{"s3:max-keys":"10"}}`)}, p: alice(), ctx: kvs{"s3:max-keys": {"10.0"}}, action: "s3:ListBucket", res: "*", want: allowed},
	{name: "numeric/a number written unquoted", identity: []string{condDoc("s3:*", `{"NumericGreaterThan":{"s3:max-keys":10}}`)}, p: alice(), ctx: kvs{"s3:max-keys": {"11"}}, action: "s3:ListBucket", res: "*", want: allowed},
	{name: "numeric/NumericNotEquals on a missing key is true", identity: []string{condDoc("s3:*", `{"NumericNotEquals":{"s3:max-keys":"10"}}`)}, p: alice(), action: "s3:ListBucket", res: "*", want: allowed},
	{name: "numeric/NumericGreaterThanEquals", identity: []string{condDoc("s3:*", `{"NumericGreaterThanEquals":{"s3:object-lock-remaining-retention-days":"30"}}`)}, p: alice(), ctx: kvs{"s3:object-lock-remaining-retention-days": {"29"}}, action: "s3:PutObjectRetention", res: "*", want: implicit},
	{name: "numeric/NumericLessThan", identity: []string{condDoc("s3:*", `{"NumericLessThan":{"s3:max-keys":"10"}}`)}, p: alice(), ctx: kvs{"s3:max-keys": {"10"}}, action: "s3:ListBucket", res: "*", want: implicit},
	// Date condition operators.
	{name: "date/token issued after 2020", identity: []string{tokenIssued}, p: session(acct, "r", "s"), ctx: kvs{"aws:TokenIssueTime": {"2021-03-01T10:00:00Z"}}, action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/x", want: allowed},
	{name: "date/token issued before", identity: []string{tokenIssued}, p: session(acct, "r", "s"), ctx: kvs{"aws:TokenIssueTime": {"2019-12-31T23:59:59Z"}}, action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/x", want: implicit},
	{name: "date/long-term keys have no token", identity: []string{tokenIssued}, p: alice(), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/x", want: implicit},
	{name: "date/epoch policy value", identity: []string{condDoc("s3:*", `{"DateLessThan":{"aws:CurrentTime":"1625097600"}}`)}, p: alice(), at: "2021-06-01T12:00:00Z", action: "s3:GetObject", res: "*", want: allowed},
	{name: "date/aws:EpochTime against ISO 8601", identity: []string{condDoc("s3:*", `{"DateGreaterThan":{"aws:EpochTime":"2021-01-01T00:00:00Z"}}`)}, p: alice(), at: "2021-06-01T12:00:00Z", action: "s3:GetObject", res: "*", want: allowed},
	{name: "date/aws:EpochTime numerically", identity: []string{condDoc("s3:*", `{"NumericGreaterThan":{"aws:EpochTime":1622548800}}`)}, p: alice(), at: "2021-06-01T12:00:00Z", action: "s3:GetObject", res: "*", want: implicit},
	{name: "date/DateEquals a date-time with an offset", identity: []string{condDoc("s3:*", `{"DateEquals":{"aws:CurrentTime":"2021-06-01T14:00:00+02:00"}}`)}, p: alice(), at: "2021-06-01T12:00:00Z", action: "s3:GetObject", res: "*", want: allowed},
	{name: "date/DateNotEquals", identity: []string{condDoc("s3:*", `{"DateNotEquals":{"aws:CurrentTime":"2021-06-01T12:00:00Z"}}`)}, p: alice(), at: "2021-06-01T12:00:00Z", action: "s3:GetObject", res: "*", want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws-dates.html
	{name: "date/within April to June 2020", identity: []string{aprilToJune}, p: alice(), at: "2020-05-15T08:00:00Z", action: "service-prefix:action-name", res: "*", want: allowed},
	{name: "date/before April 2020", identity: []string{aprilToJune}, p: alice(), at: "2020-03-31T23:59:59Z", action: "service-prefix:action-name", res: "*", want: implicit},
	{name: "date/after June 2020", identity: []string{aprilToJune}, p: alice(), at: "2020-07-01T00:00:00Z", action: "service-prefix:action-name", res: "*", want: implicit},
	// Boolean condition operators.
	{name: "bool/Deny without SSL", identity: []string{allowS3, secureTransport}, p: alice(), ctx: kvs{"aws:SecureTransport": {"false"}}, action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/x", want: denied},
	{name: "bool/SSL not denied", identity: []string{allowS3, secureTransport}, p: alice(), ctx: kvs{"aws:SecureTransport": {"true"}}, action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/x", want: allowed},
	{name: "bool/values compare case-insensitively", identity: []string{allowS3, secureTransport}, p: alice(), ctx: kvs{"aws:SecureTransport": {"FALSE"}}, action: "s3:GetObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/x", want: denied},
	{name: "bool/an unquoted boolean", identity: []string{condDoc("s3:*", `{"Bool":{"aws:SecureTransport":true}}`)}, p: alice(), ctx: kvs{"aws:SecureTransport": {"true"}}, action: "s3:GetObject", res: "*", want: allowed},
	// aws:MultiFactorAuthPresent, from "AWS global condition context keys".
	{name: "bool/Bool false Deny does not deny long-term keys", identity: []string{allowAll, denyDoc("*", `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`)}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "bool/Bool false Deny denies sessions without MFA", identity: []string{allowAll, denyDoc("*", `{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`)}, p: session(acct, "r", "s"), ctx: kvs{"aws:MultiFactorAuthPresent": {"false"}}, action: "ec2:RunInstances", res: "*", want: denied},
	{name: "bool/BoolIfExists false Deny denies long-term keys", identity: []string{allowAll, denyDoc("*", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`)}, p: alice(), action: "ec2:RunInstances", res: "*", want: denied},
	{name: "bool/BoolIfExists true Allow allows long-term keys", identity: []string{condDoc("*", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`)}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "bool/BoolIfExists true Allow refuses sessions without MFA", identity: []string{condDoc("*", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"true"}}`)}, p: session(acct, "r", "s"), ctx: kvs{"aws:MultiFactorAuthPresent": {"false"}}, action: "ec2:RunInstances", res: "*", want: implicit},
	{name: "bool/Null false Allow allows temporary credentials", identity: []string{condDoc("*", `{"Null":{"aws:MultiFactorAuthPresent":"false"}}`)}, p: session(acct, "r", "s"), ctx: kvs{"aws:MultiFactorAuthPresent": {"false"}}, action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "bool/Null false Allow refuses long-term keys", identity: []string{condDoc("*", `{"Null":{"aws:MultiFactorAuthPresent":"false"}}`)}, p: alice(), action: "ec2:RunInstances", res: "*", want: implicit},
	// Binary condition operators.
	{name: "binary/BinaryEquals", identity: []string{condDoc("kms:*", `{"BinaryEquals":{"kms:EncryptionContext":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`)}, p: alice(), ctx: kvs{"kms:EncryptionContext": {"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}, action: "kms:Decrypt", res: "*", want: allowed},
	{name: "binary/other bytes", identity: []string{condDoc("kms:*", `{"BinaryEquals":{"kms:EncryptionContext":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}`)}, p: alice(), ctx: kvs{"kms:EncryptionContext": {"b3RoZXI="}}, action: "kms:Decrypt", res: "*", want: implicit},
	// IP address condition operators.
	{name: "ip/inside 203.0.113.0/24", identity: []string{sourceIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"203.0.113.77"}}, action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/x", want: allowed},
	{name: "ip/outside", identity: []string{sourceIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"198.51.100.1"}}, action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/x", want: implicit},
	{name: "ip/through a VPC endpoint: no aws:SourceIp", identity: []string{sourceIP}, p: alice(), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/x", want: implicit},
	{name: "ip/IPv6 range", identity: []string{mixedIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"2001:db8:1234:5678::9"}}, action: "someservice:Do", res: "*", want: allowed},
	{name: "ip/IPv6 outside", identity: []string{mixedIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"2001:db8:1234:5679::9"}}, action: "someservice:Do", res: "*", want: implicit},
	{name: "ip/IPv4 in a mixed list", identity: []string{mixedIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"203.0.113.1"}}, action: "someservice:Do", res: "*", want: allowed},
	{name: "ip/an address alone is /32", identity: []string{condDoc("s3:*", `{"IpAddress":{"aws:SourceIp":"192.0.2.10"}}`)}, p: alice(), ctx: kvs{"aws:SourceIp": {"192.0.2.11"}}, action: "s3:GetObject", res: "*", want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-ip.html
	{name: "ip/deny-ip outside the ranges", identity: []string{allowAll, denyIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"198.51.100.7"}, "aws:ViaAWSService": {"false"}}, action: "ec2:RunInstances", res: "*", want: denied},
	{name: "ip/deny-ip inside the ranges", identity: []string{allowAll, denyIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"192.0.2.7"}, "aws:ViaAWSService": {"false"}}, action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "ip/deny-ip a service on the principal's behalf", identity: []string{allowAll, denyIP}, p: alice(), ctx: kvs{"aws:SourceIp": {"198.51.100.7"}, "aws:ViaAWSService": {"true"}}, action: "ec2:RunInstances", res: "*", want: allowed},
	// Amazon Resource Name (ARN) condition operators.
	{name: "arn/the topic the queue accepts", identity: []string{topicSource}, p: alice(),
		ctx: kvs{"aws:SourceArn": {"arn:aws:sns:us-east-2:123456789012:TOPIC-ID"}}, action: "SQS:SendMessage", res: "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID", want: allowed},
	{name: "arn/another topic", identity: []string{topicSource}, p: alice(),
		ctx: kvs{"aws:SourceArn": {"arn:aws:sns:us-east-2:123456789012:OTHER"}}, action: "sqs:SendMessage", res: "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID", want: implicit},
	{name: "arn/a direct call has no aws:SourceArn", identity: []string{topicSource}, p: alice(),
		action: "sqs:SendMessage", res: "arn:aws:sqs:us-east-2:123456789012:QUEUE-ID", want: implicit},
	{name: "arn/StringLike crosses fields", identity: []string{condDoc("someservice:*", `{"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`)}, p: alice(),
		ctx: kvs{"aws:SourceArn": {"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}}, action: "someservice:Get", res: "*", want: allowed},
	{name: "arn/ArnLike stays within fields", identity: []string{condDoc("someservice:*", `{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`)}, p: alice(),
		ctx: kvs{"aws:SourceArn": {"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"}}, action: "someservice:Get", res: "*", want: implicit},
	{name: "arn/ArnLike matches", identity: []string{condDoc("someservice:*", `{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`)}, p: alice(),
		ctx: kvs{"aws:SourceArn": {"arn:aws:someservice:us-east-2:111122223333:finance/document.txt"}}, action: "someservice:Get", res: "*", want: allowed},
	{name: "arn/ArnEquals behaves as ArnLike", identity: []string{condDoc("someservice:*", `{"ArnEquals":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}`)}, p: alice(),
		ctx: kvs{"aws:SourceArn": {"arn:aws:someservice:us-west-1:111122223333:finance/a"}}, action: "someservice:Get", res: "*", want: allowed},
	{name: "arn/ArnNotEquals on a missing key is true", identity: []string{condDoc("someservice:*", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:*:t"}}`)}, p: alice(), action: "someservice:Get", res: "*", want: allowed},
	{name: "arn/not an ARN", identity: []string{condDoc("someservice:*", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:*"}}`)}, p: alice(), ctx: kvs{"aws:SourceArn": {"topic"}}, action: "someservice:Get", res: "*", want: implicit},
	// ...IfExists condition operators.
	{name: "ifexists/RunInstance on an image: no instance type", identity: []string{instanceTypeIfExists}, p: alice(), action: "ec2:RunInstances", res: "arn:aws:ec2:us-east-1::image/ami-1", want: allowed},
	{name: "ifexists/t2.micro allowed", identity: []string{instanceTypeIfExists}, p: alice(), ctx: kvs{"ec2:InstanceType": {"t2.micro"}}, action: "ec2:RunInstances", res: "arn:aws:ec2:us-east-1:111122223333:instance/*", want: allowed},
	{name: "ifexists/m5.large refused", identity: []string{instanceTypeIfExists}, p: alice(), ctx: kvs{"ec2:InstanceType": {"m5.large"}}, action: "ec2:RunInstances", res: "arn:aws:ec2:us-east-1:111122223333:instance/*", want: implicit},
	{name: "ifexists/THISPOLICYDOESNOTWORK on an image", identity: []string{condDoc("ec2:RunInstances", `{"StringLike":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}`)}, p: alice(), action: "ec2:RunInstances", res: "arn:aws:ec2:us-east-1::image/ami-1", want: implicit},
	{name: "ifexists/Deny with StringNotEqualsIfExists denies a missing key", identity: []string{allowAll, denyDoc("ec2:*", `{"StringNotEqualsIfExists":{"aws:ResourceTag/team":"blue"}}`)}, p: alice(), action: "ec2:StopInstances", res: "*", want: denied},
	{name: "ifexists/Deny with StringNotEqualsIfExists spares the tag", identity: []string{allowAll, denyDoc("ec2:*", `{"StringNotEqualsIfExists":{"aws:ResourceTag/team":"blue"}}`)}, p: alice(), ctx: kvs{"aws:ResourceTag/team": {"blue"}}, action: "ec2:StopInstances", res: "*", want: allowed},
	{name: "ifexists/IpAddressIfExists and StringEqualsIfExists", identity: []string{condDoc("s3:*", `{"IpAddressIfExists":{"aws:SourceIp":["203.0.113.0/24"]},"StringEqualsIfExists":{"aws:SourceVpc":["vpc-111bbb22"]}}`)},
		p: alice(), ctx: kvs{"aws:SourceVpc": {"vpc-111bbb22"}}, action: "s3:GetObject", res: "*", want: allowed},
	// Condition operator to check existence of condition keys.
	{name: "null/TokenIssueTime true: long-term keys", identity: []string{noTemporary}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "null/TokenIssueTime true: temporary credentials", identity: []string{noTemporary}, p: session(acct, "r", "s"), ctx: kvs{"aws:TokenIssueTime": {"2021-06-01T11:00:00Z"}}, action: "ec2:RunInstances", res: "*", want: implicit},
	{name: "null/both values OR", identity: []string{condDoc("ec2:*", `{"Null":{"aws:TokenIssueTime":["true","false"]}}`)}, p: alice(), action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "null/an empty multivalued key is null", identity: []string{condDoc("ec2:*", `{"Null":{"aws:TagKeys":"true"}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {}}, action: "ec2:CreateTags", res: "*", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
	{name: "multi/ForAllValues subset", identity: []string{forAllAttributes}, p: alice(), ctx: kvs{"dynamodb:Attributes": {"Message", "Tags"}}, action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/ForAllValues with the key attribute", identity: []string{forAllAttributes}, p: alice(), ctx: kvs{"dynamodb:Attributes": {"ID", "Message", "Tags"}}, action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/ForAllValues UserName not listed", identity: []string{forAllAttributes}, p: alice(), ctx: kvs{"dynamodb:Attributes": {"Message", "UserName"}}, action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: implicit},
	{name: "multi/ForAllValues with no key is true", identity: []string{forAllAttributes}, p: alice(), action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/ForAllValues with an empty set is true", identity: []string{forAllAttributes}, p: alice(), ctx: kvs{"dynamodb:Attributes": {}}, action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/ForAllValues with an empty string is true", identity: []string{forAllAttributes}, p: alice(), ctx: kvs{"dynamodb:Attributes": {""}}, action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/ForAnyValue Deny PostDateTime", identity: []string{allowAll, forAnyDeny}, p: alice(), ctx: kvs{"dynamodb:Attributes": {"PostDateTime", "Message"}}, action: "dynamodb:PutItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: denied},
	{name: "multi/ForAnyValue Deny not triggered by UserName", identity: []string{allowAll, forAnyDeny}, p: alice(), ctx: kvs{"dynamodb:Attributes": {"UserName"}}, action: "dynamodb:PutItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/ForAnyValue with no key is false", identity: []string{allowAll, forAnyDeny}, p: alice(), action: "dynamodb:PutItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: allowed},
	{name: "multi/table: ForAllValues PostDateTime and UserName", identity: []string{doc(`{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/Thread","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["PostDateTime","Message","Tags"]}}}`)},
		p: alice(), ctx: kvs{"dynamodb:Attributes": {"PostDateTime", "UserName"}}, action: "dynamodb:GetItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: implicit},
	{name: "multi/table: ForAnyValue UserName, Message, PostDateTime", identity: []string{allowAll, forAnyDeny}, p: alice(), ctx: kvs{"dynamodb:Attributes": {"UserName", "Message", "PostDateTime"}}, action: "dynamodb:PutItem", res: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", want: denied},
	{name: "multi/keys AND, values OR", identity: []string{condDoc("s3:*", departmentRole)}, p: alice("department", "Legal", "role", "audit"), action: "s3:GetObject", res: "*", want: allowed},
	{name: "multi/one key missing", identity: []string{condDoc("s3:*", departmentRole)}, p: alice("department", "legal"), action: "s3:GetObject", res: "*", want: implicit},
	{name: "multi/other account", identity: []string{condDoc("s3:*", departmentRole)}, p: user(other, "alice", "department", "legal", "role", "audit"), action: "s3:GetObject", res: "*", want: implicit},
	{name: "multi/negated operator values AND", identity: []string{condDoc("s3:*", `{"StringNotEquals":{"aws:PrincipalAccount":["111122223333","444455556666"]}}`)}, p: alice(), action: "s3:GetObject", res: "*", want: implicit},
	{name: "multi/negated operator none listed", identity: []string{condDoc("s3:*", `{"StringNotEquals":{"aws:PrincipalAccount":["123456789012","444455556666"]}}`)}, p: alice(), action: "s3:GetObject", res: "*", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
	{name: "multi/ForAllValues:StringLike Created*", identity: []string{condDoc("ec2:*", `{"ForAllValues:StringLike":{"aws:TagKeys":"Created*"}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"CreatedBy", "CreatedAt"}}, action: "ec2:CreateTags", res: "*", want: allowed},
	{name: "multi/ForAllValues:StringLike with another key", identity: []string{condDoc("ec2:*", `{"ForAllValues:StringLike":{"aws:TagKeys":"Created*"}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"CreatedBy", "Owner"}}, action: "ec2:CreateTags", res: "*", want: implicit},
	{name: "multi/ForAnyValue:StringNotEquals: one value outside", identity: []string{condDoc("ec2:*", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"env", "cost"}}, action: "ec2:CreateTags", res: "*", want: allowed},
	{name: "multi/ForAnyValue:StringNotEquals: all inside", identity: []string{condDoc("ec2:*", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["env","team"]}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"env", "team"}}, action: "ec2:CreateTags", res: "*", want: implicit},
	{name: "multi/ForAllValues:StringNotEquals: none listed", identity: []string{condDoc("ec2:*", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"env", "team"}}, action: "ec2:CreateTags", res: "*", want: allowed},
	{name: "multi/ForAllValues:StringNotEquals: one listed", identity: []string{condDoc("ec2:*", `{"ForAllValues:StringNotEquals":{"aws:TagKeys":["secret"]}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"env", "secret"}}, action: "ec2:CreateTags", res: "*", want: implicit},
	{name: "multi/no set operator: any value matches", identity: []string{condDoc("ec2:*", `{"StringEquals":{"aws:TagKeys":"env"}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"team", "env"}}, action: "ec2:CreateTags", res: "*", want: allowed},
	{name: "multi/no set operator, negated: no value may match", identity: []string{condDoc("ec2:*", `{"StringNotEquals":{"aws:TagKeys":"env"}}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"team", "env"}}, action: "ec2:CreateTags", res: "*", want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html#access_tags_control-requests
	{name: "tags/environment=preprod only", identity: []string{createTags}, p: alice(), ctx: kvs{"aws:RequestTag/environment": {"preprod"}, "aws:TagKeys": {"environment"}}, action: "ec2:CreateTags", res: "arn:aws:ec2:us-east-1:111122223333:instance/i-1", want: allowed},
	{name: "tags/Environment is another key", identity: []string{createTags}, p: alice(), ctx: kvs{"aws:RequestTag/environment": {"preprod"}, "aws:TagKeys": {"environment", "Environment"}}, action: "ec2:CreateTags", res: "arn:aws:ec2:us-east-1:111122223333:instance/i-1", want: implicit},
	{name: "tags/value not allowed", identity: []string{createTags}, p: alice(), ctx: kvs{"aws:RequestTag/environment": {"dev"}, "aws:TagKeys": {"environment"}}, action: "ec2:CreateTags", res: "arn:aws:ec2:us-east-1:111122223333:instance/i-1", want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_ec2-start-stop-match-tags.html
	{name: "tags/matching CostCenter", identity: []string{matchTags}, p: alice("CostCenter", "12345"), ctx: kvs{"aws:ResourceTag/CostCenter": {"12345"}}, action: "ec2:StartInstances", res: "*", want: allowed},
	{name: "tags/other CostCenter", identity: []string{matchTags}, p: alice("CostCenter", "12345"), ctx: kvs{"aws:ResourceTag/CostCenter": {"67890"}}, action: "ec2:StopInstances", res: "*", want: implicit},
	{name: "tags/principal untagged", identity: []string{matchTags}, p: alice(), ctx: kvs{"aws:ResourceTag/CostCenter": {"12345"}}, action: "ec2:StopInstances", res: "*", want: implicit},
	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html
	{name: "region/ec2 outside the Regions denied", identity: []string{allowAll, denyRegions}, p: alice(), ctx: kvs{"aws:RequestedRegion": {"us-east-1"}}, action: "ec2:RunInstances", res: "*", want: denied},
	{name: "region/ec2 in eu-west-1", identity: []string{allowAll, denyRegions}, p: alice(), ctx: kvs{"aws:RequestedRegion": {"eu-west-1"}}, action: "ec2:RunInstances", res: "*", want: allowed},
	{name: "region/IAM is global", identity: []string{allowAll, denyRegions}, p: alice(), ctx: kvs{"aws:RequestedRegion": {"us-east-1"}}, action: "iam:CreateUser", res: "*", want: allowed},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
	{name: "vars/David's folder", identity: []string{usernameFolder}, p: user(acct, "David"), action: "s3:GetObject", res: "arn:aws:s3:::mybucket/David/file", want: allowed},
	{name: "vars/another's folder", identity: []string{usernameFolder}, p: user(acct, "David"), action: "s3:PutObject", res: "arn:aws:s3:::mybucket/Adele/file", want: implicit},
	{name: "vars/prefix condition", identity: []string{usernameFolder}, p: user(acct, "David"), ctx: kvs{"s3:prefix": {"David/reports"}}, action: "s3:ListBucket", res: "arn:aws:s3:::mybucket", want: allowed},
	{name: "vars/2008-10-17 takes variables literally", identity: []string{`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::mybucket/${aws:username}/*"}]}`},
		p: user(acct, "David"), action: "s3:GetObject", res: "arn:aws:s3:::mybucket/David/file", want: implicit},
	{name: "vars/no Version takes variables literally", identity: []string{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::mybucket/${aws:username}/*"}]}`},
		p: user(acct, "David"), action: "s3:GetObject", res: "arn:aws:s3:::mybucket/${aws:username}/file", want: allowed},
	{name: "vars/roles have no aws:username", identity: []string{usernameFolder}, p: session(acct, "David", "s"), action: "s3:GetObject", res: "arn:aws:s3:::mybucket/David/file", want: implicit},
	{name: "vars/own access keys", identity: []string{doc(`{"Action":["iam:*AccessKey*"],"Effect":"Allow","Resource":["arn:aws:iam::111122223333:user/${aws:username}"]}`)},
		p: user(acct, "David"), action: "iam:CreateAccessKey", res: "arn:aws:iam::111122223333:user/David", want: allowed},
	{name: "vars/queue named after the user", identity: []string{doc(`{"Sid":"AllQueueActions","Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-2:*:${aws:username}-queue"}`)},
		p: user(acct, "David"), action: "sqs:SendMessage", res: "arn:aws:sqs:us-east-2:111122223333:David-queue", want: allowed},
	{name: "vars/principal tag in a resource", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::bucket/${aws:PrincipalTag/department}"]}`)},
		p: alice("department", "hr"), action: "s3:GetObject", res: "arn:aws:s3:::bucket/hr", want: allowed},
	{name: "vars/no tag: the resource matches nothing", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::bucket/${aws:PrincipalTag/department}"]}`)},
		p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::bucket/", want: implicit},
	{name: "vars/default value used", identity: []string{teamBucket}, p: alice(), action: "s3:ListBucket", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", want: allowed},
	{name: "vars/tag over the default", identity: []string{teamBucket}, p: alice("team", "yellow"), action: "s3:ListBucket", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", want: allowed},
	{name: "vars/tagged principal not in the default bucket", identity: []string{teamBucket}, p: alice("team", "yellow"), action: "s3:ListBucket", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", want: implicit},
	{name: "vars/${*} is a literal asterisk", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}"}`)}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::b/*", want: allowed},
	{name: "vars/${*} is not a wildcard", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${*}"}`)}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::b/abc", want: implicit},
	{name: "vars/${?} and ${$}", identity: []string{doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/what${?}${$}"}`)}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::b/what?$", want: allowed},
	{name: "vars/a variable's value is literal", identity: []string{usernameFolder}, p: user(acct, "a*"), action: "s3:GetObject", res: "arn:aws:s3:::mybucket/abc/file", want: implicit},
	{name: "vars/in a StringLike condition", identity: []string{snsEndpoint}, p: user("999999999999", "David"), resAcct: "999999999999",
		ctx: kvs{"sns:endpoint": {"https://example.com/David/"}, "sns:Protocol": {"https"}}, action: "sns:Subscribe", res: "arn:aws:sns:us-east-1:999999999999:t", want: allowed},
	{name: "vars/in a StringLike condition, another user", identity: []string{snsEndpoint}, p: user("999999999999", "Mary"),
		ctx: kvs{"sns:endpoint": {"https://example.com/David/"}, "sns:Protocol": {"https"}}, action: "sns:Subscribe", res: "arn:aws:sns:us-east-1:999999999999:t", want: implicit},
	{name: "vars/keys are case-insensitive", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${AWS:UserName}"}`)}, p: alice(), action: "s3:GetObject", res: "arn:aws:s3:::b/alice", want: allowed},
	{name: "vars/aws:userid of a role session", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:userid}/*"}`)}, p: session(acct, "app", "i-0abc"), action: "s3:GetObject", res: "arn:aws:s3:::b/AROA111122223333ROLE:i-0abc/x", want: allowed},
	{name: "vars/a multivalued key is no variable", identity: []string{doc(`{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:TagKeys}"}`)}, p: alice(), ctx: kvs{"aws:TagKeys": {"a", "b"}}, action: "s3:GetObject", res: "arn:aws:s3:::b/a", want: implicit},
	{name: "vars/a service key as a variable", identity: []string{condDoc("s3:*", `{"StringEquals":{"s3:prefix":"${s3:delimiter}"}}`)}, p: alice(), ctx: kvs{"s3:prefix": {"/"}, "s3:delimiter": {"/"}}, action: "s3:ListBucket", res: "*", want: allowed},
	// "Policy variables with no value": team tags.
	{name: "vars/negated operator matches a null variable", identity: []string{allowS3, existingTeamDeny}, p: alice(), ctx: kvs{"s3:ExistingObjectTag/Team": {"red"}}, action: "s3:GetObject", res: "arn:aws:s3:::example-bucket/x", want: denied},
	{name: "vars/matching team tags", identity: []string{allowS3, existingTeamDeny}, p: alice("Team", "red"), ctx: kvs{"s3:ExistingObjectTag/Team": {"red"}}, action: "s3:GetObject", res: "arn:aws:s3:::example-bucket/x", want: allowed},
	{name: "vars/positive operator does not match a null variable", identity: []string{condDoc("s3:*", `{"StringEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}`)}, p: alice(), ctx: kvs{"s3:ExistingObjectTag/Team": {""}}, action: "s3:GetObject", res: "*", want: implicit},

	// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
	{name: "keys/aws:username", identity: []string{condDoc("s3:*", `{"StringEquals":{"aws:username":"alice"}}`)}, p: alice(), action: "s3:GetObject", res: "*", want: allowed},
	{name: "keys/aws:userid of a user", identity: []string{condDoc("s3:*", `{"StringEquals":{"aws:userid":"AIDA111122223333EXAMPLE"}}`)}, p: alice(), action: "s3:GetObject", res: "*", want: allowed},
	{name: "keys/aws:PrincipalType AssumedRole", identity: []string{condDoc("s3:*", `{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`)}, p: session(acct, "r", "s"), action: "s3:GetObject", res: "*", want: allowed},
	{name: "keys/aws:PrincipalArn of a user", identity: []string{condDoc("s3:*", `{"ArnEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:user/alice"}}`)}, p: alice(), action: "s3:GetObject", res: "*", want: allowed},
	{name: "keys/aws:PrincipalArn of a session is the role", identity: []string{condDoc("s3:*", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/app"}}`)}, p: session(acct, "app", "s"), action: "s3:GetObject", res: "*", want: allowed},
	{name: "keys/aws:ResourceAccount", identity: []string{condDoc("s3:*", `{"StringEquals":{"aws:ResourceAccount":"111122223333"}}`)}, p: alice(), action: "s3:GetObject", res: "*", want: allowed},
	{name: "keys/aws:PrincipalIsAWSService", resource: doc(`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET1/AWSLogs/AccountNumber/*","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpc":"vpc-111bbb22"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}},{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET1/AWSLogs/AccountNumber/*"}`),
		p: Principal{Type: Service, ARN: "cloudtrail.amazonaws.com"}, action: "s3:PutObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET1/AWSLogs/AccountNumber/x", want: allowed},
	{name: "keys/aws:PrincipalIsAWSService false outside the VPC", identity: []string{allowS3}, resource: doc(`{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET1/AWSLogs/AccountNumber/*","Condition":{"StringNotEqualsIfExists":{"aws:SourceVpc":"vpc-111bbb22"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}`),
		p: alice(), action: "s3:PutObject", res: "arn:aws:s3:::DOC-EXAMPLE-BUCKET1/AWSLogs/AccountNumber/x", want: denied},
	{name: "keys/a context key overrides a derived one", identity: []string{condDoc("s3:*", `{"StringEquals":{"aws:username":"simulated"}}`)}, p: alice(), ctx: kvs{"aws:username": {"simulated"}}, action: "s3:GetObject", res: "*", want: allowed},
}

// Policies of the cases above, from the pages they cite.
var (
	testObjects       = doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*"}`)
	hrPayroll         = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::HRBucket/Payroll","arn:aws:s3:::HRBucket/Payroll/*"]}}`
	principalArnDeny  = doc(`{"Sid":"UsePrincipalArnInsteadOfNotPrincipalWithDeny","Effect":"Deny","Action":"s3:*","Principal":"*","Resource":["arn:aws:s3:::BUCKETNAME/*","arn:aws:s3:::BUCKETNAME"],"Condition":{"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::444455556666:user/user-name"}}},{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::BUCKETNAME/*"}`)
	bobNotPrincipal   = doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":["arn:aws:s3:::BUCKETNAME","arn:aws:s3:::BUCKETNAME/*"]},{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::BUCKETNAME/*","Condition":{"StringEquals":{"aws:username":"Bob"}}}`)
	auditNotPrincipal = doc(`{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:sts::444455556666:assumed-role/cross-account-read-only-role/cross-account-audit-app","arn:aws:iam::444455556666:role/cross-account-read-only-role","arn:aws:iam::444455556666:root"]},"Action":"s3:*","Resource":["arn:aws:s3:::Bucket_AccountAudit","arn:aws:s3:::Bucket_AccountAudit/*"]},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/cross-account-read-only-role"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::Bucket_AccountAudit/*"}`)
	externalIDTrust   = doc(`{"Effect":"Allow","Principal":{"AWS":"444455556666"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"Unique ID Assigned by Example Corp"}}}`)
	mfaTrust          = doc(`{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}`)
	jobCategory       = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*","Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}}`
	homeDirectory     = doc(`{"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::*"},
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::BUCKET-NAME","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/"]}}},
		{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::BUCKET-NAME/home/${aws:username}","arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]}`)
	principalAccountDeny = doc(`{"Sid":"DenyAccessFromPrincipalNotInSpecificAccount","Action":"s3:*","Effect":"Deny","Resource":["arn:aws:s3:::b/*"],"Condition":{"StringNotEquals":{"aws:PrincipalAccount":["123456789012"]}}}`)
	maxKeys              = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}`
	tokenIssued          = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*","Condition":{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}}}`
	aprilToJune          = doc(`{"Effect":"Allow","Action":"service-prefix:action-name","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}`)
	secureTransport      = doc(`{"Sid":"BooleanExample","Action":"s3:*","Effect":"Deny","Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`)
	sourceIP             = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`
	mixedIP              = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"someservice:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}}`
	denyIP               = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["192.0.2.0/24","203.0.113.0/24"]},"Bool":{"aws:ViaAWSService":"false"}}}}`
	topicSource          = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-2:123456789012:QUEUE-ID","Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-2:123456789012:TOPIC-ID"}}}}`
	instanceTypeIfExists = doc(`{"Sid":"RunInstance","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}`)
	noTemporary          = `{"Version":"2012-10-17","Statement":{"Action":"ec2:*","Effect":"Allow","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`
	forAllAttributes     = doc(`{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/Thread","Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["ID","Message","Tags"]}}}`)
	forAnyDeny           = `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:*:*:table/Thread","Condition":{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["ID","PostDateTime"]}}}}`
	departmentRole       = `{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":["finance","hr","legal"],"aws:PrincipalTag/role":["audit","security"]},"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`
	createTags           = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"aws:RequestTag/environment":["preprod","production"]},"ForAllValues:StringEquals":{"aws:TagKeys":"environment"}}}}`
	matchTags            = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["ec2:startInstances","ec2:stopInstances"],"Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/CostCenter":"${aws:PrincipalTag/CostCenter}"}}}}`
	denyRegions          = doc(`{"Sid":"DenyAllOutsideRequestedRegions","Effect":"Deny","NotAction":["cloudfront:*","iam:*","route53:*","support:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["eu-central-1","eu-west-1","eu-west-2","eu-west-3"]}}}`)
	usernameFolder       = doc(`{"Action":["s3:ListBucket"],"Effect":"Allow","Resource":["arn:aws:s3:::mybucket"],"Condition":{"StringLike":{"s3:prefix":["${aws:username}/*"]}}},{"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":["arn:aws:s3:::mybucket/${aws:username}/*"]}`)
	teamBucket           = doc(`{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}"}`)
	snsEndpoint          = doc(`{"Effect":"Allow","Action":"sns:*","Resource":"*","Condition":{"StringLike":{"sns:endpoint":"https://example.com/${aws:username}/"},"StringEquals":{"sns:Protocol":"https"}}}`)
	existingTeamDeny     = doc(`{"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::example-bucket/*","Condition":{"StringNotEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}}`)
)

func mustParse(t testing.TB, kind Kind, text, name string) *Policy {
	t.Helper()
	p, err := Parse(kind, text)
	if err != nil {
		t.Fatalf("%s: Parse(%s): %v\n%s", name, kind, err, text)
	}
	p.Name = name
	return p
}

func (tc *evalCase) set(t testing.TB) *Set {
	set := &Set{}
	for i, d := range tc.identity {
		set.Identity = append(set.Identity, mustParse(t, RoleInline, d, "identity"+strconv.Itoa(i)))
	}
	if tc.boundary != "" {
		set.Boundary = mustParse(t, Managed, tc.boundary, "boundary")
	}
	for i, d := range tc.session {
		set.Session = append(set.Session, mustParse(t, Session, d, "session"+strconv.Itoa(i)))
	}
	switch {
	case tc.trust != "":
		set.Resource = mustParse(t, Trust, tc.trust, "trust")
	case tc.resource != "":
		set.Resource = mustParse(t, ResourceBased, tc.resource, "resource")
	}
	return set
}

func (tc *evalCase) request(t testing.TB) *Request {
	at := tc.at
	if at == "" {
		at = "2021-06-01T12:00:00Z"
	}
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	req := &Request{Principal: tc.p, Action: tc.action, Resource: tc.res, ResourceAccount: tc.resAcct, Time: now}
	for k, v := range tc.ctx {
		req.Context.Set(k, v...)
	}
	return req
}

func TestEvaluate(t *testing.T) {
	if len(evalCases) < 150 {
		t.Errorf("%d cases, want at least 150", len(evalCases))
	}
	names := map[string]bool{}
	for _, tc := range evalCases {
		if names[tc.name] {
			t.Errorf("case %q twice", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			d := Evaluate(tc.request(t), tc.set(t))
			if d.Outcome != tc.want {
				t.Fatalf("outcome %v (by %v, %v), want %v", d.Outcome, d.By, d.Statements, tc.want)
			}
			if tc.by != "" && d.By.String() != tc.by {
				t.Errorf("decided by %v, want %s", d.By, tc.by)
			}
			if d.Outcome == ImplicitDeny && len(d.Statements) > 0 {
				t.Errorf("implicit deny with statements %v", d.Statements)
			}
			if d.Outcome == ExplicitDeny {
				for _, s := range d.Statements {
					if s.Effect != Deny {
						t.Errorf("deciding statement %v is not a Deny", s)
					}
				}
			}
		})
	}
}
