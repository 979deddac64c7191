package ssm_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

func TestTags(t *testing.T) {
	c := newCloud(t)
	c.put(t, "/tagged", "v", func(in *ssmsdk.PutParameterInput) {
		in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("team"), Value: aws.String("web")}}
	})
	list := func() string {
		t.Helper()
		out := must[*ssmsdk.ListTagsForResourceOutput](t)(c.ssm.ListTagsForResource(ctx, &ssmsdk.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged")}))
		s := ""
		for _, tg := range out.TagList {
			s += aws.ToString(tg.Key) + "=" + aws.ToString(tg.Value) + " "
		}
		return s
	}
	if got := list(); got != "env=prod team=web " {
		t.Errorf("tags on create: %q", got)
	}
	must[*ssmsdk.AddTagsToResourceOutput](t)(c.ssm.AddTagsToResource(ctx, &ssmsdk.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}, {Key: aws.String("cost"), Value: aws.String("")}}}))
	if got := list(); got != "env=dev team=web cost= " {
		t.Errorf("after add: %q", got)
	}
	must[*ssmsdk.RemoveTagsFromResourceOutput](t)(c.ssm.RemoveTagsFromResource(ctx, &ssmsdk.RemoveTagsFromResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"),
		TagKeys: []string{"team", "absent"}}))
	if got := list(); got != "env=dev cost= " {
		t.Errorf("after remove: %q", got)
	}
	// Overwriting keeps the tags.
	c.put(t, "/tagged", "v2", overwrite)
	if got := list(); got != "env=dev cost= " {
		t.Errorf("after overwrite: %q", got)
	}
	c.put(t, "/bare", "v")
	out := must[*ssmsdk.ListTagsForResourceOutput](t)(c.ssm.ListTagsForResource(ctx, &ssmsdk.ListTagsForResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/bare")}))
	if out.TagList == nil || len(out.TagList) != 0 {
		t.Errorf("no tags: %v", out.TagList)
	}

	var many []types.Tag
	for i := 0; i < 49; i++ {
		many = append(many, types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")})
	}
	_, err := c.ssm.AddTagsToResource(ctx, &ssmsdk.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"), Tags: many})
	checkErr(t, err, "TooManyTagsError", "A parameter can have at most 50 tags.")

	errs := []struct {
		name      string
		typ       types.ResourceTypeForTagging
		id        string
		code, msg string
	}{
		{"missing parameter", types.ResourceTypeForTaggingParameter, "/none", "InvalidResourceId", ""},
		{"bad name", types.ResourceTypeForTaggingParameter, "bad name", "InvalidResourceId", ""},
		{"other type", types.ResourceTypeForTaggingDocument, "/tagged", "InvalidResourceId", ""},
		{"unknown type", "Bucket", "/tagged", "ValidationException",
			"1 validation error detected: Value 'Bucket' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set: [Document, ManagedInstance, MaintenanceWindow, Parameter, PatchBaseline, OpsItem, OpsMetadata, Automation, Association]"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ssm.ListTagsForResource(ctx, &ssmsdk.ListTagsForResourceInput{ResourceType: tc.typ, ResourceId: aws.String(tc.id)})
			checkErr(t, err, tc.code, tc.msg)
			_, err = c.ssm.AddTagsToResource(ctx, &ssmsdk.AddTagsToResourceInput{ResourceType: tc.typ, ResourceId: aws.String(tc.id), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			checkErr(t, err, tc.code, tc.msg)
			_, err = c.ssm.RemoveTagsFromResource(ctx, &ssmsdk.RemoveTagsFromResourceInput{ResourceType: tc.typ, ResourceId: aws.String(tc.id), TagKeys: []string{"k"}})
			checkErr(t, err, tc.code, tc.msg)
		})
	}
	_, err = c.ssm.AddTagsToResource(ctx, &ssmsdk.AddTagsToResourceInput{ResourceType: types.ResourceTypeForTaggingParameter, ResourceId: aws.String("/tagged"),
		Tags: []types.Tag{{Key: aws.String("ok"), Value: aws.String("no!")}}})
	wantErrMsg(t, err, "ValidationException", `1 validation error detected: Value 'no!' at 'tags.1.member.value' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
}
