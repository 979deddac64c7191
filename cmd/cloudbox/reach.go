package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/dataplane/compute"
)

// enterInternetArg is the hidden command `cloudbox exec internet`
// re-executes the binary with, in a mount namespace of its own.
const enterInternetArg = "__enter-netns"

// getInfo asks the daemon at endpoint what `cloudbox info` prints.
func getInfo(endpoint string) (daemon.Info, error) {
	var in daemon.Info
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(endpointURL(endpoint) + "/_cloudbox/info")
	if errors.Is(err, syscall.ECONNREFUSED) {
		return in, fmt.Errorf("%w at %s: start one with `cloudbox up` (or name another with --endpoint)", errNoDaemon, endpointURL(endpoint))
	}
	if err != nil {
		return in, fmt.Errorf("the cloudbox daemon at %s: %w", endpointURL(endpoint), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return in, fmt.Errorf("info: %s: %s", resp.Status, b)
	}
	return in, json.NewDecoder(resp.Body).Decode(&in)
}

func info(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("info", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	asJSON := fs.Bool("json", false, "print a JSON object")
	fs.Usage = commandUsage(fs, "info [--endpoint URL] [--json]",
		"Prints what a user or a test needs to know about the running daemon: its data\n"+
			"directory, the data plane's state, the edge listener, the CA certificate to trust,\n"+
			"the host DNS server of the public zones, the images' build progress.",
		"cloudbox info",
		"cloudbox info --json | jq -r .ca")
	fs.Parse(args)
	in, err := getInfo(*endpoint)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(in)
	}
	b, _ := json.Marshal(in)
	var m map[string]any
	json.Unmarshal(b, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "images" {
			continue
		}
		fmt.Fprintf(w, "%-14s %v\n", k+":", m[k])
	}
	for _, st := range in.Images {
		line := fmt.Sprintf("%-14s %-9s %s", "image "+string(st.Family)+":", st.State, st.Step)
		if st.Elapsed > 0 {
			line += fmt.Sprintf(" (%s)", st.Elapsed.Round(time.Second))
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	return nil
}

// target is where `cloudbox exec` runs a command.
func worldTarget(endpoint string) (daemon.Info, error) {
	in, err := getInfo(endpoint)
	if err != nil {
		return in, err
	}
	if in.Dataplane != "on" {
		return in, fmt.Errorf("the data plane is %s", in.Dataplane)
	}
	return in, nil
}

// execCmd runs `cloudbox exec <instance-id|internet> -- CMD...` and exits
// with the command's exit code.
func execCmd(args []string) error {
	fs := flag.NewFlagSet("exec", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	fs.Usage = commandUsage(fs, "exec [--endpoint URL] <instance-id|internet> [--] command [args...]",
		"Runs a command as root inside a running instance (its namespaces, its file system), or on\n"+
			"the simulated internet, with this terminal's stdin and output; exits with its code.\n"+
			"This is how to reach VPC and public addresses: never from the host.",
		"cloudbox exec i-0123456789abcdef0 -- curl -s http://10.0.1.10/",
		"cloudbox exec internet -- dig +short www.example.com",
		"cloudbox exec internet -- ssh -i key.pem ec2-user@203.0.113.10")
	fs.Parse(args)
	rest := fs.Args()
	if len(rest) < 2 {
		fs.Usage()
		os.Exit(2)
	}
	where, argv := rest[0], rest[1:]
	if argv[0] == "--" {
		argv = argv[1:]
	}
	if len(argv) == 0 {
		fs.Usage()
		os.Exit(2)
	}
	in, err := worldTarget(*endpoint)
	if err != nil {
		return err
	}
	if where == "internet" {
		return execInNetNS(in.InternetNetNS, in.InternetResolv, argv)
	}
	code, err := runInInstance(in, where, compute.ExecRequest{Argv: argv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}

func runInInstance(in daemon.Info, id string, req compute.ExecRequest) (int, error) {
	if !strings.HasPrefix(id, "i-") || strings.ContainsAny(id, "/.") {
		return -1, fmt.Errorf("%q is neither an instance id nor \"internet\"", id)
	}
	dir := filepath.Join(in.InstancesDir, id)
	if _, err := os.Stat(dir); err != nil {
		return -1, fmt.Errorf("instance %s does not run here: %w", id, err)
	}
	code, err := compute.ExecIn(context.Background(), dir, req)
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, fs.ErrNotExist) {
		// The init's socket is not there or not answering.
		return -1, fmt.Errorf("instance %s: %w (is it running? aws ec2 describe-instances shows its state)", id, err)
	}
	if err != nil {
		return -1, fmt.Errorf("instance %s: %w", id, err)
	}
	return code, nil
}

// sshCmd opens a login shell inside an instance, as root, on this
// terminal.
func sshCmd(args []string) error {
	fs := flag.NewFlagSet("ssh", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	fs.Usage = commandUsage(fs, "ssh [--endpoint URL] <instance-id> [--] [command...]",
		"Opens a login shell as root inside a running instance on this terminal, or, as ssh\n"+
			"does, runs a command given as one or more words through the instance's shell.",
		"cloudbox ssh i-0123456789abcdef0",
		"cloudbox ssh i-0123456789abcdef0 'uname -n; whoami'",
		"cloudbox ssh i-0123456789abcdef0 -- systemctl status httpd")
	fs.Parse(args)
	if fs.NArg() < 1 {
		fs.Usage()
		os.Exit(2)
	}
	in, err := worldTarget(*endpoint)
	if err != nil {
		return err
	}
	argv := sshArgv(fs.Args()[1:])
	env := []string{"HOME=/root", "USER=root", "LOGNAME=root"}
	if t := os.Getenv("TERM"); t != "" {
		env = append(env, "TERM="+t)
	}
	code, err := runInInstance(in, fs.Arg(0), compute.ExecRequest{Argv: argv, Env: env, Dir: "/root", Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}

// sshArgv is what `cloudbox ssh` runs for the words after the instance
// id: a login shell for none; otherwise, as ssh does, the words joined by
// spaces and given to the shell, so that 'uname -n; whoami' works.
func sshArgv(words []string) []string {
	if len(words) > 0 && words[0] == "--" {
		words = words[1:]
	}
	shell := "/bin/sh"
	if _, err := os.Stat("/bin/bash"); err == nil {
		shell = "/bin/bash"
	}
	if len(words) == 0 {
		return []string{shell, "-l"}
	}
	return []string{"/bin/sh", "-c", strings.Join(words, " ")}
}
