//go:build linux

package controllers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/controllers/vpc"
	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/echo"
	"github.com/cloudbox/cloudbox/engines/imds"
	"github.com/cloudbox/cloudbox/engines/sshd"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
	"github.com/cloudbox/cloudbox/store"
	"golang.org/x/crypto/ssh"
)

// Check says whether the data plane can run here: nil, or why not.
func Check() error {
	if err := network.Check(); err != nil {
		return err
	}
	return compute.Check()
}

// settle is how long the world waits after a store change for more
// changes before it syncs: one sync for a burst of API calls.
const settle = 20 * time.Millisecond

// roleCredentialTTL is how long the role credentials IMDS hands out last;
// AWS rotates them hours before they expire, as IMDS here does.
const roleCredentialTTL = 6 * time.Hour

// World is one daemon's running world.
type World struct {
	cfg Config
	net *network.Linux
	vpc *vpc.Reconciler
	run compute.Runner
	// tools are the image's programs the host lacks (imageTools).
	tools map[string][]byte

	// sync coalescing: gen counts syncs started, done the last one
	// finished; a caller waits for a sync that started after its call.
	smu     sync.Mutex
	scond   *sync.Cond
	running bool
	gen     uint64
	done    uint64
	lastErr error

	mu        sync.Mutex
	snap      *desired.World
	routers   map[string]*engines // by VPC id: IMDS and DNS
	ssh       map[string]*engines // by instance id
	internet  *engines            // the echo server
	stopWatch func()
	closed    chan struct{}
	loopDone  chan struct{}

	lbs map[string]*lbNode // by node ENI

	hmu    sync.Mutex
	health map[string]*healthView // by load balancer, group, target, port

	metricsDone chan struct{} // closed when the publisher ends

	// life is held (read) by every operation that changes the kernel, so
	// that Down's sweep waits for those under way.
	life sync.RWMutex

	edgeNext atomic.Uint64 // round robin over a load balancer's nodes
	edgeOnce sync.Once
	edge     *httputil.ReverseProxy
}

// engines are servers running on sockets inside one namespace.
type engines struct {
	cancel  context.CancelFunc
	closers []func() error
	wg      sync.WaitGroup
}

func (e *engines) stop() {
	e.cancel()
	for _, c := range e.closers {
		c()
	}
	e.wg.Wait()
}

// New prepares the world; Start builds it.
func New(cfg Config) (*World, error) {
	n, err := network.NewLinux(cfg.DaemonID)
	if err != nil {
		return nil, err
	}
	r, err := compute.New(compute.Config{DaemonID: cfg.DaemonID, StopGrace: 5 * time.Second, HidePaths: []string{cfg.StateDir}})
	if err != nil {
		return nil, err
	}
	w := &World{cfg: cfg, net: n, vpc: vpc.New(n, cfg.Log), run: r, tools: imageTools(),
		routers: map[string]*engines{}, ssh: map[string]*engines{}, closed: make(chan struct{}), loopDone: make(chan struct{}),
		lbs: map[string]*lbNode{}, health: map[string]*healthView{}}
	w.scond = sync.NewCond(&w.smu)
	return w, nil
}

// Info describes the world for the commands that reach into it.
func (w *World) Info() Info {
	return Info{
		DaemonID:       w.cfg.DaemonID,
		InstancesDir:   w.instancesDir(),
		InternetNetNS:  w.net.Path(vpc.InternetNS),
		InternetResolv: w.internetResolv(),
		Echo:           "http://" + vpc.EchoAddr.String() + "/",
	}
}

func (w *World) instancesDir() string { return filepath.Join(w.cfg.StateDir, "instances") }

func (w *World) rootDir(id string) string { return filepath.Join(w.instancesDir(), id) }

func (w *World) hostKeyPath(id string) string {
	return filepath.Join(w.cfg.StateDir, "hostkeys", id+".pem")
}

// Start builds the world from the store (removing what the store no longer
// knows), restarts the instances that should run, and follows the store
// until Close.
func (w *World) Start(ctx context.Context) error {
	events, stop := w.cfg.Store.Watch()
	w.stopWatch = stop
	if err := w.sync(); err != nil {
		stop()
		return fmt.Errorf("building the world: %w", err)
	}
	if err := w.startInternet(); err != nil {
		stop()
		return err
	}
	if err := w.adoptInstances(ctx); err != nil {
		w.cfg.Log.Warn("world: restoring instances", "error", err)
	}
	go w.follow(events)
	if w.cfg.Metrics != nil {
		w.metricsDone = make(chan struct{})
		go w.publishMetrics()
	}
	return nil
}

// follow syncs after every burst of store changes.
func (w *World) follow(events <-chan store.Event) {
	defer close(w.loopDone)
	var timer <-chan time.Time
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
			if timer == nil {
				timer = time.After(settle)
			}
		case <-timer:
			timer = nil
			if err := w.sync(); err != nil {
				w.cfg.Log.Error("world: sync", "error", err)
			}
		case <-w.closed:
			return
		}
	}
}

// sync makes the kernel's network and the VPC engines match the store. It
// returns once a sync that started after the call has finished, so
// concurrent callers share one.
func (w *World) sync() error {
	if err := w.enter(); err != nil {
		return err
	}
	defer w.leave()
	w.smu.Lock()
	defer w.smu.Unlock()
	want := w.gen + 1
	for w.done < want {
		if w.running {
			w.scond.Wait()
			continue
		}
		w.running = true
		w.gen++
		g := w.gen
		w.smu.Unlock()
		err := w.doSync()
		w.smu.Lock()
		w.running, w.done, w.lastErr = false, g, err
		w.scond.Broadcast()
	}
	return w.lastErr
}

func (w *World) doSync() error {
	snap, err := w.cfg.EC2.Snapshot()
	if err != nil {
		return err
	}
	if w.cfg.ELB != nil {
		err := w.cfg.Store.View(func(tx *store.Tx) error {
			var err error
			snap.LoadBalancers, snap.TargetGroups, err = w.cfg.ELB.Snapshot(tx)
			return err
		})
		if err != nil {
			return err
		}
	}
	w.stopGoneNodes(snap)
	w.mu.Lock()
	w.snap = snap
	// Engines hold sockets in their router's namespace; close them before
	// the namespace goes, or the socket keeps it alive.
	var gone []*engines
	for id, e := range w.routers {
		if snap.FindVPC(id) == nil {
			gone = append(gone, e)
			delete(w.routers, id)
		}
	}
	w.mu.Unlock()
	for _, e := range gone {
		e.stop()
	}
	start := time.Now()
	if err := w.vpc.Apply(snap); err != nil {
		return err
	}
	w.cfg.Log.Debug("world: network applied", "vpcs", len(snap.VPCs), "instances", len(snap.Instances), "took", time.Since(start))
	if err := w.reap(snap); err != nil {
		w.cfg.Log.Warn("world: removing stale instances", "error", err)
	}
	if err := w.syncLoadBalancers(snap); err != nil {
		w.cfg.Log.Warn("world: load balancer nodes", "error", err)
	}
	for _, v := range snap.VPCs {
		w.mu.Lock()
		_, ok := w.routers[v.ID]
		w.mu.Unlock()
		if ok {
			continue
		}
		e, err := w.startRouterEngines(v)
		if err != nil {
			return fmt.Errorf("engines of %s: %w", v.ID, err)
		}
		w.mu.Lock()
		w.routers[v.ID] = e
		w.mu.Unlock()
	}
	return nil
}

// current returns the last snapshot.
func (w *World) current() *desired.World {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.snap == nil {
		return &desired.World{}
	}
	return w.snap
}

// startRouterEngines starts the IMDS and DNS servers of a VPC on its
// router's addresses.
func (w *World) startRouterEngines(v *desired.VPC) (*engines, error) {
	ns := vpc.RouterNS(v.ID)
	ctx, cancel := context.WithCancel(context.Background())
	e := &engines{cancel: cancel}
	fail := func(err error) (*engines, error) {
		e.stop()
		return nil, err
	}
	vpcID := v.ID
	mdLn, err := w.net.ListenTCP(ns, netip.AddrPortFrom(vpc.IMDSAddr, 80))
	if err != nil {
		return fail(err)
	}
	opts := imds.Options{MetadataOptions: func(in *desired.Instance) imds.MetadataOptions {
		return imds.MetadataOptions{HTTPTokens: in.MetadataTokens, HTTPEndpoint: in.MetadataEndpoint}
	}}
	md := &http.Server{Handler: imds.New(imdsSource{w: w, vpc: vpcID}, opts), ReadHeaderTimeout: 10 * time.Second}
	e.closers = append(e.closers, md.Close)
	e.wg.Go(func() { md.Serve(mdLn) })

	dnsAddr := netip.AddrPortFrom(desired.DNSServer(v.CIDRs[0]), 53)
	udp, err := w.net.ListenUDP(ns, dnsAddr)
	if err != nil {
		return fail(err)
	}
	e.closers = append(e.closers, udp.Close)
	tcp, err := w.net.ListenTCP(ns, dnsAddr)
	if err != nil {
		return fail(err)
	}
	e.closers = append(e.closers, tcp.Close)
	res := w.resolver()
	e.wg.Go(func() {
		if err := vpcdns.Serve(ctx, vpcID, res, udp, tcp); err != nil && ctx.Err() == nil {
			w.cfg.Log.Warn("world: vpc dns stopped", "vpc", vpcID, "error", err)
		}
	})
	w.cfg.Log.Info("world: vpc engines up", "vpc", vpcID, "dns", dnsAddr.String(), "imds", vpc.IMDSAddr.String())
	return e, nil
}

// startInternet starts the simulated internet's services on its service
// address: the echo server (port 80) and the resolver of public names
// (port 53) that `cloudbox exec internet` points commands at.
func (w *World) startInternet() error {
	ctx, cancel := context.WithCancel(context.Background())
	e := &engines{cancel: cancel}
	fail := func(what string, err error) error {
		e.stop()
		return fmt.Errorf("the internet's %s: %w", what, err)
	}
	ln, err := w.net.ListenTCP(vpc.InternetNS, netip.AddrPortFrom(vpc.EchoAddr, 80))
	if err != nil {
		return fail("echo server", err)
	}
	srv := &http.Server{Handler: echo.Handler{}, ReadHeaderTimeout: 10 * time.Second}
	e.closers = append(e.closers, srv.Close)
	e.wg.Go(func() { srv.Serve(ln) })

	dnsAddr := netip.AddrPortFrom(vpc.EchoAddr, 53)
	udp, err := w.net.ListenUDP(vpc.InternetNS, dnsAddr)
	if err != nil {
		return fail("resolver", err)
	}
	e.closers = append(e.closers, udp.Close)
	tcp, err := w.net.ListenTCP(vpc.InternetNS, dnsAddr)
	if err != nil {
		return fail("resolver", err)
	}
	e.closers = append(e.closers, tcp.Close)
	e.wg.Go(func() { vpcdns.Serve(ctx, vpcdns.Internet, w.resolver(), udp, tcp) })
	if err := os.MkdirAll(w.cfg.StateDir, 0o755); err != nil {
		return fail("resolver", err)
	}
	if err := os.WriteFile(w.internetResolv(), []byte("nameserver "+vpc.EchoAddr.String()+"\n"), 0o644); err != nil {
		return fail("resolver", err)
	}
	w.mu.Lock()
	w.internet = e
	w.mu.Unlock()
	return nil
}

// internetResolv is the resolv.conf of commands run on the internet.
func (w *World) internetResolv() string { return filepath.Join(w.cfg.StateDir, "internet-resolv.conf") }

// resolver answers the names the world knows.
func (w *World) resolver() vpcdns.Resolver {
	return vpcdns.Chain{vpcdns.WorldResolver{World: w.current}, lbResolver{w}}
}

// imdsSource answers IMDS from the last snapshot, for one VPC (VPCs may
// overlap, so an address means something only within its VPC).
type imdsSource struct {
	w   *World
	vpc string
}

func (s imdsSource) InstanceByIP(ip netip.Addr) (*desired.Instance, *desired.World) {
	snap := s.w.current()
	v := snap.FindVPC(s.vpc)
	if v == nil {
		return nil, nil
	}
	for _, e := range v.ENIs {
		if e.OwnerKind != desired.OwnerInstance {
			continue
		}
		for _, a := range e.PrivateIPs {
			if a == ip {
				if in := snap.FindInstance(e.OwnerID); in != nil {
					return in, snap
				}
			}
		}
	}
	return nil, nil
}

func (s imdsSource) Credentials(in *desired.Instance) (imds.Credentials, error) {
	if s.w.cfg.Identity == nil || in.Role == "" {
		return imds.Credentials{}, errors.New("no role")
	}
	roleARN := arn.ARN{Partition: arn.Partition(in.Region), Service: "sts", Account: in.Account, Resource: "assumed-role/" + in.Role + "/" + in.ID}
	p := api.Principal{Account: in.Account, ARN: roleARN.String(), UserID: "AROA" + strings.ToUpper(strings.TrimPrefix(in.ID, "i-")) + ":" + in.ID}
	c, err := s.w.cfg.Identity.Issue(p, time.Now(), roleCredentialTTL)
	if err != nil {
		return imds.Credentials{}, err
	}
	return imds.Credentials{AccessKeyID: c.Principal.AccessKeyID, SecretAccessKey: c.Secret, Token: c.SessionToken, Expiration: c.Expires}, nil
}

// spec is how compute runs an instance of the snapshot.
func (w *World) spec(snap *desired.World, in *desired.Instance) (compute.Spec, error) {
	if len(in.ENIs) == 0 {
		return compute.Spec{}, fmt.Errorf("instance %s has no network interface", in.ID)
	}
	eni, v := snap.FindENI(in.ENIs[0])
	if eni == nil || len(eni.PrivateIPs) == 0 {
		return compute.Spec{}, fmt.Errorf("instance %s: interface %s not found", in.ID, in.ENIs[0])
	}
	_, domain, _ := strings.Cut(in.PrivateDNSName, ".")
	resolv := "nameserver " + desired.DNSServer(v.CIDRs[0]).String() + "\n"
	if domain != "" {
		resolv = "search " + domain + "\n" + resolv
	}
	return compute.Spec{
		ID:         in.ID,
		Hostname:   in.Hostname(),
		NetNS:      w.net.Path(vpc.OwnerNS(in.ID)),
		VCPUs:      max(in.VCPUs, 1),
		MemoryMiB:  max(in.MemoryMiB, 16),
		RootDir:    w.rootDir(in.ID),
		UserData:   in.UserData,
		PrivateIP:  eni.PrivateIPs[0].String(),
		ResolvConf: resolv,
		Tools:      w.tools,
		Env:        []string{"AWS_DEFAULT_REGION=" + in.Region, "AWS_REGION=" + in.Region},
	}, nil
}

// Boot implements ec2.Machines: the instance's network, then its
// processes, then its SSH server.
func (w *World) Boot(ctx context.Context, account, region, id string) error {
	if err := w.sync(); err != nil {
		return err
	}
	if err := w.enter(); err != nil {
		return err
	}
	defer w.leave()
	snap := w.current()
	in := snap.FindInstance(id)
	if in == nil {
		return fmt.Errorf("instance %s is not in the store", id)
	}
	return w.startInstance(ctx, snap, in)
}

func (w *World) startInstance(ctx context.Context, snap *desired.World, in *desired.Instance) error {
	spec, err := w.spec(snap, in)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(w.instancesDir(), 0o700); err != nil {
		return err
	}
	start := time.Now()
	if err := w.run.Start(ctx, spec); err != nil {
		return err
	}
	w.cfg.Log.Info("world: instance up", "instance", in.ID, "ip", spec.PrivateIP, "took", time.Since(start))
	return w.startSSH(in)
}

func (w *World) startSSH(in *desired.Instance) error {
	w.mu.Lock()
	_, running := w.ssh[in.ID]
	w.mu.Unlock()
	if running {
		return nil
	}
	key, err := w.hostKey(in.ID)
	if err != nil {
		return err
	}
	ns := vpc.OwnerNS(in.ID)
	ln, err := w.net.ListenTCP(ns, netip.MustParseAddrPort("0.0.0.0:22"))
	if err != nil {
		return fmt.Errorf("ssh server of %s: %w", in.ID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &engines{cancel: cancel, closers: []func() error{ln.Close}}
	id, vpcID := in.ID, in.VPC
	cfg := sshd.Config{
		HostKey:       key,
		AuthorizedKey: in.PublicKey,
		Users:         []string{in.LoginUser},
		Exec: func(ctx context.Context, req compute.ExecRequest) (int, error) {
			return w.run.Exec(ctx, id, req)
		},
		Dial: func(ctx context.Context, _ string, addr string) (net.Conn, error) {
			return w.dialFrom(ctx, ns, vpcID, addr)
		},
		Terminal: func() (*os.File, *os.File, error) {
			// In the instance's own devpts, so that /dev/pts/N exists there.
			if pid := w.initPID(id); pid > 0 {
				return sshd.OpenTerminal(fmt.Sprintf("/proc/%d/root/dev/pts", pid))
			}
			return sshd.OpenTerminal("")
		},
		Log: w.cfg.Log.With("instance", id),
	}
	e.wg.Go(func() {
		if err := sshd.Serve(ctx, ln, cfg); err != nil && ctx.Err() == nil {
			w.cfg.Log.Warn("world: ssh server stopped", "instance", id, "error", err)
		}
	})
	w.mu.Lock()
	w.ssh[id] = e
	w.mu.Unlock()
	return nil
}

// initPID returns the host PID of a running instance's init, 0 if none.
func (w *World) initPID(id string) int {
	infos, err := w.run.List()
	if err != nil {
		return 0
	}
	for _, in := range infos {
		if in.ID == id {
			return in.InitPID
		}
	}
	return 0
}

// dialFrom connects from inside namespace ns to addr ("host:port"), the
// host an IP address or a name the VPC's DNS knows: SSH port forwarding
// (ssh -J through a bastion) as the instance itself would connect.
func (w *World) dialFrom(ctx context.Context, ns, vpcID, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		name := strings.ToLower(strings.TrimSuffix(host, ".")) + "."
		ips, ok := w.resolver().LookupA(vpcID, name)
		if !ok || len(ips) == 0 {
			return nil, fmt.Errorf("cannot resolve %s", host)
		}
		ip = ips[0]
	}
	return w.net.DialTCP(ctx, ns, netip.AddrPortFrom(ip, uint16(port)))
}

// hostKey returns the instance's SSH host key, made on first use and kept
// so that known_hosts stays valid across stops and restarts.
func (w *World) hostKey(id string) (ssh.Signer, error) {
	p := w.hostKeyPath(id)
	if b, err := os.ReadFile(p); err == nil {
		return sshd.ParseHostKey(b)
	}
	signer, pemBytes, err := sshd.NewHostKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, err
	}
	return signer, os.WriteFile(p, pemBytes, 0o600)
}

func (w *World) stopSSH(id string) {
	w.mu.Lock()
	e := w.ssh[id]
	delete(w.ssh, id)
	w.mu.Unlock()
	if e != nil {
		e.stop()
	}
}

// errClosed is what operations answer once the world is closed.
var errClosed = errors.New("world: closed (cloudbox is going down)")

// enter starts an operation that changes the kernel; it fails once the
// world is closed, so that nothing is rebuilt after Down.
func (w *World) enter() error {
	w.life.RLock()
	select {
	case <-w.closed:
		w.life.RUnlock()
		return errClosed
	default:
		return nil
	}
}

func (w *World) leave() { w.life.RUnlock() }

// Halt implements ec2.Machines.
func (w *World) Halt(ctx context.Context, account, region, id string, terminate bool) error {
	if err := w.enter(); err != nil {
		return err
	}
	defer w.leave()
	w.stopSSH(id)
	if terminate {
		os.Remove(w.hostKeyPath(id))
		err := w.run.Terminate(ctx, id)
		if errors.Is(err, compute.ErrNotFound) {
			return nil
		}
		return err
	}
	err := w.run.Stop(ctx, id)
	if errors.Is(err, compute.ErrNotFound) {
		return nil
	}
	return err
}

// Reboot implements ec2.Machines.
func (w *World) Reboot(ctx context.Context, account, region, id string) error {
	if err := w.enter(); err != nil {
		return err
	}
	defer w.leave()
	return w.run.Reboot(ctx, id)
}

// ConsoleOutput implements ec2.Machines.
func (w *World) ConsoleOutput(account, region, id string) ([]byte, error) {
	return compute.ConsoleOutput(w.rootDir(id), 0)
}

// adoptInstances brings the processes in line with the store after a
// (re)start: instances that should run are started (a no-op for those
// whose processes survived) and stopped ones are stopped. (The first sync
// has already removed the instances the store no longer knows.)
func (w *World) adoptInstances(ctx context.Context) error {
	snap := w.current()
	infos, err := w.run.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, info := range infos {
		if in := snap.FindInstance(info.ID); in != nil && in.State == "stopped" && info.State == compute.StateRunning {
			errs = append(errs, w.run.Stop(ctx, info.ID))
		}
	}
	for _, in := range snap.Instances {
		if in.State != "running" {
			continue // pending ones boot through EC2's lifecycle
		}
		if err := w.startInstance(ctx, snap, in); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", in.ID, err))
		}
	}
	return errors.Join(errs...)
}

// reap removes the processes and disks of instances the store no longer
// knows (a reset, or an instance gone while the daemon was down).
func (w *World) reap(snap *desired.World) error {
	infos, err := w.run.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, info := range infos {
		if snap.FindInstance(info.ID) == nil {
			w.cfg.Log.Info("world: removing an instance the store does not know", "instance", info.ID)
			w.stopSSH(info.ID)
			errs = append(errs, w.run.Terminate(context.Background(), info.ID))
		}
	}
	return errors.Join(errs...)
}

// Exec runs a command inside an instance.
func (w *World) Exec(ctx context.Context, id string, req compute.ExecRequest) (int, error) {
	return w.run.Exec(ctx, id, req)
}

// Close stops the engines and the store watch; the instances and the
// network stay, so a restarted daemon takes them over.
func (w *World) Close() error {
	select {
	case <-w.closed:
		return nil
	default:
	}
	close(w.closed)
	if w.stopWatch != nil {
		w.stopWatch()
		<-w.loopDone
	}
	if w.metricsDone != nil {
		<-w.metricsDone
	}
	w.mu.Lock()
	all := []*engines{w.internet}
	for _, e := range w.routers {
		all = append(all, e)
	}
	for _, e := range w.ssh {
		all = append(all, e)
	}
	nodes := w.lbs
	w.routers, w.ssh, w.internet, w.lbs = map[string]*engines{}, map[string]*engines{}, nil, map[string]*lbNode{}
	w.mu.Unlock()
	for _, n := range nodes {
		n.stop()
	}
	for _, e := range all {
		if e != nil {
			e.stop()
		}
	}
	return nil
}

// Down removes everything the daemon made in the kernel: processes,
// cgroups, namespaces and links. Disks in StateDir stay (they are the data
// directory's).
func (w *World) Down(ctx context.Context) error {
	w.Close()
	// Wait for the boots and syncs under way (Auto Scaling may be
	// launching); later ones find the world closed and make nothing.
	w.life.Lock()
	defer w.life.Unlock()
	err := w.run.Cleanup(ctx, w.cfg.DaemonID)
	return errors.Join(err, w.vpc.Teardown())
}

// Cleanup removes what daemon id left in the kernel (processes, cgroups,
// namespaces) when that daemon is not running: `cloudbox down` without a
// daemon.
func Cleanup(ctx context.Context, id string) error {
	r, err := compute.New(compute.Config{DaemonID: id})
	if err != nil {
		return err
	}
	return errors.Join(r.Cleanup(ctx, id), network.Cleanup(id))
}
