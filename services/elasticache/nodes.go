package elasticache

import (
	"bytes"
	_ "embed"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Follows implements desired.Contributor.
func (s *Service) Follows(kind string) bool { return strings.HasPrefix(kind, "elasticache:") }

// Scopes implements desired.Contributor: the accounts and regions with
// replication groups.
func (s *Service) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	pairs, err := scopesWithNodes(tx)
	return desired.ScopesOf(pairs), err
}

// scopesWithNodes returns the accounts and regions with replication
// groups or Memcached clusters, once each.
func scopesWithNodes(tx *store.Tx) ([][2]string, error) {
	rgs, err := tx.Scopes(kindRG)
	if err != nil {
		return nil, err
	}
	mcs, err := tx.Scopes(kindCacheCluster)
	pairs := append(rgs, mcs...)
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0]+"/"+a[1], b[0]+"/"+b[1]) })
	return slices.Compact(pairs), err
}

// installMiB is the memory a node's slot has beyond its node type's, for
// the first boot's apt-get.
const installMiB = 256

// Contribute implements desired.Contributor: a slot per node and the
// group's names, visible in its VPC only.
func (s *Service) Contribute(tx *store.Tx, ds desired.Scope, w *desired.World) error {
	sc := scope{account: ds.Account, region: ds.Region}
	rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
	if err != nil {
		return err
	}
	for _, rg := range rgs {
		pg, err := loadParamGroup(tx, sc, rg.ParamGroup)
		if err != nil {
			return err
		}
		target := pg
		if rg.Target != nil {
			if target, err = loadParamGroup(tx, sc, rg.Target.ParamGroup); err != nil {
				return err
			}
		}
		var replicas, cfg []netip.Addr
		for _, n := range rg.Nodes {
			// A node replaced runs with the change's parameters.
			npg := pg
			if n.Type != "" {
				npg = target
			}
			slot, err := nodeSlot(sc, rg, n, sc.slotID(n.Cluster, n.Gen), n.ENI, n.IP, npg, n.nodeType(rg))
			if err != nil {
				return err
			}
			// A deleting group's nodes run until its final snapshot is taken.
			slot.Running = rg.Status != "deleting" && n.Status != "deleting" || rg.FinalSnapshot != ""
			slot.Metrics = nodeMetrics(n.Cluster, "0001")
			w.Slots = append(w.Slots, slot)
			if r := n.Next; r != nil {
				slot, err := nodeSlot(sc, rg, n, sc.slotID(n.Cluster, r.Gen), r.ENI, r.IP, target, rg.Target.NodeType)
				if err != nil {
					return err
				}
				slot.Running = true
				w.Slots = append(w.Slots, slot)
			}
			if n.Status == "deleting" {
				continue
			}
			ip := netip.MustParseAddr(n.IP)
			w.Names = append(w.Names, &desired.Name{Name: sc.nodeName(rg.ID, n.Cluster), VPCs: []string{rg.VPC}, Addrs: []netip.Addr{ip}})
			if rg.ClusterMode {
				// Any node answers a cluster client's first question.
				cfg = append(cfg, ip)
				continue
			}
			if n.Role == "primary" {
				w.Names = append(w.Names, &desired.Name{Name: sc.primaryName(rg.ID), VPCs: []string{rg.VPC}, Addrs: []netip.Addr{ip}})
			} else {
				replicas = append(replicas, ip)
			}
		}
		if rg.ClusterMode {
			w.Names = append(w.Names, &desired.Name{Name: sc.clusterCfgName(rg.ID), VPCs: []string{rg.VPC}, Addrs: cfg})
			continue
		}
		if len(replicas) == 0 && rg.primary() != nil { // a lone primary answers reads too
			replicas = []netip.Addr{netip.MustParseAddr(rg.primary().IP)}
		}
		w.Names = append(w.Names, &desired.Name{Name: sc.readerName(rg.ID), VPCs: []string{rg.VPC}, Addrs: replicas})
	}
	return s.contributeMemcached(tx, sc, w)
}

// nodeMetrics names a node's host-level metrics as ElastiCache publishes
// them, per cache cluster and node (the engine's own, such as
// CurrConnections or CacheHits, are not published).
func nodeMetrics(cluster, node string) *desired.SlotMetrics {
	return &desired.SlotMetrics{Namespace: "AWS/ElastiCache", Dimensions: map[string]string{"CacheClusterId": cluster, "CacheNodeId": node},
		CPU: "CPUUtilization", FreeMemory: "FreeableMemory", NetworkIn: "NetworkBytesIn", NetworkOut: "NetworkBytesOut"}
}

//go:embed node.sh.tmpl
var nodeScriptText string

var nodeScriptTmpl = template.Must(template.New("node").Parse(nodeScriptText))

// nodeSlot is the slot of a node n (or of its replacement) of a type, at
// an interface and address.
func nodeSlot(sc scope, rg *replicationGroup, n *node, id, eni, ip string, pg *paramGroup, typ string) (*desired.Slot, error) {
	nt := nodeTypes[typ]
	// The group's first node, made with it, is the one a restore loads.
	restore := rg.Restore != "" && id == sc.slotID(rg.ID+"-001", 0)
	var join *clusterJoin
	if rg.ClusterMode {
		var err error
		if join, err = rg.joinOf(n); err != nil {
			return nil, err
		}
	}
	script, err := nodeScript(sc, rg, ip, pg, nt, restore, join)
	return &desired.Slot{ID: id, Account: sc.account, Region: sc.region, Owner: "elasticache", ENI: eni,
		VCPUs: nt.vcpus, MemoryMiB: nt.memoryMiB + installMiB, Script: script}, err
}

// nodeScript is a node's first boot: Debian's redis-server configured
// from the parameter group, and the unit that follows the primary
// endpoint, or with cluster mode the node's join to the cluster.
func nodeScript(sc scope, rg *replicationGroup, ip string, pg *paramGroup, nt nodeType, restore bool, join *clusterJoin) ([]byte, error) {
	values := pg.effective()
	reserved, _ := strconv.Atoi(values["reserved-memory-percent"])
	var conf []string
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if p, _ := familyParam(pg.Family, name); p.Redis {
			conf = append(conf, fmt.Sprintf("%s %q", name, values[name]))
		}
	}
	var b bytes.Buffer
	err := nodeScriptTmpl.Execute(&b, map[string]any{
		"IP": ip, "Port": rg.Port, "TLS": rg.TLS, "AuthToken": rg.AuthToken, "Primary": sc.primaryName(rg.ID),
		"MaxMemory": int64(nt.memoryMiB) * (100 - int64(reserved)) / 100 * 1024 * 1024, "Params": conf,
		"Restore": restore, "RestoreDir": restoreDir, "Join": join,
	})
	return b.Bytes(), err
}
