// Package loadbalancers is the load balancers controller: it runs an ALB
// node (engines/alb) per node ENI of each load balancer, on listeners
// opened inside the node's namespace, dialling targets from there; it
// aggregates the nodes' health checks and reports them to ELB; and it claims
// *.elb.amazonaws.com at the edge, carrying those requests through the
// simulated internet to a node.
package loadbalancers

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/controllers/vpc"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/alb"
	"github.com/cloudbox/cloudbox/engines/edge"
)

// Namespaces are the daemon's namespaces as the controller uses them
// (dataplane/network.Linux).
type Namespaces interface {
	ListenTCP(ns string, addr netip.AddrPort) (net.Listener, error)
	DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error)
}

// HealthReporter takes the load balancers' view of their targets
// (services/elbv2 implements it), which DescribeTargetHealth combines
// with what the control plane knows.
type HealthReporter interface {
	ReportHealth(account, region, targetGroupARN, targetID string, port int, healthy bool, reason, description string) error
}

// Certificates hands out the key pairs of ACM certificates
// (services/acm implements it), for HTTPS listeners.
type Certificates interface {
	KeyPair(account, region, arn string) (certPEM, keyPEM []byte, err error)
}

// Config is what the supervisor gives the controller.
type Config struct {
	Namespaces Namespaces
	// Desired returns the latest snapshot.
	Desired func() *desired.World
	// ELB, Certs and Edge are optional: without them health goes
	// unreported, HTTPS listeners have no certificate, and the load
	// balancers are not reachable from the host.
	ELB   HealthReporter
	Certs Certificates
	Edge  *edge.Table
	// TimeScale is the speed of the health checks' intervals (> 0).
	TimeScale float64
	Log       *slog.Logger
}

// Controller is the load balancers controller.
type Controller struct {
	cfg Config

	mu  sync.Mutex
	lbs map[string]*lbNode // by node ENI

	hmu    sync.Mutex
	health map[string]*healthView // by load balancer, group, target, port

	unclaim  func()        // withdraws the edge's claim
	edgeNext atomic.Uint64 // round robin over a load balancer's nodes
	edge     *httputil.ReverseProxy
}

// New returns the controller, claiming the load balancers' names at the
// edge.
func New(cfg Config) *Controller {
	c := &Controller{cfg: cfg, lbs: map[string]*lbNode{}, health: map[string]*healthView{}}
	c.edge = c.edgeProxy()
	if cfg.Edge != nil {
		c.unclaim = cfg.Edge.Register("*.elb.amazonaws.com", http.HandlerFunc(c.serveEdge))
	}
	return c
}

// Name implements controllers.Controller.
func (c *Controller) Name() string { return "loadbalancers" }

// lbNode is one running load balancer node: the ALB engine and the
// listeners it serves, opened inside the node's namespace.
type lbNode struct {
	node      *alb.Node
	listeners map[int]net.Listener
	wg        sync.WaitGroup
}

func (n *lbNode) stop() {
	n.node.Close()
	for _, l := range n.listeners {
		l.Close()
	}
	n.wg.Wait()
}

// healthKey is one target of one group, as health is reported.
type healthKey struct {
	tg, target string
	port       int
}

// healthView is what each node of a load balancer last saw of a target.
type healthView struct {
	account, region string
	byNode          map[string]nodeHealth // by node ENI
	reported        *nodeHealth           // what elbv2 was last told
}

type nodeHealth struct {
	healthy             bool
	reason, description string
}

// Prune stops the nodes whose load balancer or ENI left the world, before
// the network removes their namespaces.
func (c *Controller) Prune(snap *desired.World) {
	keep := map[string]bool{}
	for _, lb := range snap.LoadBalancers {
		for _, n := range lb.Nodes {
			keep[n.ENI] = true
		}
	}
	c.mu.Lock()
	var gone []*lbNode
	for eni, n := range c.lbs {
		if !keep[eni] {
			gone = append(gone, n)
			delete(c.lbs, eni)
		}
	}
	c.mu.Unlock()
	for _, n := range gone {
		n.stop()
	}
}

// Sync starts, updates and reconfigures the nodes of every load balancer
// once the network is in place. A node that fails is logged and tried
// again at the next sync.
func (c *Controller) Sync(_ context.Context, snap *desired.World) error {
	if err := c.syncNodes(snap); err != nil {
		c.cfg.Log.Warn("loadbalancers: nodes", "error", err)
	}
	return nil
}

func (c *Controller) syncNodes(snap *desired.World) error {
	tgs := make(map[string]*desired.TargetGroup, len(snap.TargetGroups))
	for _, tg := range snap.TargetGroups {
		tgs[tg.ARN] = tg
	}
	wired := map[string]bool{}
	for _, v := range snap.VPCs {
		for _, e := range v.ENIs {
			if e.OwnerKind == desired.OwnerLoadBalancer {
				wired[e.ID] = true
			}
		}
	}
	var errs []error
	for _, lb := range snap.LoadBalancers {
		for _, nd := range lb.Nodes {
			if !wired[nd.ENI] || !nd.PrivateIP.IsValid() {
				continue
			}
			if err := c.syncNode(lb, nd, tgs); err != nil {
				errs = append(errs, fmt.Errorf("node %s of %s: %w", nd.ENI, lb.Name, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("load balancers: %v", errs)
	}
	return nil
}

func (c *Controller) syncNode(lb *desired.LoadBalancer, nd *desired.LBNode, tgs map[string]*desired.TargetGroup) error {
	c.mu.Lock()
	n := c.lbs[nd.ENI]
	c.mu.Unlock()
	if n == nil {
		ns := vpc.OwnerNS(nd.ENI)
		account, region, lbARN := lb.Account, lb.Region, lb.ARN
		n = &lbNode{listeners: map[int]net.Listener{}}
		n.node = alb.NewNode(alb.Config{
			Node: nd,
			Dial: func(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
				return c.cfg.Namespaces.DialTCP(ctx, ns, addr)
			},
			Certificate: func(arn string) (*tls.Certificate, error) { return c.certificate(account, region, arn) },
			Health: func(tgARN, targetID string, port int, healthy bool, reason, description string) {
				c.nodeHealth(account, region, lbARN, nd.ENI, healthKey{tgARN, targetID, port}, nodeHealth{healthy, reason, description})
			},
			Log:             c.cfg.Log.With("lb", lb.Name, "node", nd.ENI),
			TimeScale:       c.cfg.TimeScale,
			MinCheckTimeout: time.Second,
		})
		c.mu.Lock()
		c.lbs[nd.ENI] = n
		c.mu.Unlock()
		c.cfg.Log.Info("loadbalancers: node up", "lb", lb.Name, "node", nd.ENI, "az", nd.AZ, "ip", nd.PrivateIP.String())
	}
	n.node.Update(lb, tgs)
	want := map[int]bool{}
	for _, l := range lb.Listeners {
		want[l.Port] = true
		if n.listeners[l.Port] != nil {
			continue
		}
		ln, err := c.cfg.Namespaces.ListenTCP(vpc.OwnerNS(nd.ENI), netip.AddrPortFrom(nd.PrivateIP, uint16(l.Port)))
		if err != nil {
			return err
		}
		n.listeners[l.Port] = ln
		port := l.Port
		n.wg.Go(func() { n.node.Serve(port, ln) })
	}
	for port, ln := range n.listeners {
		if !want[port] {
			ln.Close()
			delete(n.listeners, port)
		}
	}
	return nil
}

// certificate loads an ACM certificate for an HTTPS listener.
func (c *Controller) certificate(account, region, arn string) (*tls.Certificate, error) {
	if c.cfg.Certs == nil {
		return nil, fmt.Errorf("no certificate store")
	}
	certPEM, keyPEM, err := c.cfg.Certs.KeyPair(account, region, arn)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return &cert, err
}

// nodeHealth records one node's view of a target and tells elbv2 when the
// load balancer's view changes: a target is healthy when every node that
// checks it says so, else it is unhealthy with the first failing node's
// reason.
func (c *Controller) nodeHealth(account, region, lbARN, eni string, k healthKey, h nodeHealth) {
	c.hmu.Lock()
	key := lbARN + "|" + k.tg + "|" + k.target + "|" + fmt.Sprint(k.port)
	v := c.health[key]
	if v == nil {
		v = &healthView{account: account, region: region, byNode: map[string]nodeHealth{}}
		c.health[key] = v
	}
	v.byNode[eni] = h
	agg := nodeHealth{healthy: true}
	for _, nh := range v.byNode {
		if !nh.healthy {
			agg = nh
			break
		}
	}
	changed := v.reported == nil || *v.reported != agg
	v.reported = &agg
	c.hmu.Unlock()
	if !changed || c.cfg.ELB == nil {
		return
	}
	c.cfg.Log.Info("loadbalancers: target health", "target_group", k.tg, "target", k.target, "port", k.port, "healthy", agg.healthy, "reason", agg.reason)
	if err := c.cfg.ELB.ReportHealth(account, region, k.tg, k.target, k.port, agg.healthy, agg.reason, agg.description); err != nil {
		c.cfg.Log.Warn("loadbalancers: reporting target health", "target", k.target, "error", err)
	}
}

// NodeStats returns the counters of every running node, by node ENI (the
// metrics' source).
func (c *Controller) NodeStats() map[string]alb.Stats {
	c.mu.Lock()
	nodes := make(map[string]*lbNode, len(c.lbs))
	for eni, n := range c.lbs {
		nodes[eni] = n
	}
	c.mu.Unlock()
	out := make(map[string]alb.Stats, len(nodes))
	for eni, n := range nodes {
		out[eni] = n.node.Stats()
	}
	return out
}

// Close withdraws the edge's claim and stops the nodes.
func (c *Controller) Close() error {
	if c.unclaim != nil {
		c.unclaim()
	}
	c.mu.Lock()
	nodes := c.lbs
	c.lbs = map[string]*lbNode{}
	c.mu.Unlock()
	for _, n := range nodes {
		n.stop()
	}
	return nil
}

// serveEdge carries a request that reached the edge listener on loopback
// (Host: <load balancer DNS name>[:port]) to the load balancer through the
// simulated internet, as a client on the internet would reach it: to a
// node's public address, port 80. The host itself never routes to that
// address; the connection is made from inside the internet namespace.
func (c *Controller) serveEdge(rw http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	var lb *desired.LoadBalancer
	for _, l := range c.cfg.Desired().LoadBalancers {
		if strings.EqualFold(l.DNSName, host) {
			lb = l
		}
	}
	switch {
	case lb == nil:
		http.Error(rw, "cloudbox edge: no load balancer is named "+host, http.StatusNotFound)
		return
	case lb.Scheme != "internet-facing":
		http.Error(rw, "cloudbox edge: "+lb.Name+" is internal: reach it from inside its VPC (cloudbox exec <instance> -- curl ...)", http.StatusBadGateway)
		return
	}
	var nodes []netip.Addr
	for _, n := range lb.Nodes {
		if n.PublicIP.IsValid() {
			nodes = append(nodes, n.PublicIP)
		}
	}
	if len(nodes) == 0 {
		http.Error(rw, "cloudbox edge: "+lb.Name+" has no node on the internet yet", http.StatusServiceUnavailable)
		return
	}
	target := nodes[int(c.edgeNext.Add(1))%len(nodes)]
	c.edge.ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), edgeTarget{}, netip.AddrPortFrom(target, 80))))
}

type edgeTarget struct{}

// edgeProxy is the reverse proxy of the edge; its transport dials from
// inside the internet namespace to the address the request carries.
func (c *Controller) edgeProxy() *httputil.ReverseProxy {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			ap, _ := ctx.Value(edgeTarget{}).(netip.AddrPort)
			return c.cfg.Namespaces.DialTCP(ctx, vpc.InternetNS, ap)
		},
		MaxIdleConnsPerHost: 32,
	}
	return &httputil.ReverseProxy{
		Transport: tr,
		Rewrite: func(pr *httputil.ProxyRequest) {
			ap, _ := pr.In.Context().Value(edgeTarget{}).(netip.AddrPort)
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = ap.String()
			host, _, err := net.SplitHostPort(pr.In.Host)
			if err != nil {
				host = pr.In.Host
			}
			// As a client of port 80 would send it.
			pr.Out.Host = host
		},
	}
}
