package rds

import (
	_ "embed"
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"
	"text/template"
)

//go:embed node.sh.tmpl
var nodeScriptText string

var nodeScriptTmpl = template.Must(template.New("node").Parse(nodeScriptText))

// nodeSpec is what a node's first boot needs to know of its place.
type nodeSpec struct {
	Slot string
	IP   netip.Addr
	// Primary makes the node the origin of the instance's data (its master
	// user and database); the others start as copies.
	Primary bool
	// Follow is the name whose address is the primary: the node it
	// resolves to is writable, the others replicate it.
	Follow string
	// SemiSync makes the node acknowledge its primary's commits (a
	// Multi-AZ standby); read replicas do not.
	SemiSync bool
	// ReplNets are the networks PostgreSQL admits replication from (its
	// pg_hba.conf): the other nodes' subnets.
	ReplNets []netip.Prefix
}

// firstBoot is a node's first-boot script (node.sh.tmpl): Debian's
// MariaDB from the package mirror, listening on the instance's port on
// every address, the parameter group's values in its configuration, and
// its role kept by rds-follow. The init starts MariaDB and rds-follow at
// every later boot (their units are enabled), from the same disk.
func firstBoot(r *instanceRecord, n nodeSpec, pg *paramGroupRecord, class instanceClass) string {
	if r.Engine == "postgres" {
		return pgFirstBoot(r, n, pg, class)
	}
	var b strings.Builder
	err := nodeScriptTmpl.Execute(&b, map[string]any{
		"ID": r.ID, "Engine": r.Engine, "EngineVersion": r.EngineVersion, "Port": r.Port, "Config": configLines(pg, class),
		"Slot": n.Slot, "IP": n.IP, "Primary": n.Primary, "Follow": n.Follow, "SemiSync": n.SemiSync, "ServerID": serverID(n.Slot),
		"ReplPassword": r.ReplPassword, "MasterUsername": r.MasterUsername, "MasterPassword": sqlString(r.Password), "DBName": r.DBName,
		"RestoreWait": restoreWait(r, n),
	})
	if err != nil {
		panic("rds: node.sh.tmpl: " + err.Error()) // the template and its data are ours
	}
	return b.String()
}

// serverID is a node's MariaDB server_id, which its replicas tell apart:
// from its slot's name, never 0 (which refuses replication).
func serverID(slot string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(slot))
	return h.Sum32()%(1<<31-1) + 1
}

// configLines are the group's values as MariaDB's configuration lines.
func configLines(pg *paramGroupRecord, class instanceClass) []string {
	var lines []string
	for _, kv := range paramValues(pg, class) {
		lines = append(lines, kv[0]+" = "+kv[1])
	}
	return lines
}

// paramValues are the group's values (the user's over the family's
// defaults) as name and value, formulas computed for the class's memory,
// in name order.
func paramValues(pg *paramGroupRecord, class instanceClass) [][2]string {
	memory := uint64(class.MemoryMiB) << 20
	var out [][2]string
	for _, p := range paramsOf(pg.Family) {
		v, ok := pg.Values[p.Name]
		if !ok {
			v = p.Value
		}
		if v == "" {
			continue
		}
		if isFormula(v) {
			n, ok := evalFormula(v, memory)
			if !ok {
				continue
			}
			v = fmt.Sprint(n)
		}
		out = append(out, [2]string{p.Name, v})
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return out
}

// sqlString escapes s for a single-quoted SQL string.
func sqlString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s)
}
