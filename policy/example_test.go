package policy_test

import (
	"fmt"

	"github.com/cloudbox/cloudbox/policy"
)

// The server's check of one call: alice's group policy allows her to read
// the bucket, whose policy denies deletes to everyone.
func Example() {
	group, err := policy.Parse(policy.GroupInline, `{
		"Version": "2012-10-17",
		"Statement": {"Sid": "ReadWrite", "Effect": "Allow", "Action": ["s3:Get*", "s3:DeleteObject"], "Resource": "arn:aws:s3:::reports/*"}
	}`)
	if err != nil {
		panic(err)
	}
	group.Name = "group/analysts/s3"
	bucket, err := policy.ParseBucket("reports", `{
		"Version": "2012-10-17",
		"Statement": {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::reports/*"}
	}`)
	if err != nil {
		panic(err)
	}
	bucket.Name = "arn:aws:s3:::reports"

	alice := policy.Principal{Type: policy.User, ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserID: "AIDAEXAMPLE"}
	set := &policy.Set{Identity: []*policy.Policy{group}, Resource: bucket}
	for _, action := range []string{"s3:GetObject", "s3:DeleteObject", "s3:PutObject"} {
		req := &policy.Request{Principal: alice, Action: action, Resource: "arn:aws:s3:::reports/q1.csv", ResourceAccount: "111122223333"}
		req.Context.Set("aws:SecureTransport", "true")
		d := policy.Evaluate(req, set)
		if d.Allowed() {
			fmt.Println(action, "allowed by", d.Statements)
			continue
		}
		fmt.Printf("User: %s is not authorized to perform: %s on resource: %s %s %v\n", alice.ARN, action, req.Resource, d.Reason(action), d.Statements)
	}
	// Output:
	// s3:GetObject allowed by [group/analysts/s3 statement ReadWrite]
	// User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::reports/q1.csv with an explicit deny in a resource-based policy [arn:aws:s3:::reports statement NoDeletes]
	// User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::reports/q1.csv because no identity-based policy allows the s3:PutObject action []
}
