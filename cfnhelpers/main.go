// Package cfnhelpers is cloudbox's own cfn-signal, cfn-init,
// cfn-get-metadata and cfn-hup, the CloudFormation helper scripts that
// Amazon Linux keeps in /opt/aws/bin and that templates' user data call.
//
// They are the cloudbox binary itself, chosen by the name it runs under
// (Main): every instance's init is that binary already, and it
// bind-mounts its own executable read-only at /opt/aws/bin (see
// dataplane/compute, Config.Helpers). That is sturdier than a script in
// the images: the helpers need SigV4 signing, IMDSv2 and JSON, which a
// shell script would have to borrow from tools an image may not have;
// baking a copy into the image would tie old images to an old helper and
// cost every image the binary's size; and a bind mount of the running
// binary is always the daemon's own version, on every image, including
// images made from instances, without writing to the instance's disk.
//
// cfn-signal sends SignalResource (signed with the instance role's
// credentials from IMDS) or PUTs to a wait condition handle's URL;
// cfn-init reads the resource's AWS::CloudFormation::Init metadata with
// DescribeStackResource and applies it (plan.go, apply.go), logging to
// /var/log/cfn-init.log; cfn-hup runs hooks when metadata changes
// (hup.go).
package cfnhelpers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Names are the helpers' program names.
var Names = []string{"cfn-signal", "cfn-init", "cfn-get-metadata", "cfn-hup"}

// Is says whether a program name (argv[0]) is one of the helpers.
func Is(argv0 string) bool {
	return contains(Names, filepath.Base(argv0))
}

// Main runs the helper that argv[0] names and returns its exit code.
func Main(argv []string) int {
	ctx := context.Background()
	switch filepath.Base(argv[0]) {
	case "cfn-signal":
		return runSignal(ctx, argv[1:], os.Stderr)
	case "cfn-init":
		return runInit(ctx, argv[1:], os.Stderr)
	case "cfn-get-metadata":
		return runGetMetadata(ctx, argv[1:], os.Stdout, os.Stderr)
	case "cfn-hup":
		return runHup(ctx, argv[1:], os.Stderr)
	}
	fmt.Fprintf(os.Stderr, "%s: not a CloudFormation helper\n", argv[0])
	return 2
}

// Where cfn-init logs, as the real one: its own steps, and the output of
// the commands it runs.
var (
	initLog = "/var/log/cfn-init.log"
	cmdLog  = "/var/log/cfn-init-cmd.log"
)

func runInit(ctx context.Context, args []string, stderr io.Writer) int {
	a, err := parseInit(args)
	if err != nil {
		fmt.Fprintf(stderr, "cfn-init: error: %v\nusage: cfn-init -s STACK -r RESOURCE [-c CONFIGSETS] [--region REGION] [-v]\n", err)
		return 2
	}
	logs := []io.Writer{}
	if f, err := os.OpenFile(initLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		defer f.Close()
		logs = append(logs, f)
	} else {
		fmt.Fprintf(stderr, "cfn-init: cannot write %s: %v\n", initLog, err)
	}
	cmds := io.Discard
	if f, err := os.OpenFile(cmdLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		defer f.Close()
		cmds = f
	}
	logf := func(level, format string, x ...any) {
		line := fmt.Sprintf("%s [%s] %s\n", time.Now().UTC().Format("2006-01-02 15:04:05,000"), level, fmt.Sprintf(format, x...))
		for _, w := range logs {
			io.WriteString(w, line)
		}
		if a.verbose || level == "ERROR" {
			io.WriteString(stderr, line)
		}
	}
	if err := initMain(ctx, a, logf, cmds); err != nil {
		logf("ERROR", "Error occurred during build: %v", err)
		return 1
	}
	return 0
}

func initMain(ctx context.Context, a *initArgs, logf func(string, string, ...any), cmds io.Writer) error {
	logf("INFO", "-----------------------Starting build-----------------------")
	cl, err := newClient(ctx, a.conn, func(f string, x ...any) { logf("WARNING", f, x...) })
	if err != nil {
		return err
	}
	md, err := cl.resourceMetadata(ctx, a.stack, a.resource)
	if err != nil {
		return err
	}
	steps, err := plan(md, a.configSets)
	if err != nil {
		return err
	}
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.name
	}
	logf("INFO", "Configs to run: %s", strings.Join(names, ", "))
	ap := &applier{ctx: ctx, log: logf, cmds: cmds, http: cl.http}
	for _, s := range steps {
		if err := ap.apply(s); err != nil {
			return err
		}
	}
	logf("INFO", "ConfigSets completed")
	logf("INFO", "-----------------------Build complete-----------------------")
	return nil
}

// runGetMetadata prints a resource's metadata, or the part of it a
// dotted --key names, as JSON (a string value as it is).
func runGetMetadata(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, err := parseMetadata(args)
	if err != nil {
		fmt.Fprintf(stderr, "cfn-get-metadata: error: %v\nusage: cfn-get-metadata -s STACK -r RESOURCE [-k KEY] [--region REGION]\n", err)
		return 2
	}
	logf := func(f string, x ...any) { fmt.Fprintf(stderr, "cfn-get-metadata: "+f+"\n", x...) }
	cl, err := newClient(ctx, a.conn, logf)
	if err != nil {
		logf("%v", err)
		return 1
	}
	raw, err := cl.resourceMetadata(ctx, a.stack, a.resource)
	if err != nil {
		logf("%v", err)
		return 1
	}
	out, err := metadataKey(raw, a.key)
	if err != nil {
		logf("%v", err)
		return 1
	}
	fmt.Fprintln(stdout, out)
	return 0
}

// metadataKey picks the dotted key's value out of metadata.
func metadataKey(raw []byte, key string) (string, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	if key != "" {
		for _, part := range strings.Split(key, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return "", fmt.Errorf("Error: %s is not in the metadata", key)
			}
			if v, ok = m[part]; !ok {
				return "", fmt.Errorf("Error: %s is not in the metadata", key)
			}
		}
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.MarshalIndent(v, "", "  ")
	return string(b), err
}
