package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

func TestCloudFormationErrors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := cfn.NewFromConfig(c.cfg())
	const tmpl = `{"Resources":{"Q":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}`
	if _, err := cl.CreateStack(ctx, &cfn.CreateStackInput{StackName: aws.String("taken"), TemplateBody: aws.String(tmpl)}); err != nil {
		t.Fatal(err)
	}
	c.check(t, "cloudformation", []modeled{
		{"AlreadyExistsException", func(ctx context.Context) error {
			_, err := cl.CreateStack(ctx, &cfn.CreateStackInput{StackName: aws.String("taken"), TemplateBody: aws.String(tmpl)})
			return err
		}, is[types.AlreadyExistsException], `c.create_stack(StackName="taken", TemplateBody='` + tmpl + `')`},
		{"ChangeSetNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeChangeSet(ctx, &cfn.DescribeChangeSetInput{StackName: aws.String("taken"), ChangeSetName: aws.String("none")})
			return err
		}, is[types.ChangeSetNotFoundException], `c.describe_change_set(StackName="taken", ChangeSetName="none")`},
		{"StackSetNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeStackSet(ctx, &cfn.DescribeStackSetInput{StackSetName: aws.String("none")})
			return err
		}, is[types.StackSetNotFoundException], `c.describe_stack_set(StackSetName="none")`},
		{"NameAlreadyExistsException", func(ctx context.Context) error {
			_, err := cl.CreateStackSet(ctx, &cfn.CreateStackSetInput{StackSetName: aws.String("set"), TemplateBody: aws.String(tmpl)})
			if err != nil {
				return err
			}
			_, err = cl.CreateStackSet(ctx, &cfn.CreateStackSetInput{StackSetName: aws.String("set"), TemplateBody: aws.String(tmpl)})
			return err
		}, is[types.NameAlreadyExistsException], `c.create_stack_set(StackSetName="set", TemplateBody='` + tmpl + `')`},
	})
}
