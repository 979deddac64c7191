package daemon

import (
	"context"
	"log/slog"
	"sync"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
	"github.com/cloudbox/cloudbox/store"
)

// hostDNS answers, on a host loopback port, what the simulated internet's
// resolver would (the public hosted zones, the names services publish)
// when no data plane runs, so `dig @127.0.0.1 -p PORT` works for a CI
// pipeline that serves the control plane alone. With a data plane the
// network controller serves that port instead.
type hostDNS struct {
	st  *store.Store
	cs  []desired.Contributor
	log *slog.Logger

	mu    sync.Mutex
	world *desired.World
	stale bool // a followed kind changed since world was read
	addr  string
}

// startHostDNS listens on listen and serves until ctx ends.
func startHostDNS(ctx context.Context, st *store.Store, cs []desired.Contributor, targets vpcdns.TargetHealth, listen string, log *slog.Logger) (*hostDNS, error) {
	udp, tcp, err := vpcdns.ListenHost(listen)
	if err != nil {
		return nil, err
	}
	h := &hostDNS{st: st, cs: cs, log: log, stale: true, addr: udp.LocalAddr().String()}
	events, cancel := st.Watch()
	go func() {
		for ev := range events {
			if ev.Op == store.Resync || ev.Op == store.Reset || h.follows(ev.Key.Kind) {
				h.mu.Lock()
				h.stale = true
				h.mu.Unlock()
			}
		}
	}()
	names := vpcdns.NamesResolver{World: h.current}
	go func() {
		defer cancel()
		if err := vpcdns.Serve(ctx, vpcdns.Internet, &vpcdns.Lookup{Names: names, World: h.current, Targets: targets}, udp, tcp); err != nil {
			log.Warn("host dns stopped", "error", err)
		}
	}()
	log.Info("the public hosted zones answer on the host", "dns", h.addr)
	return h, nil
}

func (h *hostDNS) follows(kind string) bool {
	for _, c := range h.cs {
		if c.Follows(kind) {
			return true
		}
	}
	return false
}

// current is the world as of the last change: read again only after a
// followed kind changed, so a burst of questions costs one read.
func (h *hostDNS) current() *desired.World {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stale || h.world == nil {
		w, err := desired.Snapshot(h.st, h.cs...)
		if err != nil {
			h.log.Warn("host dns: reading the world", "error", err)
			if h.world == nil {
				h.world = &desired.World{}
			}
			return h.world
		}
		h.world, h.stale = w, false
	}
	return h.world
}
