package ssm_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/api"
)

func TestResolveParameter(t *testing.T) {
	c := newCloud(t)
	c.put(t, "/golden-ami", "ami-11111111", func(in *ssmsdk.PutParameterInput) { in.DataType = aws.String("aws:ec2:image") })
	c.put(t, "/golden-ami", "ami-22222222", overwrite)
	must[*ssmsdk.LabelParameterVersionOutput](t)(c.ssm.LabelParameterVersion(ctx, &ssmsdk.LabelParameterVersionInput{Name: aws.String("/golden-ami"), ParameterVersion: aws.Int64(1), Labels: []string{"stable"}}))
	c.put(t, "plain-ami", "ami-33333333")
	c.put(t, "/secret-ami", "ami-44444444", func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeSecureString })
	c.put(t, "/list-ami", "ami-55555555,ami-66666666", func(in *ssmsdk.PutParameterInput) { in.Type = types.ParameterTypeStringList })

	ok := []struct{ spec, want string }{
		{al2023, ami.Parameters(region)[al2023]},
		{al2023 + ":1", ami.Parameters(region)[al2023]},
		{"/golden-ami", "ami-22222222"},
		{"/golden-ami:1", "ami-11111111"},
		{"/golden-ami:stable", "ami-11111111"},
		{"plain-ami", "ami-33333333"},
		{"arn:aws:ssm:eu-west-3:000000000000:parameter/golden-ami:2", "ami-22222222"},
		{"arn:aws:ssm:eu-west-3::parameter" + al2023, ami.Parameters(region)[al2023]},
	}
	for _, tc := range ok {
		got, err := c.svc.ResolveParameter(ctx, account, region, tc.spec)
		if err != nil || got != tc.want {
			t.Errorf("ResolveParameter(%q) = %q, %v; want %q", tc.spec, got, err, tc.want)
		}
	}
	if got, err := c.svc.ResolveParameter(ctx, account, "us-east-1", al2023); err != nil || got != ami.Parameters("us-east-1")[al2023] {
		t.Errorf("us-east-1: %q, %v", got, err)
	}

	for _, spec := range []string{
		"/missing", "/golden-ami:3", "/golden-ami:beta", "/secret-ami", "/list-ami", "bad name", "/aws/service/none",
		"arn:aws:ssm:eu-west-3:111111111111:parameter/golden-ami", "", "/golden-ami:",
	} {
		_, err := c.svc.ResolveParameter(ctx, account, region, spec)
		var e *api.Error
		if !errors.As(err, &e) || e.Code != "SsmInvalidParameter" || e.Message != "The following aliases are invalid: "+spec || e.Status != 400 {
			t.Errorf("ResolveParameter(%q): %v", spec, err)
		}
	}
	// Another account does not see this one's parameters.
	if _, err := c.svc.ResolveParameter(ctx, "111111111111", region, "/golden-ami"); err == nil {
		t.Error("another account resolved /golden-ami")
	}
}
