package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// The region and credentials `cloudbox aws` and `cloudbox env` fill in when
// the user set none: with --auth off (the default) any key is accepted.
const (
	defaultRegion = "us-east-1"
	testKey       = "test"
)

// awsCmd runs the user's aws CLI against the daemon: `cloudbox aws ec2
// describe-vpcs` is `aws --endpoint-url http://127.0.0.1:4566 ec2
// describe-vpcs` with a region and test credentials when none are set.
// --endpoint-url works with every CLI release, where AWS_ENDPOINT_URL
// needs v1.29/v2.13 or later.
func awsCmd(args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") && len(args) == 1 {
		fmt.Print(`usage: cloudbox aws <aws CLI arguments...>

Runs the aws CLI found in PATH against the cloudbox daemon: --endpoint-url is
set (from $AWS_ENDPOINT_URL, else http://` + defaultListen + `) unless given, and
the region (us-east-1) and test credentials are filled in when none are set.
The CLI's own exit code and output are cloudbox aws's.

examples:
  cloudbox aws sts get-caller-identity
  cloudbox aws ec2 describe-vpcs --region ap-northeast-2
  cloudbox aws s3 mb s3://my-bucket
`)
		return nil
	}
	path, err := exec.LookPath("aws")
	if err != nil {
		return fmt.Errorf("no aws CLI in PATH (Debian: apt-get install awscli; or pip install awscli): %w", err)
	}
	argv, env := awsInvocation(args, os.Environ())
	// Exec, not a child: the terminal, signals and exit code are the CLI's.
	return syscall.Exec(path, append([]string{"aws"}, argv...), env)
}

// awsInvocation is the aws CLI's arguments and environment for args.
func awsInvocation(args, environ []string) ([]string, []string) {
	has := func(flagName string) bool {
		for _, a := range args {
			if a == flagName || strings.HasPrefix(a, flagName+"=") {
				return true
			}
		}
		return false
	}
	env := envMap(environ)
	var argv []string
	if !has("--endpoint-url") {
		argv = append(argv, "--endpoint-url", endpointURL(""))
	}
	argv = append(argv, args...)
	out := append([]string(nil), environ...)
	if env["AWS_REGION"] == "" && env["AWS_DEFAULT_REGION"] == "" && env["AWS_PROFILE"] == "" && !has("--region") {
		out = append(out, "AWS_DEFAULT_REGION="+defaultRegion)
	}
	if env["AWS_ACCESS_KEY_ID"] == "" && env["AWS_PROFILE"] == "" && !has("--profile") {
		out = append(out, "AWS_ACCESS_KEY_ID="+testKey, "AWS_SECRET_ACCESS_KEY="+testKey)
	}
	return argv, out
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// envCmd prints the shell exports that point AWS clients at the daemon.
func envCmd(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("env", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	region := fs.String("region", defaultRegion, "region to export")
	fs.Usage = commandUsage(fs, "env [--endpoint URL] [--region R]",
		"Prints the exports that point AWS clients at cloudbox. AWS_ENDPOINT_URL is honoured\n"+
			"by aws CLI v1.29+/v2.13+, boto3 1.28+ and the current SDKs; older clients (Debian's\n"+
			"awscli 2.9 among them) ignore it and go to AWS: use `cloudbox aws ...` or\n"+
			"--endpoint-url with those.",
		`eval "$(cloudbox env)"`,
		`eval "$(cloudbox env --region ap-northeast-2)"`)
	fs.Parse(args)
	fmt.Fprintf(w, `# cloudbox: eval "$(cloudbox env)"
# AWS_ENDPOINT_URL needs aws CLI v1.29+/v2.13+, boto3 1.28+ or a current SDK;
# older clients ignore it and call AWS itself: use cloudbox aws ... with them.
export AWS_ENDPOINT_URL=%s
export AWS_ACCESS_KEY_ID=%s
export AWS_SECRET_ACCESS_KEY=%s
export AWS_DEFAULT_REGION=%s
export AWS_REGION=%s
`, endpointURL(*endpoint), testKey, testKey, *region, *region)
	return nil
}
