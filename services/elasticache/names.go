package elasticache

import (
	"fmt"
	"strings"
)

// AWS's endpoint names for a replication group with cluster mode
// disabled: master.<id>.<hash>.<region code>.cache.amazonaws.com for the
// primary, replica.<id>... for the reader endpoint and <id>-00N.<id>...
// for each node.

// regionCodes are the region codes that do not follow the rule:
// ElastiCache names Seoul's and Osaka's apn2 and apn3 (Tokyo's is apne1).
var regionCodes = map[string]string{"ap-northeast-2": "apn2", "ap-northeast-3": "apn3"}

// regionCode is the short form of a region in ElastiCache's endpoints:
// us-east-1 is use1, eu-central-1 euc1, ap-southeast-1 apse1.
func regionCode(region string) string {
	if c, ok := regionCodes[region]; ok {
		return c
	}
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region
	}
	dir := map[string]string{"east": "e", "west": "w", "north": "n", "south": "s", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}
	code := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		if d, ok := dir[p]; ok {
			code += d
		} else {
			code += p
		}
	}
	return code + parts[len(parts)-1]
}

// domain is what every endpoint name of a group ends with.
func (sc scope) domain(rg string) string {
	return fmt.Sprintf("%s.%s.%s.cache.amazonaws.com", rg, sc.hash(), regionCode(sc.region))
}

func (sc scope) primaryName(rg string) string { return "master." + sc.domain(rg) }
func (sc scope) readerName(rg string) string  { return "replica." + sc.domain(rg) }
func (sc scope) nodeName(rg, cluster string) string {
	return cluster + "." + sc.domain(rg)
}

// clusterCfgName is a cluster-mode group's configuration endpoint,
// clustercfg.<id>.<hash>.<region code>.cache.amazonaws.com (its nodes are
// <id>-<shard>-<n>.<id>...).
func (sc scope) clusterCfgName(rg string) string { return "clustercfg." + sc.domain(rg) }

// A Memcached cluster's names: <id>.<hash>.cfg.<region code>... for the
// configuration endpoint, <id>.<hash>.0001.<region code>... per node.
func (sc scope) configName(cluster string) string {
	return fmt.Sprintf("%s.%s.cfg.%s.cache.amazonaws.com", cluster, sc.hash(), regionCode(sc.region))
}

func (sc scope) memcachedNodeName(cluster, node string) string {
	return fmt.Sprintf("%s.%s.%s.%s.cache.amazonaws.com", cluster, sc.hash(), node, regionCode(sc.region))
}
