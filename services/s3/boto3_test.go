package s3_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBoto3 runs testdata/boto3_s3.py: versioning, paginators,
// conditional requests and s3transfer as boto3 sees them.
func TestBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 cannot import boto3")
	}
	c := newCloud(t)
	cmd := exec.Command("python3", "testdata/boto3_s3.py")
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "AWS_ENDPOINT_URL="+c.httpURL, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || lines[len(lines)-1] != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
