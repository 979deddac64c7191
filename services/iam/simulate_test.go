package iam_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
)

// Documents of the simulations, in the shapes of AWS's examples.
const (
	allowS3   = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
	denyPut   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"}]}`
	boundGet  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	afterDate = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2018-08-16T12:00:00Z"}}}}`
	bucketPol = `{"Version":"2012-10-17","Statement":[{"Sid":"Alice","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"NoDelete","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"}]}`
)

// match is a matched statement as the tests compare them.
type match struct {
	ID, Type   string
	Start, End [2]int32
}

func matches(ss []types.Statement) []match {
	out := []match{}
	for _, s := range ss {
		m := match{ID: aws.ToString(s.SourcePolicyId), Type: string(s.SourcePolicyType)}
		if s.StartPosition != nil && s.EndPosition != nil {
			m.Start = [2]int32{s.StartPosition.Line, s.StartPosition.Column}
			m.End = [2]int32{s.EndPosition.Line, s.EndPosition.Column}
		}
		out = append(out, m)
	}
	return out
}

func TestSimulateCustomPolicy(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthOff)
	tests := []struct {
		name     string
		in       iamsdk.SimulateCustomPolicyInput
		decision types.PolicyEvaluationDecisionType
		matched  []match
		missing  []string
		boundary *bool
	}{{
		name:     "allowed",
		in:       iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, ActionNames: []string{"s3:GetObject"}},
		decision: types.PolicyEvaluationDecisionTypeAllowed,
		matched:  []match{{"PolicyInputList.1", "IAM Policy", [2]int32{1, 38}, [2]int32{1, 86}}},
	}, {
		name:     "implicit deny",
		in:       iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, ActionNames: []string{"ec2:RunInstances"}},
		decision: types.PolicyEvaluationDecisionTypeImplicitDeny,
		matched:  []match{},
	}, {
		name:     "explicit deny wins",
		in:       iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3, denyPut}, ActionNames: []string{"s3:PutObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"}},
		decision: types.PolicyEvaluationDecisionTypeExplicitDeny,
		matched:  []match{{"PolicyInputList.2", "IAM Policy", [2]int32{1, 38}, [2]int32{1, 109}}},
	}, {
		name:     "boundary limits",
		in:       iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, PermissionsBoundaryPolicyInputList: []string{boundGet}, ActionNames: []string{"s3:PutObject"}},
		decision: types.PolicyEvaluationDecisionTypeImplicitDeny,
		matched:  []match{},
		boundary: aws.Bool(false),
	}, {
		name:     "boundary allows",
		in:       iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, PermissionsBoundaryPolicyInputList: []string{boundGet}, ActionNames: []string{"s3:GetObject"}},
		decision: types.PolicyEvaluationDecisionTypeAllowed,
		matched: []match{
			{"PolicyInputList.1", "IAM Policy", [2]int32{1, 38}, [2]int32{1, 86}},
			{"PermissionsBoundaryPolicyInputList.1", "IAM Policy", [2]int32{1, 38}, [2]int32{1, 95}},
		},
		boundary: aws.Bool(true),
	}, {
		name: "resource policy allows the caller",
		in: iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}`},
			ResourcePolicy: aws.String(bucketPol), CallerArn: aws.String("arn:aws:iam::000000000000:user/alice"),
			ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"}},
		decision: types.PolicyEvaluationDecisionTypeAllowed,
		matched:  []match{{"ResourcePolicy", "Resource Policy", [2]int32{1, 38}, [2]int32{1, 183}}},
	}, {
		name: "resource policy denies",
		in: iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3},
			ResourcePolicy: aws.String(bucketPol), CallerArn: aws.String("arn:aws:iam::000000000000:user/alice"),
			ActionNames: []string{"s3:DeleteObject"}, ResourceArns: []string{"arn:aws:s3:::b/k"}},
		decision: types.PolicyEvaluationDecisionTypeExplicitDeny,
		matched:  []match{{"ResourcePolicy", "Resource Policy", [2]int32{1, 183}, [2]int32{1, 291}}},
	}, {
		name: "context entry satisfies the condition",
		in: iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{afterDate}, ActionNames: []string{"dynamodb:CreateBackup"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:CurrentTime"), ContextKeyValues: []string{"2019-04-25T11:00:00Z"}, ContextKeyType: types.ContextKeyTypeEnumDate}}},
		decision: types.PolicyEvaluationDecisionTypeAllowed,
		matched:  []match{{"PolicyInputList.1", "IAM Policy", [2]int32{1, 38}, [2]int32{1, 167}}},
	}, {
		name: "context entry fails the condition",
		in: iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{afterDate}, ActionNames: []string{"dynamodb:CreateBackup"},
			ContextEntries: []types.ContextEntry{{ContextKeyName: aws.String("aws:currenttime"), ContextKeyValues: []string{"2014-04-25T11:00:00Z"}, ContextKeyType: types.ContextKeyTypeEnumDate}}},
		decision: types.PolicyEvaluationDecisionTypeImplicitDeny,
		matched:  []match{},
	}, {
		// The clock is not a context value: without it the condition fails.
		name:     "missing context value",
		in:       iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{afterDate}, ActionNames: []string{"dynamodb:CreateBackup"}},
		decision: types.PolicyEvaluationDecisionTypeImplicitDeny,
		matched:  []match{},
		missing:  []string{"aws:CurrentTime"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := must[*iamsdk.SimulateCustomPolicyOutput](t)(c.iam.SimulateCustomPolicy(ctx, &tt.in))
			if len(out.EvaluationResults) != 1 || out.IsTruncated {
				t.Fatalf("results %+v", out)
			}
			r := out.EvaluationResults[0]
			if r.EvalDecision != tt.decision || aws.ToString(r.EvalActionName) != tt.in.ActionNames[0] {
				t.Errorf("decision %s on %s, want %s", r.EvalDecision, aws.ToString(r.EvalActionName), tt.decision)
			}
			if got := matches(r.MatchedStatements); !reflect.DeepEqual(got, tt.matched) {
				t.Errorf("matched %+v, want %+v", got, tt.matched)
			}
			missing, matched := r.MissingContextValues, r.MatchedStatements
			if len(tt.in.ResourceArns) > 0 {
				if aws.ToString(r.EvalResourceName) != tt.in.ResourceArns[0] || len(r.ResourceSpecificResults) != 1 {
					t.Fatalf("resource results %+v", r)
				}
				rs := r.ResourceSpecificResults[0]
				if aws.ToString(rs.EvalResourceName) != tt.in.ResourceArns[0] || rs.EvalResourceDecision != tt.decision {
					t.Errorf("resource-specific %+v", rs)
				}
				missing, matched = rs.MissingContextValues, rs.MatchedStatements
			} else if aws.ToString(r.EvalResourceName) != "*" || r.ResourceSpecificResults != nil {
				t.Errorf("resource %q, specific %+v", aws.ToString(r.EvalResourceName), r.ResourceSpecificResults)
			}
			if !reflect.DeepEqual(matches(matched), tt.matched) {
				t.Errorf("resource-specific matched %+v", matches(matched))
			}
			if len(missing) != len(tt.missing) || len(missing) > 0 && !reflect.DeepEqual(missing, tt.missing) {
				t.Errorf("missing %q, want %q", missing, tt.missing)
			}
			var boundary *bool
			if d := r.PermissionsBoundaryDecisionDetail; d != nil {
				boundary = aws.Bool(d.AllowedByPermissionsBoundary)
			}
			if !reflect.DeepEqual(boundary, tt.boundary) {
				t.Errorf("boundary detail %v, want %v", aws.ToBool(boundary), aws.ToBool(tt.boundary))
			}
		})
	}
}

func TestSimulatePaging(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthOff)
	in := &iamsdk.SimulateCustomPolicyInput{
		PolicyInputList: []string{allowS3},
		ActionNames:     []string{"s3:GetObject", "s3:PutObject", "ec2:RunInstances"},
		ResourceArns:    []string{"arn:aws:s3:::b/1", "arn:aws:s3:::b/2"},
		MaxItems:        aws.Int32(4),
	}
	first := must[*iamsdk.SimulateCustomPolicyOutput](t)(c.iam.SimulateCustomPolicy(ctx, in))
	if len(first.EvaluationResults) != 4 || !first.IsTruncated || first.Marker == nil {
		t.Fatalf("first page: %d results, truncated %v", len(first.EvaluationResults), first.IsTruncated)
	}
	in.Marker = first.Marker
	rest := must[*iamsdk.SimulateCustomPolicyOutput](t)(c.iam.SimulateCustomPolicy(ctx, in))
	var got []string
	for _, r := range append(first.EvaluationResults, rest.EvaluationResults...) {
		got = append(got, aws.ToString(r.EvalActionName)+" "+aws.ToString(r.EvalResourceName)+" "+string(r.EvalDecision))
	}
	want := []string{
		"s3:GetObject arn:aws:s3:::b/1 allowed", "s3:GetObject arn:aws:s3:::b/2 allowed",
		"s3:PutObject arn:aws:s3:::b/1 allowed", "s3:PutObject arn:aws:s3:::b/2 allowed",
		"ec2:RunInstances arn:aws:s3:::b/1 implicitDeny", "ec2:RunInstances arn:aws:s3:::b/2 implicitDeny",
	}
	if rest.IsTruncated || !reflect.DeepEqual(got, want) {
		t.Errorf("pages %q (truncated %v), want %q", got, rest.IsTruncated, want)
	}
}

func TestSimulateErrors(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthOff)
	_, err := c.iam.SimulatePrincipalPolicy(ctx, &iamsdk.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/nobody"), ActionNames: []string{"s3:GetObject"}})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = c.iam.SimulatePrincipalPolicy(ctx, &iamsdk.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:sts::000000000000:assumed-role/r/s"), ActionNames: []string{"s3:GetObject"}})
	wantErr(t, err, "InvalidInput", 400, "Invalid Entity Arn: arn:aws:sts::000000000000:assumed-role/r/s does not clearly define entity type and name.")
	_, err = c.iam.SimulateCustomPolicy(ctx, &iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{`{"Statement":`}, ActionNames: []string{"s3:GetObject"}})
	wantErr(t, err, "InvalidInput", 400, "PolicyInputList.1: Syntax errors in policy")
	_, err = c.iam.SimulateCustomPolicy(ctx, &iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, ActionNames: []string{"s3:GetObject"},
		CallerArn: aws.String("arn:aws:sts::000000000000:assumed-role/r/s")})
	wantErr(t, err, "InvalidInput", 400, "Invalid CallerArn: arn:aws:sts::000000000000:assumed-role/r/s. The caller must be an IAM user.")
	_, err = c.iam.SimulateCustomPolicy(ctx, &iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, ActionNames: []string{"s3:Get*"}})
	wantErr(t, err, "InvalidInput", 400, "Invalid action name: s3:Get*. SimulateCustomPolicy does not support wildcards in action names.")
	_, err = c.iam.SimulateCustomPolicy(ctx, &iamsdk.SimulateCustomPolicyInput{PolicyInputList: []string{allowS3}, ActionNames: []string{"s3:GetObject"}, ResourcePolicy: aws.String(bucketPol)})
	wantErr(t, err, "InvalidInput", 400, "CallerArn is required to simulate a ResourcePolicy: its Principal element needs a caller to match.")
}

// TestCLISimulate drives the simulator with the aws CLI: a custom policy
// from a file, and a user whose permissions come from its group.
func TestCLISimulate(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthOff)
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	readOnly := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Sid\": \"Read\",\n      \"Effect\": \"Allow\",\n      \"Action\": \"s3:GetObject\",\n      \"Resource\": \"arn:aws:s3:::b/*\"\n    },\n    {\n      \"Sid\": \"NoSecrets\",\n      \"Effect\": \"Deny\",\n      \"Action\": \"s3:*\",\n      \"Resource\": \"arn:aws:s3:::b/secret/*\"\n    }\n  ]\n}"
	// --policy-input-list is a list of documents: a JSON list in the file.
	inputs := file("inputs.json", mustJSON([]string{readOnly}))

	type result struct {
		EvalActionName, EvalResourceName, EvalDecision string
		MatchedStatements                              []struct {
			SourcePolicyId, SourcePolicyType string
			StartPosition, EndPosition       struct{ Line, Column int }
		}
		MissingContextValues    []string
		ResourceSpecificResults []struct{ EvalResourceName, EvalResourceDecision string }
	}
	var out struct{ EvaluationResults []result }
	c.cli(t, "test", "test", &out, "iam", "simulate-custom-policy", "--policy-input-list", inputs,
		"--action-names", "s3:GetObject", "--resource-arns", "arn:aws:s3:::b/k", "arn:aws:s3:::b/secret/k")
	if len(out.EvaluationResults) != 2 {
		t.Fatalf("results %+v", out)
	}
	get, secret := out.EvaluationResults[0], out.EvaluationResults[1]
	if get.EvalActionName != "s3:GetObject" || get.EvalResourceName != "arn:aws:s3:::b/k" || get.EvalDecision != "allowed" ||
		len(get.MatchedStatements) != 1 || len(get.ResourceSpecificResults) != 1 || get.ResourceSpecificResults[0].EvalResourceDecision != "allowed" {
		t.Fatalf("b/k: %+v", get)
	}
	if m := get.MatchedStatements[0]; m.SourcePolicyId != "PolicyInputList.1" || m.SourcePolicyType != "IAM Policy" ||
		m.StartPosition.Line != 3 || m.StartPosition.Column != 17 || m.EndPosition.Line != 9 || m.EndPosition.Column != 6 {
		t.Errorf("b/k matched %+v", m)
	}
	if secret.EvalDecision != "explicitDeny" || len(secret.MatchedStatements) != 1 {
		t.Fatalf("b/secret/k: %+v", secret)
	}
	if m := secret.MatchedStatements[0]; m.StartPosition.Line != 9 || m.StartPosition.Column != 6 || m.EndPosition.Line != 15 || m.EndPosition.Column != 6 {
		t.Errorf("b/secret/k matched %+v", m)
	}

	// A user with nothing of its own, in a group with an inline policy and
	// AWS's AmazonS3ReadOnlyAccess.
	c.cli(t, "test", "test", nil, "iam", "create-user", "--user-name", "alice")
	c.cli(t, "test", "test", nil, "iam", "create-group", "--group-name", "readers")
	c.cli(t, "test", "test", nil, "iam", "add-user-to-group", "--user-name", "alice", "--group-name", "readers")
	c.cli(t, "test", "test", nil, "iam", "put-group-policy", "--group-name", "readers", "--policy-name", "Read", "--policy-document", file("read.json", readOnly))
	c.cli(t, "test", "test", nil, "iam", "attach-group-policy", "--group-name", "readers", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
	out.EvaluationResults = nil
	c.cli(t, "test", "test", &out, "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::"+account+":user/alice",
		"--action-names", "s3:GetObject", "s3:PutObject", "s3:ListBucket")
	var got []string
	for _, r := range out.EvaluationResults {
		s := r.EvalActionName + " " + r.EvalResourceName + " " + r.EvalDecision
		for _, m := range r.MatchedStatements {
			s += " " + m.SourcePolicyId
		}
		got = append(got, s)
	}
	// "*" is no object of b: only the managed policy's "*" resources match.
	want := []string{
		"s3:GetObject * allowed AmazonS3ReadOnlyAccess",
		"s3:PutObject * implicitDeny",
		"s3:ListBucket * allowed AmazonS3ReadOnlyAccess",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("simulate-principal-policy:\n got %q\nwant %q", got, want)
	}
	out.EvaluationResults = nil
	c.cli(t, "test", "test", &out, "iam", "simulate-principal-policy", "--policy-source-arn", "arn:aws:iam::"+account+":user/alice",
		"--action-names", "s3:DeleteObject", "--resource-arns", "arn:aws:s3:::b/secret/k")
	if r := out.EvaluationResults; len(r) != 1 || r[0].EvalDecision != "explicitDeny" || len(r[0].MatchedStatements) != 1 ||
		r[0].MatchedStatements[0].SourcePolicyId != "group_readers_Read" || r[0].MatchedStatements[0].StartPosition.Line != 9 {
		t.Errorf("delete a secret: %+v", r)
	}

	var keys struct{ ContextKeyNames []string }
	c.cli(t, "test", "test", &keys, "iam", "get-context-keys-for-custom-policy", "--policy-input-list",
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}`)
	if !reflect.DeepEqual(keys.ContextKeyNames, []string{"aws:username", "aws:CurrentTime"}) {
		t.Errorf("get-context-keys-for-custom-policy: %q", keys.ContextKeyNames)
	}
	c.cli(t, "test", "test", nil, "iam", "put-user-policy", "--user-name", "alice", "--policy-name", "FromHome",
		"--policy-document", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}}`)
	keys.ContextKeyNames = nil
	c.cli(t, "test", "test", &keys, "iam", "get-context-keys-for-principal-policy", "--policy-source-arn", "arn:aws:iam::"+account+":user/alice")
	if !reflect.DeepEqual(keys.ContextKeyNames, []string{"aws:SourceIp"}) {
		t.Errorf("get-context-keys-for-principal-policy: %q", keys.ContextKeyNames)
	}
}
