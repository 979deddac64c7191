// Command cloudbox is a local AWS cloud in one binary.
//
//	cloudbox up        serve the AWS APIs on 127.0.0.1:4566
//	cloudbox exec      run a command in an instance or on the simulated internet
//	cloudbox ssh       open a shell in an instance
//	cloudbox info      print what a test needs to know about the daemon
//	cloudbox status    tell whether the daemon runs
//	cloudbox stop      stop the daemon and the world's processes, keeping the state
//	cloudbox down      remove the world and its state, and stop the daemon
//	cloudbox reset     wipe all state (through a running daemon, or on disk)
//	cloudbox aws       run the aws CLI against the daemon
//	cloudbox env       print the exports that point AWS clients at it
//	cloudbox reach     tell whether A reaches B, and which rule decides
//	cloudbox services  list the services and operations implemented
//	cloudbox version   print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cloudbox/cloudbox/cfnhelpers"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/server"
)

const defaultListen = "127.0.0.1:4566"

func main() {
	// An instance's init is this binary re-executed inside the instance's
	// namespaces; InitMain takes over (and never returns) in that case.
	compute.InitMain()
	// Inside an instance, /sbin/fs.d/{mount,umount}.<type> are this
	// binary (see dataplane/compute's mount helpers), and so are
	// /opt/aws/bin/cfn-* (see package cfnhelpers).
	if compute.IsMountHelper(os.Args[0]) {
		os.Exit(compute.MountHelperMain(os.Args))
	}
	if cfnhelpers.Is(os.Args[0]) {
		os.Exit(cfnhelpers.Main(os.Args))
	}
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "up":
		err = up(args)
	case "exec":
		err = execCmd(args)
	case enterInternetArg:
		err = enterNetNS(args)
	case "ssh":
		err = sshCmd(args)
	case "info":
		err = info(args, os.Stdout)
	case "down":
		err = down(args)
	case "stop":
		err = stop(args)
	case "status":
		err = status(args, os.Stdout)
	case "reset":
		err = reset(args)
	case "services":
		err = services(args, os.Stdout)
	case "images":
		err = imagesCmd(args, os.Stdout)
	case "aws":
		err = awsCmd(args)
	case "env":
		err = envCmd(args, os.Stdout)
	case "reach":
		err = reachCmd(args, os.Stdout)
	case "version":
		fmt.Println("cloudbox", daemon.Version)
	case "help", "-h", "--help":
		usage(os.Stdout)
	default:
		fmt.Fprintf(os.Stderr, "cloudbox: unknown command %q\n", cmd)
		usage(os.Stderr)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cloudbox:", err)
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: cloudbox <command> [flags]

commands:
  up        serve the AWS APIs (default 127.0.0.1:4566); -d in the background
  status    tell whether the daemon runs, its PID and data directory
  stop      stop the daemon and the world's processes, keeping the state
  exec      run a command in an instance or on the simulated internet:
            cloudbox exec <instance-id|internet> -- command...
  ssh       open a shell in an instance, or run a command there:
            cloudbox ssh <instance-id> ['command...']
  info      print the daemon's facts (--json: data_dir, dataplane, edge, ca, dns)
  aws       run the aws CLI against the daemon: cloudbox aws ec2 describe-vpcs
  env       print the exports for AWS clients: eval "$(cloudbox env)"
  reach     why can (or can't) A reach B: cloudbox reach --port 3306 i-... <db endpoint>
  down      remove the world and its state, and stop the daemon (needs its --data-dir)
  reset     wipe all state (needs the daemon's --data-dir)
  services  list services and implemented operations
  images    build the instances' root file systems now (up builds them in the background)
  version   print the version

Run 'cloudbox <command> -h' for a command's flags.
`)
}

func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "cloudbox")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "cloudbox")
	}
	return "cloudbox-data"
}

func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	cfg := daemon.Config{}
	fs.StringVar(&cfg.Listen, "listen", defaultListen, "address to serve the AWS APIs on")
	fs.StringVar(&cfg.DataDir, "data-dir", defaultDataDir(), "directory of the persistent store")
	fs.BoolVar(&cfg.Ephemeral, "ephemeral", false, "keep all state in memory only")
	fs.StringVar(&cfg.Auth, "auth", server.AuthOff, "signature checking: off (any credentials) or strict")
	fs.StringVar(&cfg.IAM, "iam", "off", "IAM policies on API calls: off, enforce (denied calls are refused) or audit (denied calls are logged and proceed)")
	fs.StringVar(&cfg.KeysFile, "keys", "", "JSON file of access keys: [{access_key_id, secret_access_key, account, user}]")
	fs.Float64Var(&cfg.TimeScale, "time-scale", 1, "run every AWS timer (metric periods, alarms, health checks, cooldowns, delays) N times faster than AWS")
	fs.StringVar(&cfg.Dataplane, "dataplane", "on", "on: run VPCs and instances for real (needs Linux and root); off: the control plane alone")
	fs.StringVar(&cfg.ImageDir, "image-dir", "", "directory of the instances' root file systems, built once (default $CLOUDBOX_IMAGE_DIR, else <data-dir>/images)")
	fs.StringVar(&cfg.ImageMirror, "image-mirror", "", "Debian mirror the images are built from (default: mmdebstrap's, deb.debian.org)")
	fs.StringVar(&cfg.DNSListen, "dns-listen", "127.0.0.1:0", "loopback address where the simulated internet's DNS (public hosted zones) answers on the host; port 0 picks one, which cloudbox info shows as dns")
	fs.BoolVar(&cfg.StrictImages, "strict-images", false, "answer InvalidAMIID.NotFound for AMI ids cloudbox does not know, as AWS does (default: launch them as the region's Amazon Linux 2)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	var background bool
	fs.BoolVar(&background, "d", false, "detach: run in the background, logging to <data-dir>/"+logFile+", its PID in <data-dir>/"+pidFile)
	fs.BoolVar(&background, "detach", false, "the same as -d")
	fs.Usage = commandUsage(fs, "up [flags]",
		"Serves the AWS APIs and runs the world (VPCs, instances, load balancers, databases)\n"+
			"in the foreground, logging JSON lines to stderr. Ctrl-C or SIGTERM stops the daemon\n"+
			"only: instances and namespaces keep running, and the next `cloudbox up` on the same\n"+
			"data directory takes them over; `cloudbox down` removes them. For daily use build\n"+
			"the binary once (go build -o cloudbox ./cmd/cloudbox) rather than `go run`, whose\n"+
			"PID is not the daemon's.\n\n"+
			"AWS's timers are slow on purpose (a target is healthy after 5 checks 30 s apart,\n"+
			"2.5 minutes); --time-scale 10 runs every timer ten times faster.",
		"cloudbox up",
		"cloudbox up -d               (then: cloudbox status, cloudbox stop, cloudbox down)",
		"cloudbox up --time-scale 10",
		"cloudbox up --ephemeral --listen 127.0.0.1:4567 --dataplane off",
		"cloudbox up --auth strict --keys keys.json --iam enforce")
	fs.Parse(args)
	if background {
		return detach(withoutDetach(args), cfg.DataDir, cfg.Listen)
	}

	var lv slog.Level
	if err := lv.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	d, err := daemon.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return d.Run(ctx)
}

func reset(args []string) error {
	fs := flag.NewFlagSet("reset", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	dataDir := fs.String("data-dir", defaultDataDir(), "data directory of the daemon: its admin token, or, with no daemon running, the store to wipe")
	fs.Usage = commandUsage(fs, "reset [--endpoint URL] [--data-dir DIR]",
		"Wipes all state: through the running daemon (which must serve --data-dir; its admin\n"+
			"token is read there or from $CLOUDBOX_ADMIN_TOKEN), or, with none running, on disk.",
		"cloudbox reset",
		"cloudbox reset --data-dir /tmp/ci-cloud")
	fs.Parse(args)
	err := adminPost(*endpoint, *dataDir, "/_cloudbox/reset", 2*time.Minute)
	if err == nil {
		fmt.Println("state reset")
		return nil
	}
	if !errors.Is(err, errNoDaemon) {
		return err
	}
	// No daemon: wipe the store on disk.
	if err := resetOnDisk(*dataDir); err != nil {
		return err
	}
	fmt.Println("state reset in", *dataDir)
	return nil
}

// endpointURL picks the daemon's URL: the flag, else AWS_ENDPOINT_URL, else
// the default listen address.
func endpointURL(flagValue string) string {
	u := flagValue
	if u == "" {
		u = os.Getenv("AWS_ENDPOINT_URL")
	}
	if u == "" {
		u = "http://" + defaultListen
	}
	if !strings.Contains(u, "://") {
		u = "http://" + u
	}
	return strings.TrimRight(u, "/")
}

func services(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("services", flag.ExitOnError)
	markdown := fs.Bool("markdown", false, "print the README's table")
	fs.Usage = commandUsage(fs, "services [--markdown]",
		"Lists every service cloudbox serves, its protocol and the operations implemented\n"+
			"(the others answer NotImplemented).",
		"cloudbox services | grep ^rds",
		"cloudbox services --markdown")
	fs.Parse(args)
	d, err := daemon.New(daemon.Config{Ephemeral: true})
	if err != nil {
		return err
	}
	defer d.Close()
	rows := daemon.ImplementedTable(d.Services())
	if *markdown {
		fmt.Fprint(w, markdownTable(rows))
		return nil
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-12s %-9s %3d/%-3d %s\n", r.API.Package, r.API.Protocol, len(r.Implemented), len(r.API.Operations), strings.Join(r.Implemented, " "))
	}
	return nil
}

func markdownTable(rows []daemon.ServiceOps) string {
	var b strings.Builder
	b.WriteString("| service | protocol | implemented | operations |\n|---|---|---|---|\n")
	for _, r := range rows {
		ops := strings.Join(r.Implemented, ", ")
		if ops == "" {
			ops = "none yet: every operation answers 501 NotImplemented"
		}
		fmt.Fprintf(&b, "| %s (`%s`) | %s | %d of %d | %s |\n", r.API.ServiceID, r.API.Package, r.API.Protocol, len(r.Implemented), len(r.API.Operations), ops)
	}
	return b.String()
}
