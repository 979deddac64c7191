// Package instances is the instances controller: it boots, halts and
// reboots instances as dataplane/compute processes joined to their
// namespaces when the desired world asks (lifecycle.go) and reports the
// outcome and their console output to EC2, runs an SSH server inside each running instance's namespace
// (host key kept in the state directory), and serves each VPC's instance
// metadata (IMDS, with the role credentials the daemon mints) on its
// router's 169.254.169.254. After a restart it adopts the processes that
// survived, starts the running instances that did not, and reaps the
// processes of instances the store no longer knows. Its names (the
// instances' private and public DNS names) join the VPCs' resolver.
package instances

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/controllers/servers"
	"github.com/cloudbox/cloudbox/controllers/vpc"
	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/imds"
	"github.com/cloudbox/cloudbox/engines/sshd"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
	"github.com/cloudbox/cloudbox/identity"
	"golang.org/x/crypto/ssh"
)

// roleCredentialTTL is how long the role credentials IMDS hands out last;
// AWS rotates them hours before they expire, as IMDS here does.
const roleCredentialTTL = 6 * time.Hour

// Namespaces are the daemon's namespaces as the controller uses them
// (dataplane/network.Linux).
type Namespaces interface {
	// Path is the file of namespace ns, which an instance's processes join.
	Path(ns string) string
	ListenTCP(ns string, addr netip.AddrPort) (net.Listener, error)
	DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error)
}

// Issuer mints temporary credentials (identity.Resolver implements it):
// the role credentials IMDS hands to instances.
type Issuer interface {
	Issue(p api.Principal, now time.Time, d time.Duration) (identity.Credential, error)
}

// Images is the store of the root file systems instances boot
// (dataplane/images.Store).
type Images interface {
	// Layers returns an image's lower layers, top first, building what
	// is missing; it waits for the build.
	Layers(ctx context.Context, f ami.Family, baked []string) ([]string, error)
	// Bake makes image id from an instance disk's upper layer.
	Bake(ctx context.Context, id, upper string) error
}

// Config is what the supervisor gives the controller.
type Config struct {
	Namespaces Namespaces
	Runner     compute.Runner
	Images     Images
	// Desired returns the latest snapshot.
	Desired func() *desired.World
	// Names resolves the names an SSH client forwards to (ssh -J).
	Names vpcdns.Resolver
	// Identity is optional: without it IMDS has no role credentials.
	Identity Issuer
	// Profiles are IAM's instance profiles: IMDS serves the role a
	// profile holds now. Without them (no IAM) the role is taken to have
	// the profile's name (desired.Instance.Role).
	Profiles desired.Profiles
	// Reports takes what became of the instances and their consoles.
	Reports desired.InstanceReporter
	// Slots takes what became of the slots, by owner.
	Slots map[string]desired.SlotReporter
	// Baked takes what became of the images the world asked to bake.
	Baked desired.ImageReporter
	// Hold keeps the world up while an instance's work runs; it fails once
	// the daemon is going down.
	Hold func() (release func(), err error)
	// Closing is closed when the daemon begins to go down: long waits
	// (a slot's first boot) end then, since Down waits for held work.
	Closing <-chan struct{}
	// Disks is the directory of the instances' disks (<Disks>/<id>),
	// HostKeys that of their SSH host keys (<HostKeys>/<id>.pem).
	Disks, HostKeys string
	// BootDevices, when set, are the block devices an instance boots
	// with: its attached EBS volumes (controllers/volumes).
	BootDevices func(snap *desired.World, in *desired.Instance) []compute.Device
	// TrustCA, when set, is a CA certificate (PEM) every instance trusts
	// besides its image's roots: cloudbox's, which signs the AWS
	// endpoints' certificates and ACM's.
	TrustCA []byte
	Log     *slog.Logger
}

// Controller is the instances controller.
type Controller struct {
	cfg Config
	// life ends at Close: waits for an image build end with it.
	life    context.Context
	endLife context.CancelFunc

	imds servers.Table // by VPC id
	ssh  servers.Table // by instance id

	mu       sync.Mutex
	busy     map[string]string // instances whose work runs: the state it serves
	reboots  map[string]int    // the count of reboots asked, as last seen
	consoles map[string]int64  // console size as last reported
	slots    map[string]bool   // the slots started (true) or stopped (false)

	stopConsoles context.CancelFunc // ends followConsoles (nil before Start)
	consolesDone chan struct{}
}

// New returns the controller.
func New(cfg Config) *Controller {
	life, end := context.WithCancel(context.Background())
	return &Controller{cfg: cfg, life: life, endLife: end,
		busy: map[string]string{}, reboots: map[string]int{}, consoles: map[string]int64{}, slots: map[string]bool{}}
}

// Name implements controllers.Controller.
func (c *Controller) Name() string { return "instances" }

// Names answers the Amazon-provided instance names.
func (c *Controller) Names() vpcdns.Resolver { return vpcdns.WorldResolver{World: c.cfg.Desired} }

// Prune stops the metadata servers of the VPCs snap no longer has: they
// hold sockets in their router's namespace, which would keep it alive.
func (c *Controller) Prune(snap *desired.World) {
	c.imds.Stop(func(vpc string) bool { return snap.FindVPC(vpc) == nil })
}

// Sync reaps the instances snap no longer has, starts the metadata server
// of each new VPC, and starts the work the instances' states ask for.
func (c *Controller) Sync(ctx context.Context, snap *desired.World) error {
	defer c.drive(snap)
	if err := c.reap(ctx, snap); err != nil {
		c.cfg.Log.Warn("instances: removing stale instances", "error", err)
	}
	for _, v := range snap.VPCs {
		if err := c.imds.Ensure(v.ID, func() (*servers.Set, error) { return c.startIMDS(v.ID) }); err != nil {
			return fmt.Errorf("imds of %s: %w", v.ID, err)
		}
	}
	return nil
}

// startIMDS starts the instance metadata server of a VPC on its router's
// 169.254.169.254:80.
func (c *Controller) startIMDS(vpcID string) (*servers.Set, error) {
	ln, err := c.cfg.Namespaces.ListenTCP(vpc.RouterNS(vpcID), netip.AddrPortFrom(vpc.IMDSAddr, 80))
	if err != nil {
		return nil, err
	}
	opts := imds.Options{MetadataOptions: func(in *desired.Instance) imds.MetadataOptions {
		return imds.MetadataOptions{HTTPTokens: in.MetadataTokens, HTTPEndpoint: in.MetadataEndpoint}
	}}
	md := &http.Server{Handler: imds.New(imdsSource{c: c, vpc: vpcID}, opts), ReadHeaderTimeout: 10 * time.Second}
	s := &servers.Set{Closers: []func() error{md.Close}}
	s.Go(func() { md.Serve(ln) })
	c.cfg.Log.Info("instances: imds up", "vpc", vpcID, "imds", vpc.IMDSAddr.String())
	return s, nil
}

// imdsSource answers IMDS from the latest snapshot, for one VPC (VPCs may
// overlap, so an address means something only within its VPC).
type imdsSource struct {
	c   *Controller
	vpc string
}

func (s imdsSource) InstanceByIP(ip netip.Addr) (*desired.Instance, *desired.World) {
	snap := s.c.cfg.Desired()
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

func (s imdsSource) Profile(in *desired.Instance) (desired.InstanceProfile, bool, error) {
	return profileOf(s.c.cfg.Profiles, in)
}

// profileOf is the instance's profile as IAM has it, or without IAM the
// profile with the role EC2 named after it.
func profileOf(profiles desired.Profiles, in *desired.Instance) (desired.InstanceProfile, bool, error) {
	if in.InstanceProfileARN == "" {
		return desired.InstanceProfile{}, false, nil
	}
	if profiles == nil {
		return desired.InstanceProfile{ARN: in.InstanceProfileARN, Role: in.Role}, in.Role != "", nil
	}
	name := in.InstanceProfileARN[strings.LastIndexByte(in.InstanceProfileARN, '/')+1:]
	p, ok, err := profiles.InstanceProfile(in.Account, name)
	if err != nil || !ok || p.ARN != in.InstanceProfileARN {
		return desired.InstanceProfile{}, false, err // another profile of that name is not this one
	}
	return p, true, nil
}

func (s imdsSource) Credentials(in *desired.Instance, p desired.InstanceProfile) (imds.Credentials, error) {
	if s.c.cfg.Identity == nil {
		return imds.Credentials{}, errors.New("no identity to issue credentials")
	}
	cred, err := s.c.cfg.Identity.Issue(rolePrincipal(in, p), time.Now(), roleCredentialTTL)
	if err != nil {
		return imds.Credentials{}, err
	}
	return imds.Credentials{AccessKeyID: cred.Principal.AccessKeyID, SecretAccessKey: cred.Secret, Token: cred.SessionToken, Expiration: cred.Expires}, nil
}

// rolePrincipal is who the credentials IMDS issues for profile p of
// instance in stand for: the role's session named after the instance,
// with the role's unique id, carrying the instance and the profile so
// that they stop working when either goes (ec2.Service.ValidSession).
func rolePrincipal(in *desired.Instance, p desired.InstanceProfile) api.Principal {
	roleID := p.RoleID
	if roleID == "" { // no IAM: an id as stable as the role's name
		roleID = identity.UniqueID("AROA", in.Account+"/"+p.Role)
	}
	sessionARN := arn.ARN{Partition: arn.Partition(in.Region), Service: "sts", Account: in.Account, Resource: "assumed-role/" + p.Role + "/" + in.ID}
	return api.Principal{Account: in.Account, ARN: sessionARN.String(), UserID: roleID + ":" + in.ID,
		Session: &api.Session{Instance: in.ID, Profile: p.ARN}}
}

func (c *Controller) rootDir(id string) string { return filepath.Join(c.cfg.Disks, id) }

func (c *Controller) hostKeyPath(id string) string { return filepath.Join(c.cfg.HostKeys, id+".pem") }

// spec is how compute runs an instance of the snapshot. It waits for the
// instance's image to be built (the instance stays pending meanwhile).
func (c *Controller) spec(snap *desired.World, in *desired.Instance) (compute.Spec, error) {
	if len(in.ENIs) == 0 {
		return compute.Spec{}, fmt.Errorf("instance %s has no network interface", in.ID)
	}
	eni, v := snap.FindENI(in.ENIs[0])
	if eni == nil || len(eni.PrivateIPs) == 0 {
		return compute.Spec{}, fmt.Errorf("instance %s: interface %s not found", in.ID, in.ENIs[0])
	}
	_, domain, _ := strings.Cut(in.PrivateDNSName, ".")
	return c.computeSpec(machine{id: in.ID, hostname: in.Hostname(), region: in.Region, vcpus: in.VCPUs, memoryMiB: in.MemoryMiB,
		image: in.Image, userData: in.UserData, search: domain}, eni, v)
}

// machine is what an instance and a slot have alike for compute.
type machine struct {
	id, hostname, region string
	vcpus, memoryMiB     int
	image                desired.Image
	userData             []byte
	search               string // the resolver's search domain, "" for none
}

// computeSpec is how compute runs m behind eni, in VPC v: in the namespace of
// the interface's owner, with the VPC's DNS server, on its image's layers.
func (c *Controller) computeSpec(m machine, eni *desired.ENI, v *desired.VPC) (compute.Spec, error) {
	family := m.image.Family
	if family == "" {
		family = ami.Debian
	}
	layers, err := c.cfg.Images.Layers(c.life, family, m.image.Baked)
	if err != nil {
		return compute.Spec{}, fmt.Errorf("image of %s: %w", m.id, err)
	}
	resolv := resolvConf(v, m.search)
	scripts, notes := userScripts(m.userData, family)
	return compute.Spec{
		ID:         m.id,
		Hostname:   m.hostname,
		NetNS:      c.cfg.Namespaces.Path(vpc.OwnerNS(eni.OwnerID)),
		VCPUs:      max(m.vcpus, 1),
		MemoryMiB:  max(m.memoryMiB, 16),
		RootDir:    c.rootDir(m.id),
		Layers:     layers,
		UserData:   m.userData,
		Scripts:    scripts,
		Notes:      notes,
		PrivateIP:  eni.PrivateIPs[0].String(),
		ResolvConf: resolv,
		TrustCA:    c.cfg.TrustCA,
		Env:        []string{"AWS_DEFAULT_REGION=" + m.region, "AWS_REGION=" + m.region},
	}, nil
}

// resolvConf is an instance's /etc/resolv.conf in VPC v: its DHCP options
// set's domain names and name servers ("AmazonProvidedDNS" is the VPC's
// resolver), or AWS's defaults (search, the region's domain; the VPC's
// resolver).
func resolvConf(v *desired.VPC, search string) string {
	servers := []string{"AmazonProvidedDNS"}
	if d := v.DHCP; d != nil {
		search, servers = d.DomainName, d.DomainNameServers
	}
	var b strings.Builder
	b.WriteString("# from the VPC's DHCP options\n")
	if search != "" {
		b.WriteString("search " + search + "\n")
	}
	for _, s := range servers {
		if s == "AmazonProvidedDNS" {
			s = desired.DNSServer(v.CIDRs[0]).String()
		}
		b.WriteString("nameserver " + s + "\n")
	}
	return b.String()
}

// boot starts an instance of the latest snapshot, whose network the sync
// that asked for it made: its processes, then its SSH server.
func (c *Controller) boot(ctx context.Context, id string) error {
	snap := c.cfg.Desired()
	in := snap.FindInstance(id)
	if in == nil {
		return fmt.Errorf("instance %s is not in the store", id)
	}
	return c.startInstance(ctx, snap, in)
}

func (c *Controller) startInstance(ctx context.Context, snap *desired.World, in *desired.Instance) error {
	spec, err := c.spec(snap, in)
	if err != nil {
		return err
	}
	if c.cfg.BootDevices != nil {
		spec.Devices = c.cfg.BootDevices(snap, in)
	}
	if err := os.MkdirAll(c.cfg.Disks, 0o700); err != nil {
		return err
	}
	start := time.Now()
	if err := c.cfg.Runner.Start(ctx, spec); err != nil {
		return err
	}
	c.cfg.Log.Info("instances: instance up", "instance", in.ID, "ip", spec.PrivateIP, "took", time.Since(start))
	return c.startSSH(in)
}

func (c *Controller) startSSH(in *desired.Instance) error {
	return c.ssh.Ensure(in.ID, func() (*servers.Set, error) { return c.sshServer(in) })
}

// sshServer serves SSH on port 22 inside the instance's namespace.
func (c *Controller) sshServer(in *desired.Instance) (*servers.Set, error) {
	key, err := c.hostKey(in.ID)
	if err != nil {
		return nil, err
	}
	ns := vpc.OwnerNS(in.ID)
	ln, err := c.cfg.Namespaces.ListenTCP(ns, netip.MustParseAddrPort("0.0.0.0:22"))
	if err != nil {
		return nil, fmt.Errorf("ssh server of %s: %w", in.ID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &servers.Set{Cancel: cancel, Closers: []func() error{ln.Close}}
	id, vpcID := in.ID, in.VPC
	cfg := sshd.Config{
		HostKey:       key,
		AuthorizedKey: in.PublicKey,
		Users:         []string{in.LoginUser},
		Exec: func(ctx context.Context, req compute.ExecRequest) (int, error) {
			return c.cfg.Runner.Exec(ctx, id, req)
		},
		Dial: func(ctx context.Context, _ string, addr string) (net.Conn, error) {
			return c.dialFrom(ctx, ns, vpcID, addr)
		},
		Terminal: func() (*os.File, *os.File, error) {
			// In the instance's own devpts, so that /dev/pts/N exists there.
			if pid := c.initPID(id); pid > 0 {
				return sshd.OpenTerminal(fmt.Sprintf("/proc/%d/root/dev/pts", pid))
			}
			return sshd.OpenTerminal("")
		},
		Log: c.cfg.Log.With("instance", id),
	}
	s.Go(func() {
		if err := sshd.Serve(ctx, ln, cfg); err != nil && ctx.Err() == nil {
			c.cfg.Log.Warn("instances: ssh server stopped", "instance", id, "error", err)
		}
	})
	return s, nil
}

// initPID returns the host PID of a running instance's init, 0 if none.
func (c *Controller) initPID(id string) int {
	infos, err := c.cfg.Runner.List()
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
func (c *Controller) dialFrom(ctx context.Context, ns, vpcID, addr string) (net.Conn, error) {
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
		ips, ok := c.cfg.Names.LookupA(vpcID, name)
		if !ok || len(ips) == 0 {
			return nil, fmt.Errorf("cannot resolve %s", host)
		}
		ip = ips[0]
	}
	return c.cfg.Namespaces.DialTCP(ctx, ns, netip.AddrPortFrom(ip, uint16(port)))
}

// hostKey returns the instance's SSH host key, made on first use and kept
// so that known_hosts stays valid across stops and restarts.
func (c *Controller) hostKey(id string) (ssh.Signer, error) {
	p := c.hostKeyPath(id)
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

func (c *Controller) stopSSH(id string) {
	c.ssh.Stop(func(k string) bool { return k == id })
}

// halt stops an instance's SSH server and processes; terminate also
// deletes its disk and host key.
func (c *Controller) halt(ctx context.Context, id string, terminate bool) error {
	c.stopSSH(id)
	if terminate {
		c.forget(id)
		os.Remove(c.hostKeyPath(id))
		err := c.cfg.Runner.Terminate(ctx, id)
		if errors.Is(err, compute.ErrNotFound) {
			return nil
		}
		return err
	}
	err := c.cfg.Runner.Stop(ctx, id)
	if errors.Is(err, compute.ErrNotFound) {
		return nil
	}
	return err
}

// forget drops what the controller remembers of an instance that is gone.
func (c *Controller) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.reboots, id)
	delete(c.consoles, id)
	delete(c.slots, id)
}

// Exec runs a command inside an instance.
func (c *Controller) Exec(ctx context.Context, id string, req compute.ExecRequest) (int, error) {
	return c.cfg.Runner.Exec(ctx, id, req)
}

// Stats reads a running instance's counters (the metrics' source).
func (c *Controller) Stats(id string) (compute.Stats, error) { return c.cfg.Runner.Stats(id) }

// Start brings the processes in line with the store after a (re)start:
// instances that should run are started (a no-op for those whose
// processes survived) and stopped ones are stopped. (The first sync has
// already reaped the instances the store no longer knows.) What fails is
// logged: the instances concerned stay as they are, the others run.
func (c *Controller) Start(ctx context.Context) error {
	if err := c.adopt(ctx); err != nil {
		c.cfg.Log.Warn("instances: restoring instances", "error", err)
	}
	cctx, cancel := context.WithCancel(context.Background())
	c.stopConsoles, c.consolesDone = cancel, make(chan struct{})
	go func() {
		defer close(c.consolesDone)
		c.followConsoles(cctx)
	}()
	return nil
}

func (c *Controller) adopt(ctx context.Context) error {
	snap := c.cfg.Desired()
	infos, err := c.cfg.Runner.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, info := range infos {
		if in := snap.FindInstance(info.ID); in != nil && in.State == "stopped" && info.State == compute.StateRunning {
			errs = append(errs, c.cfg.Runner.Stop(ctx, info.ID))
		}
	}
	for _, in := range snap.Instances {
		if in.State != "running" {
			continue // pending ones boot through the lifecycle (drive)
		}
		if err := c.startInstance(ctx, snap, in); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", in.ID, err))
		}
	}
	return errors.Join(errs...)
}

// reap removes the processes and disks of instances the store no longer
// knows (a reset, or an instance gone while the daemon was down).
func (c *Controller) reap(ctx context.Context, snap *desired.World) error {
	infos, err := c.cfg.Runner.List()
	if err != nil {
		return err
	}
	var errs []error
	for _, info := range infos {
		if snap.FindInstance(info.ID) == nil && snap.FindSlot(info.ID) == nil {
			c.cfg.Log.Info("instances: removing an instance the store does not know", "instance", info.ID)
			c.stopSSH(info.ID)
			c.forget(info.ID)
			errs = append(errs, c.cfg.Runner.Terminate(ctx, info.ID))
		}
	}
	return errors.Join(errs...)
}

// Close stops the SSH and metadata servers; the instances' processes stay,
// so a restarted daemon takes them over.
func (c *Controller) Close() error {
	c.endLife()
	if c.stopConsoles != nil {
		c.stopConsoles()
		<-c.consolesDone
	}
	c.imds.Stop(nil)
	c.ssh.Stop(nil)
	return nil
}
