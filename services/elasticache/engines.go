package elasticache

import (
	"context"
	_ "embed"
	"encoding/json"
	"slices"
	"strings"

	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
)

// The engines run are Debian 12's: redis-server 7.0 for every Redis
// (and Valkey) version accepted, memcached 1.6 for Memcached's.

// engineVersion is one version AWS offers.
type engineVersion struct {
	engine, version, family string
}

var engineVersions = []engineVersion{
	{"redis", "7.1", "redis7"},
	{"redis", "7.0", "redis7"},
	{"memcached", "1.6.22", "memcached1.6"},
	{"memcached", "1.6.17", "memcached1.6"},
}

// familyOf is the parameter group family of a Redis version.
func familyOf(version string) string {
	v, _ := lookupVersion("redis", version)
	return v.family
}

// defaultVersion is what an engine gets when no version is asked.
var defaultVersion = map[string]string{"redis": "7.1", "memcached": "1.6.22"}

// lookupVersion finds an engine's version; "7" or "7.x" picks the newest
// of that major version as AWS does.
func lookupVersion(engine, version string) (engineVersion, bool) {
	if version == "" {
		version = defaultVersion[engine]
	}
	prefix := strings.TrimSuffix(version, ".x")
	for _, v := range engineVersions {
		if v.engine == engine && (v.version == version || strings.HasPrefix(v.version, prefix+".")) {
			return v, true
		}
	}
	return engineVersion{}, false
}

func (s *Service) describeEngineVersions(_ context.Context, in *ecapi.DescribeCacheEngineVersionsMessage) (*ecapi.CacheEngineVersionMessage, error) {
	var all []*ecapi.CacheEngineVersion
	for _, v := range engineVersions {
		if e := deref(in.Engine); e != "" && e != v.engine {
			continue
		}
		if ev := deref(in.EngineVersion); ev != "" && ev != v.version {
			continue
		}
		if f := deref(in.CacheParameterGroupFamily); f != "" && f != v.family {
			continue
		}
		if in.DefaultOnly != nil && *in.DefaultOnly && defaultVersion[v.engine] != v.version {
			continue
		}
		name := map[string]string{"redis": "Redis", "memcached": "memcached"}[v.engine]
		all = append(all, &ecapi.CacheEngineVersion{Engine: str(v.engine), EngineVersion: str(v.version),
			CacheParameterGroupFamily: str(v.family), CacheEngineDescription: str(name),
			CacheEngineVersionDescription: str(name + " version " + v.version)})
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.CacheEngineVersionMessage{CacheEngineVersions: out, Marker: next}, err
}

// nodeType is a cache node type's size.
type nodeType struct {
	vcpus     int
	memoryMiB int
}

// nodeTypes are the current node types with their memory, as AWS lists
// them.
var nodeTypes = map[string]nodeType{
	"cache.t2.micro": {1, 568}, "cache.t2.small": {1, 1587}, "cache.t2.medium": {2, 3297},
	"cache.t3.micro": {2, 512}, "cache.t3.small": {2, 1403}, "cache.t3.medium": {2, 3164},
	"cache.t4g.micro": {2, 512}, "cache.t4g.small": {2, 1403}, "cache.t4g.medium": {2, 3164},
	"cache.m5.large": {2, 6533}, "cache.m5.xlarge": {4, 13240}, "cache.m6g.large": {2, 6533}, "cache.m6g.xlarge": {4, 13240},
	"cache.m7g.large": {2, 6533}, "cache.m7g.xlarge": {4, 13240},
	"cache.r5.large": {2, 13384}, "cache.r5.xlarge": {4, 26952}, "cache.r6g.large": {2, 13384}, "cache.r6g.xlarge": {4, 26952},
	"cache.r7g.large": {2, 13384}, "cache.r7g.xlarge": {4, 26952},
}

// param is one engine parameter of a family with its default.
type param struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Type        string `json:"type"`
	Allowed     string `json:"allowed"`
	Description string `json:"description"`
	Change      string `json:"change"`
	Min         string `json:"min"`
	Modifiable  *bool  `json:"modifiable"`
	// Redis marks a parameter that is a redis.conf directive of the same
	// name, written into the node's configuration.
	Redis bool `json:"redis"`
}

func (p param) modifiable() bool { return p.Modifiable == nil || *p.Modifiable }

//go:embed parameters.json
var parametersJSON []byte

// families holds each parameter group family's parameters, by name order.
var families = func() map[string][]param {
	var m map[string][]param
	if err := json.Unmarshal(parametersJSON, &m); err != nil {
		panic("elasticache: parameters.json: " + err.Error())
	}
	for _, ps := range m {
		slices.SortFunc(ps, func(a, b param) int { return strings.Compare(a.Name, b.Name) })
	}
	return m
}()

// familyParam finds a family's parameter by name.
func familyParam(family, name string) (param, bool) {
	for _, p := range families[family] {
		if p.Name == name {
			return p, true
		}
	}
	return param{}, false
}
