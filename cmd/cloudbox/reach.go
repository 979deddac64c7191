package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cloudbox/cloudbox/controllers"
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
	if err != nil {
		return in, fmt.Errorf("no cloudbox daemon at %s: %w", endpointURL(endpoint), err)
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
	endpoint := fs.String("endpoint", "", "daemon endpoint (default $AWS_ENDPOINT_URL, else http://"+defaultListen+")")
	asJSON := fs.Bool("json", false, "print a JSON object")
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
	endpoint := fs.String("endpoint", "", "daemon endpoint (default $AWS_ENDPOINT_URL, else http://"+defaultListen+")")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: cloudbox exec [--endpoint URL] <instance-id|internet> -- command [args...]")
		fs.PrintDefaults()
	}
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
	if err != nil {
		return -1, fmt.Errorf("instance %s: %w (is it running?)", id, err)
	}
	return code, nil
}

// sshCmd opens a login shell inside an instance, as root, on this
// terminal.
func sshCmd(args []string) error {
	fs := flag.NewFlagSet("ssh", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "daemon endpoint (default $AWS_ENDPOINT_URL, else http://"+defaultListen+")")
	fs.Parse(args)
	if fs.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: cloudbox ssh [--endpoint URL] <instance-id> [command...]")
		os.Exit(2)
	}
	in, err := worldTarget(*endpoint)
	if err != nil {
		return err
	}
	argv := fs.Args()[1:]
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-l"}
		if _, err := os.Stat("/bin/bash"); err == nil {
			argv = []string{"/bin/bash", "-l"}
		}
	}
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

// down removes the world: through the daemon, which then stops, or, with
// no daemon running, from what the data directory says.
func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "daemon endpoint (default $AWS_ENDPOINT_URL, else http://"+defaultListen+")")
	dataDir := fs.String("data-dir", defaultDataDir(), "data directory of the daemon, when none is running")
	fs.Parse(args)
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Post(endpointURL(*endpoint)+"/_cloudbox/down", "application/json", nil)
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("down: %s: %s", resp.Status, b)
		}
		fmt.Println("down: the world is removed and the daemon stops")
		return nil
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	b, err := os.ReadFile(filepath.Join(*dataDir, "daemon-id"))
	if err != nil {
		fmt.Println("down: no daemon running and no world recorded in", *dataDir)
		return nil
	}
	id := strings.TrimSpace(string(b))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := controllers.Cleanup(ctx, id); err != nil {
		return err
	}
	fmt.Println("down: removed the world of daemon", id)
	return nil
}
