package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The commands a user types around the daemon (issue 19): `cloudbox aws`
// with either CLI, `cloudbox env`, `info` without a daemon, and `down`,
// which only a process holding the daemon's data directory may run.
func TestCloudboxCommands(t *testing.T) {
	t.Parallel()
	c := startBinary(t, Opts{})
	home := t.TempDir()
	env := append(cleanEnv(home), "AWS_ENDPOINT_URL="+c.URL)

	for _, cli := range clis() {
		t.Run("aws with "+cli.Name, func(t *testing.T) {
			cli.need(t)
			// The CLI under test is the only aws on PATH. v2 2.9 ignores
			// AWS_ENDPOINT_URL: cloudbox aws passes --endpoint-url.
			bin := t.TempDir()
			if err := os.Symlink(cli.Path, filepath.Join(bin, "aws")); err != nil {
				t.Fatal(err)
			}
			env := append(append([]string(nil), env...), "PATH="+bin+":"+os.Getenv("PATH"))
			r := run(t, home, env, cloudboxBin, "aws", "sts", "get-caller-identity", "--output", "json")
			if r.ExitCode != 0 || !strings.Contains(r.Stdout, `"arn:aws:iam::000000000000:root"`) {
				t.Fatalf("cloudbox aws sts get-caller-identity:\n%s", r)
			}
			cidr := map[string]string{"cli-v1": "10.91.0.0/16", "cli-v2": "10.92.0.0/16"}[cli.Name]
			r = run(t, home, env, cloudboxBin, "aws", "ec2", "create-vpc", "--cidr-block", cidr, "--output", "json")
			var vpc struct{ Vpc struct{ VpcId string } }
			if r.ExitCode != 0 || json.Unmarshal([]byte(r.Stdout), &vpc) != nil || vpc.Vpc.VpcId == "" {
				t.Fatalf("cloudbox aws ec2 create-vpc:\n%s", r)
			}
			// The region filled in is us-east-1: the VPC is there.
			r = run(t, home, env, cloudboxBin, "aws", "ec2", "describe-vpcs", "--region", "us-east-1", "--vpc-ids", vpc.Vpc.VpcId, "--output", "json")
			if r.ExitCode != 0 || !strings.Contains(r.Stdout, cidr) {
				t.Fatalf("the VPC is not in us-east-1:\n%s", r)
			}
			// The CLI's errors and exit code come through.
			r = run(t, home, env, cloudboxBin, "aws", "ec2", "describe-vpcs", "--vpc-ids", "vpc-0000000000000000f")
			if r.ExitCode != 254 && r.ExitCode != 255 || !strings.Contains(r.Stderr, "InvalidVpcID.NotFound") {
				t.Fatalf("a missing VPC: exit %d, want the CLI's 254/255 with InvalidVpcID.NotFound:\n%s", r.ExitCode, r)
			}
		})
	}

	t.Run("env", func(t *testing.T) {
		r := run(t, home, env, cloudboxBin, "env", "--region", "ap-northeast-2")
		for _, want := range []string{"export AWS_ENDPOINT_URL=" + c.URL + "\n", "export AWS_DEFAULT_REGION=ap-northeast-2\n", "export AWS_ACCESS_KEY_ID=test\n"} {
			if !strings.Contains(r.Stdout, want) {
				t.Errorf("cloudbox env lacks %q:\n%s", want, r)
			}
		}
	})

	t.Run("info without a daemon", func(t *testing.T) {
		r := run(t, home, cleanEnv(home), cloudboxBin, "info", "--endpoint", "http://"+freeAddr(t))
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "start one with `cloudbox up`") {
			t.Errorf("cloudbox info with no daemon:\n%s", r)
		}
	})

	t.Run("down needs the daemon's data directory", func(t *testing.T) {
		// A second tool's `cloudbox down`, with its own data directory.
		r := run(t, home, cleanEnv(home), cloudboxBin, "down", "--endpoint", c.URL)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "refusing to act on another daemon's world") {
			t.Fatalf("cloudbox down from another data directory:\n%s", r)
		}
		// Even told the directory, a process without its token is refused.
		var in struct {
			DataDir string `json:"data_dir"`
		}
		r = run(t, home, cleanEnv(home), cloudboxBin, "info", "--endpoint", c.URL, "--json")
		if err := json.Unmarshal([]byte(r.Stdout), &in); err != nil || in.DataDir == "" {
			t.Fatalf("cloudbox info --json has no data_dir:\n%s", r)
		}
		r = run(t, home, append(cleanEnv(home), "CLOUDBOX_ADMIN_TOKEN=guessed"), cloudboxBin, "down", "--endpoint", c.URL, "--data-dir", in.DataDir)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "403") {
			t.Fatalf("cloudbox down with a wrong token:\n%s", r)
		}
		select {
		case <-c.exited:
			t.Fatal("the daemon stopped on a refused down")
		default:
		}
		r = run(t, home, cleanEnv(home), cloudboxBin, "down", "--endpoint", c.URL, "--data-dir", in.DataDir)
		if r.ExitCode != 0 {
			t.Fatalf("cloudbox down with the daemon's data directory:\n%s", r)
		}
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			t.Fatal("the daemon did not stop after down")
		}
	})
}
