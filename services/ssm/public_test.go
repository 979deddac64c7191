package ssm_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloudbox/cloudbox/ami"
)

const al2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

func TestPublicParameters(t *testing.T) {
	c := newCloud(t)
	want := ami.Parameters(region)
	p := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String(al2023)})).Parameter
	if aws.ToString(p.Value) != want[al2023] || !strings.HasPrefix(aws.ToString(p.Value), "ami-") {
		t.Errorf("value %q, want %q", aws.ToString(p.Value), want[al2023])
	}
	if aws.ToString(p.ARN) != "arn:aws:ssm:eu-west-3::parameter"+al2023 || p.Type != types.ParameterTypeString ||
		aws.ToString(p.DataType) != "text" || p.Version != 1 || p.LastModifiedDate == nil || p.LastModifiedDate.Year() != 2024 {
		t.Errorf("public parameter: %+v", p)
	}
	// The same name gives another id in another region, as on AWS.
	other := must[*ssmsdk.GetParameterOutput](t)(c.client("us-east-1", "123456789012").GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String(al2023)})).Parameter
	if aws.ToString(other.Value) != ami.Parameters("us-east-1")[al2023] || aws.ToString(other.Value) == aws.ToString(p.Value) {
		t.Errorf("us-east-1 value %q", aws.ToString(other.Value))
	}
	// By version and by ARN (with its empty account).
	for _, name := range []string{al2023 + ":1", "arn:aws:ssm:eu-west-3::parameter" + al2023} {
		got := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String(name)})).Parameter
		if aws.ToString(got.Value) != want[al2023] {
			t.Errorf("%s: %q", name, aws.ToString(got.Value))
		}
	}
	_, err := c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String(al2023 + ":2")})
	wantErr(t, err, "ParameterVersionNotFound")
	_, err = c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String("/aws/service/ami-amazon-linux-latest/no-such-image")})
	wantErrMsg(t, err, "ParameterNotFound", "")

	ps := must[*ssmsdk.GetParametersOutput](t)(c.ssm.GetParameters(ctx, &ssmsdk.GetParametersInput{
		Names: []string{al2023, "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2", "/aws/service/nothing"}}))
	if len(ps.Parameters) != 2 || aws.ToString(ps.Parameters[1].Value) != want["/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2"] ||
		strings.Join(ps.InvalidParameters, ",") != "/aws/service/nothing" {
		t.Errorf("GetParameters: %+v, invalid %v", ps.Parameters, ps.InvalidParameters)
	}

	// The history of a public parameter is its one version.
	h := must[*ssmsdk.GetParameterHistoryOutput](t)(c.ssm.GetParameterHistory(ctx, &ssmsdk.GetParameterHistoryInput{Name: aws.String(al2023)}))
	if len(h.Parameters) != 1 || aws.ToString(h.Parameters[0].Value) != want[al2023] {
		t.Errorf("history: %+v", h.Parameters)
	}

	// They are read-only, and not the account's: DescribeParameters and
	// tags do not see them.
	_, err = c.ssm.PutParameter(ctx, &ssmsdk.PutParameterInput{Name: aws.String(al2023), Value: aws.String("ami-12345678"), Type: types.ParameterTypeString, Overwrite: aws.Bool(true)})
	wantErrMsg(t, err, "AccessDeniedException", "No access to reserved parameter name: "+strings.TrimPrefix(al2023, "/")+".")
	_, err = c.ssm.DeleteParameter(ctx, &ssmsdk.DeleteParameterInput{Name: aws.String(al2023)})
	wantErr(t, err, "AccessDeniedException")
	_, err = c.ssm.AddTagsToResource(ctx, &ssmsdk.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String(al2023), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantErrMsg(t, err, "InvalidResourceId", "")
	d := must[*ssmsdk.DescribeParametersOutput](t)(c.ssm.DescribeParameters(ctx, &ssmsdk.DescribeParametersInput{}))
	if len(d.Parameters) != 0 {
		t.Errorf("DescribeParameters lists %d parameters", len(d.Parameters))
	}
}

func TestPublicParametersByPath(t *testing.T) {
	c := newCloud(t)
	want := ami.Parameters(region)
	byPath := func(path string, recursive bool) map[string]string {
		t.Helper()
		got := map[string]string{}
		var token *string
		for {
			out := must[*ssmsdk.GetParametersByPathOutput](t)(c.ssm.GetParametersByPath(ctx, &ssmsdk.GetParametersByPathInput{
				Path: aws.String(path), Recursive: aws.Bool(recursive), NextToken: token}))
			if len(out.Parameters) > 10 {
				t.Errorf("a page of %d", len(out.Parameters))
			}
			for _, p := range out.Parameters {
				got[aws.ToString(p.Name)] = aws.ToString(p.Value)
				if strings.HasPrefix(path, "/aws") && !strings.HasPrefix(aws.ToString(p.ARN), "arn:aws:ssm:eu-west-3::parameter/aws/service/") {
					t.Errorf("ARN %s", aws.ToString(p.ARN))
				}
			}
			if token = out.NextToken; token == nil {
				return got
			}
		}
	}
	amazon := byPath("/aws/service/ami-amazon-linux-latest", false)
	n := 0
	for name, id := range want {
		if strings.HasPrefix(name, "/aws/service/ami-amazon-linux-latest/") {
			n++
			if amazon[name] != id {
				t.Errorf("%s = %q, want %q", name, amazon[name], id)
			}
		}
	}
	if n == 0 || len(amazon) != n || amazon[al2023] == "" {
		t.Errorf("/aws/service/ami-amazon-linux-latest: %d parameters, want %d", len(amazon), n)
	}
	if got := byPath("/aws/service/ami-amazon-linux-latest/", true); len(got) != n {
		t.Errorf("recursive with a trailing slash: %d", len(got))
	}
	// Not recursive, /aws/service has sub-paths only; recursive, every
	// public parameter.
	if got := byPath("/aws/service", false); len(got) != 0 {
		t.Errorf("/aws/service not recursive: %v", got)
	}
	if got := byPath("/aws/service", true); len(got) != len(want) {
		t.Errorf("/aws/service recursive: %d parameters, want %d", len(got), len(want))
	}
	ubuntu := byPath("/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3", false)
	if id := ubuntu["/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"]; id == "" || id != want["/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"] {
		t.Errorf("ubuntu 24.04: %v", ubuntu)
	}
	// The account's own parameters are not under /aws, nor public ones
	// under "/".
	c.put(t, "/mine", "v")
	if got := byPath("/", true); len(got) != 1 || got["/mine"] != "v" {
		t.Errorf("/ recursive: %v", got)
	}
}
