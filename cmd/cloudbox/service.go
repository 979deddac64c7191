package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/cloudbox/cloudbox/controllers"
	"github.com/cloudbox/cloudbox/daemon"
)

// The daemon as a service: `up -d` starts it in the background, `status`
// tells whether it runs, `stop` frees the machine keeping the state, and
// `down` removes the world.

// Files a detached daemon leaves in its data directory.
const (
	logFile = "cloudbox.log"
	pidFile = "cloudbox.pid"
)

// detach starts `cloudbox up` with args (-d removed) as a process of its
// own session, logging to the data directory, and returns once it serves
// or has failed.
func detach(args []string, dataDir, listen string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return err
	}
	logPath := filepath.Join(dataDir, logFile)
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	offset, _ := logf.Seek(0, io.SeekEnd)
	cmd := exec.Command(self, append([]string{"up"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// A session of its own: the terminal's Ctrl-C and hang-up are not the
	// daemon's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	pidPath := filepath.Join(dataDir, pidFile)
	if err := os.WriteFile(pidPath, []byte(fmt.Sprintf("%d\n", pid)), 0o600); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	endpoint := "http://" + listen
	fmt.Printf("cloudbox: starting in the background (pid %d, log %s)\n", pid, logPath)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-exited:
			os.Remove(pidPath)
			return fmt.Errorf("the daemon exited (%v); its log:\n%s", err, logSince(logPath, offset))
		case <-time.After(200 * time.Millisecond):
		}
		if in, err := getInfo(endpoint); err == nil && in.PID == pid {
			fmt.Printf("cloudbox: serving on %s (data directory %s, data plane %s)\n", endpoint, in.DataDir, in.Dataplane)
			fmt.Println("cloudbox: `cloudbox status` shows it, `cloudbox stop` stops it keeping the world, `cloudbox down` removes the world")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the daemon (pid %d) does not answer on %s after 2 minutes; see %s", pid, endpoint, logPath)
		}
	}
}

// logSince is what a log file gained after offset, for a daemon that
// failed to start.
func logSince(path string, offset int64) string {
	b, err := os.ReadFile(path)
	if err != nil || offset > int64(len(b)) {
		return ""
	}
	return strings.TrimSpace(string(b[offset:]))
}

// withoutDetach is up's arguments without -d, for the detached child.
func withoutDetach(args []string) []string {
	var out []string
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "d", "d=true", "detach", "detach=true":
			if strings.HasPrefix(a, "-") {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// stop frees the machine: the daemon ends every instance and node process
// and exits; the state and disks stay for the next `up`.
func stop(args []string) error {
	fs := flag.NewFlagSet("stop", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	dataDir := fs.String("data-dir", defaultDataDir(), "data directory of the daemon (its admin token)")
	fs.Usage = commandUsage(fs, "stop [--endpoint URL] [--data-dir DIR]",
		"Stops the daemon and every instance, load balancer and database process, freeing the\n"+
			"machine, and keeps all state and disks: the next `cloudbox up` boots the instances that\n"+
			"were running again, as after a reboot (enabled services start; user data does not run\n"+
			"again). The daemon must serve --data-dir, where its admin token is.",
		"cloudbox stop",
		"cloudbox up -d && cloudbox stop && cloudbox up -d")
	fs.Parse(args)
	err := endDaemon(*endpoint, *dataDir, "/_cloudbox/stop")
	if errors.Is(err, errNoDaemon) {
		fmt.Println("stop: no daemon running at", endpointURL(*endpoint))
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Println("stop: the daemon and its world's processes are stopped; the state is kept for the next `cloudbox up`")
	return nil
}

// endDaemon asks the daemon to end (stop or down) and waits until it has
// exited.
func endDaemon(endpoint, dataDir, path string) error {
	in, _ := getInfo(endpoint)
	if err := adminPost(endpoint, dataDir, path, 5*time.Minute); err != nil {
		return err
	}
	waitExit(endpoint, in.PID)
	os.Remove(filepath.Join(dataDir, pidFile))
	return nil
}

// waitExit waits, a minute at most, until the daemon no longer answers
// and its process is gone.
func waitExit(endpoint string, pid int) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		_, err := getInfo(endpoint)
		gone := pid <= 0 || syscall.Kill(pid, 0) != nil
		if errors.Is(err, errNoDaemon) && gone {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// status tells whether a daemon runs at the endpoint; its exit code is 3
// when none does, as systemctl status's.
func status(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	fs.Usage = commandUsage(fs, "status [--endpoint URL]",
		"Tells whether a cloudbox daemon runs at the endpoint: its process, data directory, data\n"+
			"plane and images. Exits 0 when one runs, 3 when none does.",
		"cloudbox status")
	fs.Parse(args)
	in, err := getInfo(*endpoint)
	if errors.Is(err, errNoDaemon) {
		fmt.Fprintf(w, "cloudbox: not running at %s (start it with `cloudbox up -d`)\n", endpointURL(*endpoint))
		os.Exit(3)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "cloudbox: running at %s\n", endpointURL(*endpoint))
	fmt.Fprintf(w, "%-14s %d\n", "pid:", in.PID)
	fmt.Fprintf(w, "%-14s %s\n", "version:", in.Version)
	fmt.Fprintf(w, "%-14s %s\n", "data dir:", in.DataDir)
	fmt.Fprintf(w, "%-14s %s\n", "data plane:", in.Dataplane)
	for _, st := range in.Images {
		fmt.Fprintf(w, "%-14s %s\n", "image "+string(st.Family)+":", st.State)
	}
	return nil
}

// down removes the world and its state: through the daemon, which then
// stops, or, with no daemon running, from what the data directory says.
func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	endpoint := endpointFlag(fs)
	dataDir := fs.String("data-dir", defaultDataDir(), "data directory of the daemon: its admin token, or, with no daemon running, the world to remove")
	fs.Usage = commandUsage(fs, "down [--endpoint URL] [--data-dir DIR]",
		"Removes the world: every namespace, instance and engine the daemon made, and its state\n"+
			"(the resources the APIs know), then stops the daemon. `cloudbox stop` keeps the state.\n"+
			"The daemon must serve --data-dir: its admin token is read there (or from\n"+
			"$CLOUDBOX_ADMIN_TOKEN).",
		"cloudbox down",
		"cloudbox down --endpoint http://127.0.0.1:4567 --data-dir /tmp/ci-cloud")
	fs.Parse(args)
	err := endDaemon(*endpoint, *dataDir, "/_cloudbox/down")
	if err == nil {
		fmt.Println("down: the world is removed and the daemon stops")
		return nil
	}
	if !errors.Is(err, errNoDaemon) {
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
	if err := controllers.Cleanup(ctx, id, *dataDir); err != nil {
		return err
	}
	if err := resetOnDisk(*dataDir); err != nil {
		return err
	}
	fmt.Println("down: removed the world of daemon", id, "and its state in", *dataDir)
	return nil
}

// resetOnDisk wipes the store of a data directory no daemon serves.
func resetOnDisk(dataDir string) error {
	d, err := daemon.New(daemon.Config{DataDir: dataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Reset()
}
