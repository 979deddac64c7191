package policy_test

import (
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/policy"
)

// AWS's managed policies are parsed without the customer quota on size.
func TestParseAWSManaged(t *testing.T) {
	actions := strings.Repeat(`"s3:GetObjectxxxxxx",`, 400)
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[` + actions + `"s3:ListBucket"],"Resource":"*"}}`
	if _, err := policy.Parse(policy.Managed, doc); err == nil {
		t.Fatal("a managed policy over the quota parses")
	}
	p, err := policy.ParseAWSManaged(doc)
	if err != nil || p.Kind != policy.Managed {
		t.Fatalf("ParseAWSManaged: %v", err)
	}
	if _, err := policy.ParseAWSManaged(`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`); err == nil {
		t.Error("ParseAWSManaged skips the other rules")
	}
}
