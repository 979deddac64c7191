// Command bench measures cloudbox against moto_server side by side and writes
// the results to docs/benchmarks.md:
//
//	go run ./bench            # full run, about twenty minutes (S3 alone about ten)
//	go run ./bench -quick     # short smoke run for CI, about two minutes
//	go run ./bench -only sts  # some benches only
//	go run ./bench -only ec2  # a group: ec2-run, ec2-describe, ec2-sg
//
// It builds cloudbox from the current checkout, starts every server itself on
// free 127.0.0.1 ports, and stops them all (by process group) before it exits.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The servers every bench compares, in the order of runner.targets.
const (
	cbMem   = iota // cloudbox --ephemeral
	cbDisk         // cloudbox --data-dir
	motoSrv        // moto_server
)

// runner is the shared state of one run: settings, targets, and every
// process started, so that all of them are stopped however the run ends.
type runner struct {
	starts  int
	dur     time.Duration
	warmup  time.Duration
	clients int
	verbose bool

	ec2Runs      int           // timed RunInstances calls per server (ec2-run)
	ec2Describes int           // timed calls per describe measurement (ec2-describe, ec2-sg)
	ec2Budget    time.Duration // time after which a describe measurement stops early

	tmp      string
	cloudbox string // built binary
	moto     string // moto_server script

	mu    sync.Mutex
	seq   int
	procs []*proc
}

func (r *runner) targets() []target { return r.targetsIn(filepath.Join(r.tmp, "data")) }

// targetsIn is targets with the persistent store in dataDir. The API
// benches compare control planes (moto has no data plane), so cloudbox's
// is off.
func (r *runner) targetsIn(dataDir string) []target {
	return []target{
		cbMem: {"cloudbox (ephemeral)", func(addr string) []string {
			return []string{r.cloudbox, "up", "--listen", addr, "--ephemeral", "--dataplane", "off"}
		}},
		cbDisk: {"cloudbox (persistent)", func(addr string) []string {
			return []string{r.cloudbox, "up", "--listen", addr, "--data-dir", dataDir, "--dataplane", "off"}
		}},
		motoSrv: {"moto", func(addr string) []string {
			host, port, _ := strings.Cut(addr, ":")
			return []string{r.moto, "-H", host, "-p", port}
		}},
	}
}

func (r *runner) track(p *proc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.procs = append(r.procs, p)
}

func (r *runner) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.procs {
		p.stop()
	}
}

func (r *runner) logf(format string, args ...any) {
	if r.verbose {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	r := &runner{}
	flag.IntVar(&r.starts, "n", 10, "timed starts per server")
	flag.DurationVar(&r.dur, "d", 10*time.Second, "duration of each load run")
	flag.DurationVar(&r.warmup, "warmup", time.Second, "warm-up before each load run")
	flag.IntVar(&r.clients, "clients", 8, "concurrent clients of the load run")
	flag.IntVar(&r.ec2Runs, "runs", 5, "timed RunInstances calls of 100 instances per server (ec2-run)")
	flag.IntVar(&r.ec2Describes, "describes", 50, "timed calls per describe measurement (ec2-describe, ec2-sg)")
	flag.DurationVar(&r.ec2Budget, "describe-budget", 15*time.Second, "a describe measurement stops early once it has taken this long (after at least 3 calls)")
	quick := flag.Bool("quick", false, "short run for CI smoke tests: 3 starts, 2 s loads, 2 runs, 10 describes, 3 s budget (explicit flags win)")
	out := flag.String("out", "docs/benchmarks.md", "report path (relative to the repository root)")
	onlyList := flag.String("only", "", "comma-separated benches to run, or a prefix such as ec2 for all ec2-* (default all: "+benchNames()+")")
	motoFlag := flag.String("moto", "moto_server", "moto_server command")
	flag.BoolVar(&r.verbose, "v", true, "log progress to stderr")
	flag.Parse()
	if *quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["n"] {
			r.starts = 3
		}
		if !set["d"] {
			r.dur = 2 * time.Second
		}
		if !set["warmup"] {
			r.warmup = 500 * time.Millisecond
		}
		if !set["runs"] {
			r.ec2Runs = 2
		}
		if !set["describes"] {
			r.ec2Describes = 10
		}
		if !set["describe-budget"] {
			r.ec2Budget = 3 * time.Second
		}
	}
	if r.starts < 1 || r.clients < 1 || r.dur <= 0 || r.ec2Runs < 1 || r.ec2Describes < 1 {
		return fmt.Errorf("-n, -clients, -d, -runs and -describes must be positive")
	}
	todo, err := only(*onlyList)
	if err != nil {
		return err
	}

	// Cancel on ^C so the deferred cleanup below still runs.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if r.tmp, err = os.MkdirTemp("", "cloudbox-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(r.tmp)
	defer r.stopAll() // runs before RemoveAll: a server may still write in tmp

	r.logf("building cloudbox")
	r.cloudbox = filepath.Join(r.tmp, "cloudbox")
	if err := command(root, "go", "build", "-o", r.cloudbox, "./cmd/cloudbox").Run(); err != nil {
		return fmt.Errorf("building cloudbox: %w", err)
	}
	if r.moto, err = resolveShim(*motoFlag); err != nil {
		return err
	}

	rep := report{command: commandLine(), machine: r.machineFacts(root)}
	for _, b := range todo {
		r.logf("%s", b.name)
		s, err := b.run(ctx, r)
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		rep.sections = append(rep.sections, s)
	}

	text := rep.render()
	fmt.Print(text)
	path := *out
	if !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// command is exec.Command in dir with errors shown to the user.
func command(dir, name string, args ...string) *exec.Cmd {
	c := exec.Command(name, args...)
	c.Dir, c.Stdout, c.Stderr = dir, os.Stderr, os.Stderr
	return c
}

// output runs a command for one line of facts; a failure reads as "unknown".
func output(name string, args ...string) string {
	b, err := exec.Command(name, args...).Output()
	if s := strings.TrimSpace(string(b)); err == nil && s != "" {
		return s
	}
	return "unknown"
}

func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(b))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run from inside the cloudbox module (go env GOMOD: %q, %v)", gomod, err)
	}
	return filepath.Dir(gomod), nil
}

// resolveShim finds the real moto_server script behind a pyenv shim: the
// shim runs bash scripts on every exec, which would be charged to moto's start.
func resolveShim(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found: %w", name, err)
	}
	if strings.Contains(path, "/shims/") {
		if real := output("pyenv", "which", filepath.Base(path)); real != "unknown" {
			return real, nil
		}
	}
	return path, nil
}

// interpreter is the #! interpreter of a script, for asking moto its version
// with the very Python that runs it.
func interpreter(script string) string {
	f, err := os.Open(script)
	if err == nil {
		defer f.Close()
		line, _ := bufio.NewReader(f).ReadString('\n')
		if rest, ok := strings.CutPrefix(line, "#!"); ok {
			if fields := strings.Fields(rest); len(fields) > 0 && !strings.HasSuffix(fields[0], "/env") {
				return fields[0]
			}
		}
	}
	return "python3"
}

func (r *runner) machineFacts(root string) machine {
	py := interpreter(r.moto)
	return machine{
		date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		cpu:       cpuModel(),
		nproc:     runtime.NumCPU(),
		memory:    memTotal(),
		kernel:    output("uname", "-sr"),
		goVersion: output("go", "env", "GOVERSION"),
		cloudbox: fmt.Sprintf("%s, built from this checkout (%s)",
			strings.TrimPrefix(output(r.cloudbox, "version"), "cloudbox "),
			output("git", "-C", root, "describe", "--always", "--dirty")),
		moto: fmt.Sprintf("%s (moto_server, %s)",
			output(py, "-c", "import moto; print(moto.__version__)"), output(py, "--version")),
	}
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err == nil {
				return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return "unknown"
}

// commandLine is how this run was invoked, as a reader would type it.
func commandLine() string {
	return strings.TrimSpace("go run ./bench " + strings.Join(os.Args[1:], " "))
}
