package main

import (
	"slices"
	"testing"
)

func TestAWSInvocation(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL", "")
	argv, env := awsInvocation([]string{"ec2", "describe-vpcs"}, []string{"PATH=/usr/bin"})
	if want := []string{"--endpoint-url", "http://" + defaultListen, "ec2", "describe-vpcs"}; !slices.Equal(argv, want) {
		t.Errorf("argv %q, want %q", argv, want)
	}
	for _, kv := range []string{"AWS_DEFAULT_REGION=us-east-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "PATH=/usr/bin"} {
		if !slices.Contains(env, kv) {
			t.Errorf("env %q lacks %s", env, kv)
		}
	}

	// What the user set wins.
	argv, env = awsInvocation([]string{"--endpoint-url=http://127.0.0.1:9", "--region", "eu-west-1", "s3", "ls"},
		[]string{"AWS_PROFILE=dev"})
	if argv[0] != "--endpoint-url=http://127.0.0.1:9" || len(argv) != 5 {
		t.Errorf("argv %q: the user's endpoint is kept, no second one", argv)
	}
	if !slices.Equal(env, []string{"AWS_PROFILE=dev"}) {
		t.Errorf("env %q: a profile brings its own region and keys", env)
	}
}

func TestSSHArgv(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{[]string{"uname -n; whoami"}, "uname -n; whoami"},
		{[]string{"--", "systemctl", "status", "httpd"}, "systemctl status httpd"},
		{[]string{"echo", "a b"}, "echo a b"}, // as ssh: the words joined
	} {
		got := sshArgv(tc.in)
		if len(got) != 3 || got[0] != "/bin/sh" || got[1] != "-c" || got[2] != tc.want {
			t.Errorf("sshArgv(%q) = %q, want sh -c %q", tc.in, got, tc.want)
		}
	}
	if got := sshArgv([]string{"--"}); len(got) != 2 || got[1] != "-l" {
		t.Errorf("no command: %q, want a login shell", got)
	}
}
