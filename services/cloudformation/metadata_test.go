package cloudformation_test

import (
	"encoding/json"
	"testing"
)

// TestMetadataResolved: a resource's Metadata has its intrinsics resolved
// (cfn-init reads it), and what it names is made first.
func TestMetadataResolved(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "md", "--template-body", "file://metadata.yaml")
	if st := c.settle(t, "md"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("md: %v %v", st, c.events(t, "md"))
	}
	out := c.ok(t, "cloudformation", "describe-stack-resource", "--stack-name", "md", "--logical-resource-id", "Web").(map[string]any)
	raw, _ := out["StackResourceDetail"].(map[string]any)["Metadata"].(string)
	var md struct {
		Init struct {
			Config struct {
				Files map[string]struct{ Content string } `json:"files"`
			} `json:"config"`
		} `json:"AWS::CloudFormation::Init"`
		Plain []any
	}
	if err := json.Unmarshal([]byte(raw), &md); err != nil {
		t.Fatalf("metadata %q: %v", raw, err)
	}
	if got := md.Init.Config.Files["/etc/app.conf"].Content; got != "stack=md other=other-param" || len(md.Plain) != 2 {
		t.Errorf("metadata %s", raw)
	}
}
