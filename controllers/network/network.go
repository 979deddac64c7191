// Package network is the network controller: it applies the VPCs' network
// to the kernel (controllers/vpc), runs each VPC's Amazon DNS server on
// its router's address, and runs the simulated internet's services: the
// echo server, the package mirror, AWS's API endpoints and the resolver
// of public names.
//
// Both kinds of DNS server answer through one vpcdns.Lookup: a VPC's
// Route 53 private zones, then the AWS names (Config.Names), then the
// public zones; the internet's skips the private zones. The zones are read
// from the latest snapshot (Config.Desired) on every question, so a
// change answers at once, without restarting a server.
//
// It is named for what it provides, the network the instances and load
// balancers live on. dataplane/network, the kernel's namespaces and links
// it drives, is imported as netns here and in the supervisor.
package network

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/controllers/servers"
	"github.com/cloudbox/cloudbox/controllers/vpc"
	netns "github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/echo"
	"github.com/cloudbox/cloudbox/engines/endpoints"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
)

// Kernel is the daemon's namespaces as the controller uses them
// (dataplane/network.Linux): the network to apply, and sockets opened
// inside it for the servers.
type Kernel interface {
	netns.Network
	ListenTCP(ns string, addr netip.AddrPort) (net.Listener, error)
	ListenUDP(ns string, addr netip.AddrPort) (net.PacketConn, error)
}

// Config is what the supervisor gives the controller.
type Config struct {
	Kernel Kernel
	// Names answers the AWS names (instances', load balancers', the
	// mirror's) to the VPCs and the internet.
	Names vpcdns.Resolver
	// Targets judges alias targets that evaluate target health (nil:
	// none).
	Targets vpcdns.TargetHealth
	// Desired returns the latest snapshot: the DNS servers answer its
	// Route 53 zones. nil serves no zones.
	Desired func() *desired.World
	// InternetResolv is where the resolv.conf of commands run on the
	// internet is written.
	InternetResolv string
	// Mirror, when set, is the package mirror served on the internet's
	// MirrorAddr under the Debian archive's names.
	Mirror http.Handler
	// API, when set, is served as AWS's public API endpoints on the
	// internet's EndpointAddr, HTTP on port 80 and HTTPS on 443 with
	// Certs; the endpoint names of the services whose prefixes
	// EndpointPrefixes lists resolve to it (vpcdns.Endpoints).
	API              http.Handler
	Certs            *endpoints.Certs
	EndpointPrefixes []string
	// HostDNS, when set, is a loopback address in the host's namespace
	// where the internet's answers are served too (UDP and TCP; port 0
	// picks one), for `dig @127.0.0.1 -p PORT` on the host: a listener,
	// so nothing is ever sent to a simulated address.
	HostDNS string
	Log     *slog.Logger
}

// mirrorNames are the names the package mirror answers, as the images'
// apt sources name the archive.
var mirrorNames = []string{"deb.debian.org", "security.debian.org"}

// Names answers the internet's own services' names: the mirror's, the
// public zones' name servers' and AWS's API endpoints'.
func (c *Controller) Names() vpcdns.Resolver {
	names := vpcdns.Static{}
	if c.cfg.Mirror != nil {
		for _, n := range mirrorNames {
			names[n] = []netip.Addr{vpc.MirrorAddr}
		}
	}
	chain := vpcdns.Chain{names, vpcdns.NameServers(vpc.NameServerAddrs)}
	if c.cfg.API != nil {
		chain = append(chain, vpcdns.NewEndpoints(vpc.EndpointAddr, c.cfg.EndpointPrefixes))
	}
	return chain
}

// Controller is the network controller.
type Controller struct {
	cfg Config
	vpc *vpc.Reconciler
	// dnsLookup is what every DNS server answers from.
	dnsLookup *vpcdns.Lookup

	dns servers.Table // by VPC id

	mu       sync.Mutex
	internet *servers.Set
	hostDNS  string
}

// New returns the controller; Sync builds the network.
func New(cfg Config) *Controller {
	return &Controller{cfg: cfg, vpc: vpc.New(cfg.Kernel, cfg.Log), dnsLookup: &vpcdns.Lookup{Names: cfg.Names, World: cfg.Desired, Targets: cfg.Targets}}
}

// Name implements controllers.Controller.
func (c *Controller) Name() string { return "network" }

// Prune stops the DNS servers of the VPCs snap no longer has: they hold
// sockets in their router's namespace, which would keep it alive.
func (c *Controller) Prune(snap *desired.World) {
	c.dns.Stop(func(vpc string) bool { return snap.FindVPC(vpc) == nil })
}

// Sync applies snap's network, then starts the DNS server of each new VPC.
func (c *Controller) Sync(_ context.Context, snap *desired.World) error {
	start := time.Now()
	if err := c.vpc.Apply(snap); err != nil {
		return err
	}
	c.cfg.Log.Debug("network: applied", "vpcs", len(snap.VPCs), "instances", len(snap.Instances), "took", time.Since(start))
	for _, v := range snap.VPCs {
		if err := c.dns.Ensure(v.ID, func() (*servers.Set, error) { return c.startDNS(v) }); err != nil {
			return fmt.Errorf("dns of %s: %w", v.ID, err)
		}
	}
	return nil
}

// startDNS starts the Amazon DNS server of a VPC on its router's base+2
// address and on 169.254.169.253.
func (c *Controller) startDNS(v *desired.VPC) (*servers.Set, error) {
	ns := vpc.RouterNS(v.ID)
	ctx, cancel := context.WithCancel(context.Background())
	s := &servers.Set{Cancel: cancel}
	fail := func(err error) (*servers.Set, error) {
		s.Stop()
		return nil, err
	}
	vpcID := v.ID
	addrs := []netip.AddrPort{netip.AddrPortFrom(desired.DNSServer(v.CIDRs[0]), 53), netip.AddrPortFrom(vpc.DNSLinkLocal, 53)}
	for _, addr := range addrs {
		udp, err := c.cfg.Kernel.ListenUDP(ns, addr)
		if err != nil {
			return fail(err)
		}
		s.Closers = append(s.Closers, udp.Close)
		tcp, err := c.cfg.Kernel.ListenTCP(ns, addr)
		if err != nil {
			return fail(err)
		}
		s.Closers = append(s.Closers, tcp.Close)
		s.Go(func() {
			if err := vpcdns.Serve(ctx, vpcID, c.dnsLookup, udp, tcp); err != nil && ctx.Err() == nil {
				c.cfg.Log.Warn("network: vpc dns stopped", "vpc", vpcID, "dns", addr.String(), "error", err)
			}
		})
	}
	c.cfg.Log.Info("network: vpc dns up", "vpc", vpcID, "dns", addrs[0].String(), "link_local", addrs[1].String())
	return s, nil
}

// Start starts the simulated internet's services on their addresses,
// once the first sync made the internet's namespace: the echo server
// (port 80), the package mirror, AWS's API endpoints and the resolver of
// public names (port 53) that `cloudbox exec internet` points commands at.
func (c *Controller) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	s := &servers.Set{Cancel: cancel}
	fail := func(what string, err error) error {
		s.Stop()
		return fmt.Errorf("the internet's %s: %w", what, err)
	}
	ln, err := c.cfg.Kernel.ListenTCP(vpc.InternetNS, netip.AddrPortFrom(vpc.EchoAddr, 80))
	if err != nil {
		return fail("echo server", err)
	}
	srv := &http.Server{Handler: echo.Handler{}, ReadHeaderTimeout: 10 * time.Second}
	s.Closers = append(s.Closers, srv.Close)
	s.Go(func() { srv.Serve(ln) })
	if c.cfg.Mirror != nil {
		ln, err := c.cfg.Kernel.ListenTCP(vpc.InternetNS, netip.AddrPortFrom(vpc.MirrorAddr, 80))
		if err != nil {
			return fail("package mirror", err)
		}
		// No write timeout: a large package streams as long as it takes.
		mirror := &http.Server{Handler: c.cfg.Mirror, ReadHeaderTimeout: 10 * time.Second}
		s.Closers = append(s.Closers, mirror.Close)
		s.Go(func() { mirror.Serve(ln) })
		c.cfg.Log.Info("network: package mirror up", "addr", vpc.MirrorAddr.String(), "names", mirrorNames)
	}
	if c.cfg.API != nil {
		if err := c.startEndpoints(s); err != nil {
			return fail("AWS endpoints", err)
		}
	}

	dnsAddr := netip.AddrPortFrom(vpc.EchoAddr, 53)
	udp, err := c.cfg.Kernel.ListenUDP(vpc.InternetNS, dnsAddr)
	if err != nil {
		return fail("resolver", err)
	}
	s.Closers = append(s.Closers, udp.Close)
	tcp, err := c.cfg.Kernel.ListenTCP(vpc.InternetNS, dnsAddr)
	if err != nil {
		return fail("resolver", err)
	}
	s.Closers = append(s.Closers, tcp.Close)
	s.Go(func() { vpcdns.Serve(ctx, vpcdns.Internet, c.dnsLookup, udp, tcp) })
	for _, a := range vpc.NameServerAddrs {
		addr := netip.AddrPortFrom(a, 53)
		udp, err := c.cfg.Kernel.ListenUDP(vpc.InternetNS, addr)
		if err != nil {
			return fail("name servers", err)
		}
		s.Closers = append(s.Closers, udp.Close)
		tcp, err := c.cfg.Kernel.ListenTCP(vpc.InternetNS, addr)
		if err != nil {
			return fail("name servers", err)
		}
		s.Closers = append(s.Closers, tcp.Close)
		s.Go(func() { vpcdns.Serve(ctx, vpcdns.Authoritative, c.dnsLookup, udp, tcp) })
	}
	if c.cfg.HostDNS != "" {
		udp, tcp, err := vpcdns.ListenHost(c.cfg.HostDNS)
		if err != nil {
			return fail("resolver on the host", err)
		}
		s.Closers = append(s.Closers, udp.Close, tcp.Close)
		s.Go(func() { vpcdns.Serve(ctx, vpcdns.Internet, c.dnsLookup, udp, tcp) })
		c.mu.Lock()
		c.hostDNS = udp.LocalAddr().String()
		c.mu.Unlock()
		c.cfg.Log.Info("network: the internet's DNS answers on the host too", "addr", udp.LocalAddr().String())
	}
	if err := os.MkdirAll(filepath.Dir(c.cfg.InternetResolv), 0o755); err != nil {
		return fail("resolver", err)
	}
	if err := os.WriteFile(c.cfg.InternetResolv, []byte("nameserver "+vpc.EchoAddr.String()+"\n"), 0o644); err != nil {
		return fail("resolver", err)
	}
	c.mu.Lock()
	c.internet = s
	c.mu.Unlock()
	return nil
}

// startEndpoints serves the API as AWS's endpoints on the internet's
// EndpointAddr, in s: what an instance reaches through its internet or
// NAT gateway when it calls sts.amazonaws.com.
func (c *Controller) startEndpoints(s *servers.Set) error {
	plain, err := c.cfg.Kernel.ListenTCP(vpc.InternetNS, netip.AddrPortFrom(vpc.EndpointAddr, 80))
	if err != nil {
		return err
	}
	s.Closers = append(s.Closers, plain.Close)
	secure, err := c.cfg.Kernel.ListenTCP(vpc.InternetNS, netip.AddrPortFrom(vpc.EndpointAddr, 443))
	if err != nil {
		return err
	}
	s.Closers = append(s.Closers, secure.Close)
	srv := endpoints.Server(c.cfg.API, c.cfg.Certs, c.cfg.Log)
	s.Closers = append(s.Closers, srv.Close)
	s.Go(func() { srv.Serve(plain) })
	s.Go(func() { srv.ServeTLS(secure, "", "") })
	c.cfg.Log.Info("network: AWS endpoints up", "addr", vpc.EndpointAddr.String(), "ports", "80, 443")
	return nil
}

// HostDNS is the host address the internet's answers are served on, ""
// when none.
func (c *Controller) HostDNS() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hostDNS
}

// Close stops the DNS servers and the internet's services; the network
// stays in the kernel.
func (c *Controller) Close() error {
	c.dns.Stop(nil)
	c.mu.Lock()
	internet := c.internet
	c.internet = nil
	c.mu.Unlock()
	if internet != nil {
		internet.Stop()
	}
	return nil
}
