//go:build linux

package controllers

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/controllers/vpc"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/alb"
)

// lbNode is one running load balancer node: the ALB engine and the
// listeners it serves, opened inside the node's namespace.
type lbNode struct {
	lbARN     string
	eni       string
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

// stopGoneNodes stops the nodes whose load balancer or ENI left the
// world, before the network removes their namespaces.
func (w *World) stopGoneNodes(snap *desired.World) {
	keep := map[string]bool{}
	for _, lb := range snap.LoadBalancers {
		for _, n := range lb.Nodes {
			keep[n.ENI] = true
		}
	}
	w.mu.Lock()
	var gone []*lbNode
	for eni, n := range w.lbs {
		if !keep[eni] {
			gone = append(gone, n)
			delete(w.lbs, eni)
		}
	}
	w.mu.Unlock()
	for _, n := range gone {
		n.stop()
	}
}

// syncLoadBalancers starts, updates and reconfigures the nodes of every
// load balancer after the network is in place.
func (w *World) syncLoadBalancers(snap *desired.World) error {
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
			if err := w.syncNode(lb, nd, tgs); err != nil {
				errs = append(errs, fmt.Errorf("node %s of %s: %w", nd.ENI, lb.Name, err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("load balancers: %v", errs)
	}
	return nil
}

func (w *World) syncNode(lb *desired.LoadBalancer, nd *desired.LBNode, tgs map[string]*desired.TargetGroup) error {
	w.mu.Lock()
	n := w.lbs[nd.ENI]
	w.mu.Unlock()
	if n == nil {
		ns := vpc.OwnerNS(nd.ENI)
		account, region, lbARN := lb.Account, lb.Region, lb.ARN
		n = &lbNode{lbARN: lb.ARN, eni: nd.ENI, listeners: map[int]net.Listener{}}
		n.node = alb.NewNode(alb.Config{
			Node: nd,
			Dial: func(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
				return w.net.DialTCP(ctx, ns, addr)
			},
			Certificate: func(arn string) (*tls.Certificate, error) { return w.certificate(account, region, arn) },
			Health: func(tgARN, targetID string, port int, healthy bool, reason, description string) {
				w.nodeHealth(account, region, lbARN, nd.ENI, healthKey{tgARN, targetID, port}, nodeHealth{healthy, reason, description})
			},
			Log:             w.cfg.Log.With("lb", lb.Name, "node", nd.ENI),
			TimeScale:       w.scale(),
			MinCheckTimeout: time.Second,
		})
		w.mu.Lock()
		w.lbs[nd.ENI] = n
		w.mu.Unlock()
		w.cfg.Log.Info("world: load balancer node up", "lb", lb.Name, "node", nd.ENI, "az", nd.AZ, "ip", nd.PrivateIP.String())
	}
	n.node.Update(lb, tgs)
	want := map[int]bool{}
	for _, l := range lb.Listeners {
		want[l.Port] = true
		if n.listeners[l.Port] != nil {
			continue
		}
		ln, err := w.net.ListenTCP(vpc.OwnerNS(nd.ENI), netip.AddrPortFrom(nd.PrivateIP, uint16(l.Port)))
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
func (w *World) certificate(account, region, arn string) (*tls.Certificate, error) {
	if w.cfg.Certs == nil {
		return nil, fmt.Errorf("no certificate store")
	}
	certPEM, keyPEM, err := w.cfg.Certs.KeyPair(account, region, arn)
	if err != nil {
		return nil, err
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return &c, err
}

// nodeHealth records one node's view of a target and tells elbv2 when the
// load balancer's view changes: a target is healthy when every node that
// checks it says so, else it is unhealthy with the first failing node's
// reason.
func (w *World) nodeHealth(account, region, lbARN, eni string, k healthKey, h nodeHealth) {
	w.hmu.Lock()
	key := lbARN + "|" + k.tg + "|" + k.target + "|" + fmt.Sprint(k.port)
	v := w.health[key]
	if v == nil {
		v = &healthView{account: account, region: region, byNode: map[string]nodeHealth{}}
		w.health[key] = v
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
	w.hmu.Unlock()
	if !changed || w.cfg.ELB == nil {
		return
	}
	w.cfg.Log.Info("world: target health", "target_group", k.tg, "target", k.target, "port", k.port, "healthy", agg.healthy, "reason", agg.reason)
	if err := w.cfg.ELB.ReportHealth(account, region, k.tg, k.target, k.port, agg.healthy, agg.reason, agg.description); err != nil {
		w.cfg.Log.Warn("world: reporting target health", "target", k.target, "error", err)
	}
}

// lbResolver answers load balancer DNS names: an internet-facing load
// balancer's name resolves to its nodes' public addresses, an internal
// one's to their private addresses, wherever the question comes from (as
// the public DNS records of AWS's load balancers do).
type lbResolver struct{ w *World }

func (r lbResolver) LookupA(_ string, name string) ([]netip.Addr, bool) {
	name = strings.TrimSuffix(name, ".")
	for _, lb := range r.w.current().LoadBalancers {
		if !strings.EqualFold(lb.DNSName, name) {
			continue
		}
		var out []netip.Addr
		for _, n := range lb.Nodes {
			if lb.Scheme == "internet-facing" && n.PublicIP.IsValid() {
				out = append(out, n.PublicIP)
			} else if lb.Scheme != "internet-facing" && n.PrivateIP.IsValid() {
				out = append(out, n.PrivateIP)
			}
		}
		return out, true
	}
	return nil, false
}

func (r lbResolver) LookupPTR(string, netip.Addr) (string, bool) { return "", false }

// ServeEdge carries a request that reached the edge listener on loopback
// (Host: <load balancer DNS name>[:port]) to the load balancer through the
// simulated internet, as a client on the internet would reach it: to a
// node's public address, port 80. The host itself never routes to that
// address; the connection is made from inside the internet namespace.
func (w *World) ServeEdge(rw http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	var lb *desired.LoadBalancer
	for _, l := range w.current().LoadBalancers {
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
	target := nodes[int(w.edgeNext.Add(1))%len(nodes)]
	w.edgeProxy().ServeHTTP(rw, r.WithContext(context.WithValue(r.Context(), edgeTarget{}, netip.AddrPortFrom(target, 80))))
}

type edgeTarget struct{}

// edgeProxy is the reverse proxy of the edge listener; its transport dials
// from inside the internet namespace to the address the request carries.
func (w *World) edgeProxy() *httputil.ReverseProxy {
	w.edgeOnce.Do(func() {
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				ap, _ := ctx.Value(edgeTarget{}).(netip.AddrPort)
				return w.net.DialTCP(ctx, vpc.InternetNS, ap)
			},
			MaxIdleConnsPerHost: 32,
		}
		w.edge = &httputil.ReverseProxy{
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
	})
	return w.edge
}
