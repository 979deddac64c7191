package elasticache

import (
	"bytes"
	_ "embed"
	"fmt"
	"net/netip"
	"text/template"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// contributeMemcached adds a scope's Memcached nodes (slots) and names:
// each node's, and the configuration endpoint's, which resolves to every
// node (any of them answers `config get cluster`).
func (s *Service) contributeMemcached(tx *store.Tx, sc scope, w *desired.World) error {
	cs, err := store.ListAll[cacheCluster](tx, sc.account, sc.region, kindCacheCluster)
	if err != nil {
		return err
	}
	for _, c := range cs {
		pg, err := loadParamGroup(tx, sc, c.ParamGroup)
		if err != nil {
			return err
		}
		nt := nodeTypes[c.NodeType]
		cfg := &desired.Name{Name: sc.configName(c.ID), VPCs: []string{c.VPC}}
		for _, n := range c.Nodes {
			script, err := memcachedScript(sc, c, n, pg, nt)
			if err != nil {
				return err
			}
			w.Slots = append(w.Slots, &desired.Slot{ID: sc.memcachedSlot(c.ID, n.ID), Account: sc.account, Region: sc.region,
				Owner: "elasticache", ENI: n.ENI, VCPUs: nt.vcpus, MemoryMiB: nt.memoryMiB + installMiB, Script: script,
				Running: c.Status != "deleting" && n.Status != "deleting", Metrics: nodeMetrics(c.ID, n.ID)})
			if n.Status == "deleting" {
				continue
			}
			ip := netip.MustParseAddr(n.IP)
			w.Names = append(w.Names, &desired.Name{Name: sc.memcachedNodeName(c.ID, n.ID), VPCs: []string{c.VPC}, Addrs: []netip.Addr{ip}})
			cfg.Addrs = append(cfg.Addrs, ip)
		}
		w.Names = append(w.Names, cfg)
	}
	return nil
}

//go:embed memcached.sh.tmpl
var memcachedScriptText string

var memcachedScriptTmpl = template.Must(template.New("memcached").Parse(memcachedScriptText))

// memcachedFlags maps the family's parameters to memcached's options
// (max_simultaneous_connections is AWS's limit, not passed: memcached
// would raise its open files limit to it).
var memcachedFlags = map[string]string{
	"max_item_size": "-I %s", "chunk_size": "-n %s", "chunk_size_growth_factor": "-f %s",
	"binding_protocol": "-B %s", "backlog_queue_limit": "-b %s",
	"idle_timeout": "-o idle_timeout=%s",
}

func memcachedScript(sc scope, c *cacheCluster, n *cacheNode, pg *paramGroup, nt nodeType) ([]byte, error) {
	values := pg.effective()
	var flags []string
	for _, p := range families[pg.Family] {
		if f, ok := memcachedFlags[p.Name]; ok && values[p.Name] != "" {
			flags = append(flags, fmt.Sprintf(f, values[p.Name]))
		}
	}
	if values["cas_disabled"] == "1" {
		flags = append(flags, "-C")
	}
	var b bytes.Buffer
	err := memcachedScriptTmpl.Execute(&b, map[string]any{
		"IP": n.IP, "Port": c.Port, "MemoryMB": nt.memoryMiB, "Flags": flags,
		"Config": sc.configName(c.ID), "NodeName": sc.memcachedNodeName(c.ID, "%04d"),
	})
	return b.Bytes(), err
}
