package rds

import (
	"context"
	"slices"
	"strings"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
)

// engineVersion is one version RDS offers. mysql's and mariadb's run
// Debian's MariaDB (10.11 in bookworm): mysql's 8.0.x are accepted and
// kept as asked, but what answers is MariaDB. postgres's run Debian's
// PostgreSQL 15 whatever the version asked.
type engineVersion struct {
	Engine, Version, Family string
	Default                 bool
}

var engineVersions = []engineVersion{
	{"mariadb", "10.11.6", "mariadb10.11", false},
	{"mariadb", "10.11.8", "mariadb10.11", false},
	{"mariadb", "10.11.9", "mariadb10.11", false},
	{"mariadb", "10.11.10", "mariadb10.11", true},
	{"mysql", "8.0.32", "mysql8.0", false},
	{"mysql", "8.0.33", "mysql8.0", false},
	{"mysql", "8.0.34", "mysql8.0", false},
	{"mysql", "8.0.35", "mysql8.0", false},
	{"mysql", "8.0.36", "mysql8.0", false},
	{"mysql", "8.0.37", "mysql8.0", false},
	{"mysql", "8.0.39", "mysql8.0", false},
	{"mysql", "8.0.40", "mysql8.0", true},
	{"postgres", "14.12", "postgres14", false},
	{"postgres", "14.13", "postgres14", false},
	{"postgres", "15.7", "postgres15", false},
	{"postgres", "15.8", "postgres15", false},
	{"postgres", "16.3", "postgres16", false},
	{"postgres", "16.4", "postgres16", true},
}

var engineDescriptions = map[string]string{"mysql": "MySQL Community Edition", "mariadb": "MariaDB Community Edition", "postgres": "PostgreSQL"}

// logTypes are what an engine's logs exported to CloudWatch Logs are called.
var logTypes = map[string][]string{"postgres": {"postgresql", "upgrade"}}

// findVersion returns the engine's version: the default when version is
// empty, the newest of a major version ("8.0"), or exactly the one named.
func findVersion(engine, version string) (engineVersion, bool) {
	var found engineVersion
	ok := false
	for _, v := range engineVersions {
		if v.Engine != engine {
			continue
		}
		switch {
		case version == "" && v.Default, v.Version == version:
			return v, true
		case version != "" && strings.HasPrefix(v.Version, version+"."):
			found, ok = v, true // the list is oldest first: the last is the newest
		}
	}
	return found, ok
}

// instanceClass is a db.* class: its vCPUs and memory become the node's
// cgroup limits.
type instanceClass struct {
	Name      string
	VCPUs     int
	MemoryMiB int
}

var instanceClasses = []instanceClass{
	{"db.t2.micro", 1, 1024}, {"db.t2.small", 1, 2048}, {"db.t2.medium", 2, 4096},
	{"db.t3.micro", 2, 1024}, {"db.t3.small", 2, 2048}, {"db.t3.medium", 2, 4096}, {"db.t3.large", 2, 8192},
	{"db.t4g.micro", 2, 1024}, {"db.t4g.small", 2, 2048}, {"db.t4g.medium", 2, 4096},
	{"db.m5.large", 2, 8192}, {"db.m5.xlarge", 4, 16384},
	{"db.r5.large", 2, 16384},
}

func findClass(name string) (instanceClass, bool) {
	i := slices.IndexFunc(instanceClasses, func(c instanceClass) bool { return c.Name == name })
	if i < 0 {
		return instanceClass{}, false
	}
	return instanceClasses[i], true
}

func (s *Service) DescribeDBEngineVersions(ctx context.Context, in *rdsapi.DescribeDBEngineVersionsMessage) (*rdsapi.DBEngineVersionMessage, error) {
	engine, version, family := deref(in.Engine), deref(in.EngineVersion), deref(in.DBParameterGroupFamily)
	if engine != "" && engineDescriptions[engine] == "" {
		return nil, invalidValue("Invalid DB engine")
	}
	var list []engineVersion
	for _, v := range engineVersions {
		if (engine != "" && v.Engine != engine) || (family != "" && v.Family != family) ||
			(version != "" && v.Version != version && !strings.HasPrefix(v.Version, version+".")) ||
			(deref(in.DefaultOnly) && !v.Default) {
			continue
		}
		list = append(list, v)
	}
	list, next, err := page(list, func(v engineVersion) string { return v.Engine + " " + v.Version }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBEngineVersionMessage{Marker: next, DBEngineVersions: []*rdsapi.DBEngineVersion{}}
	for _, v := range list {
		ev := &rdsapi.DBEngineVersion{
			Engine: ptr(v.Engine), EngineVersion: ptr(v.Version), DBParameterGroupFamily: ptr(v.Family),
			DBEngineDescription: ptr(engineDescriptions[v.Engine]), DBEngineVersionDescription: ptr(descriptionOf(v)),
			MajorEngineVersion: ptr(v.Family[len(v.Engine):]), Status: ptr("available"),
			SupportsReadReplica: ptr(true), SupportsLogExportsToCloudwatchLogs: ptr(true),
		}
		types, ok := logTypes[v.Engine]
		if !ok {
			types = []string{"audit", "error", "general", "slowquery"}
		}
		for _, t := range types {
			ev.ExportableLogTypes = append(ev.ExportableLogTypes, ptr(t))
		}
		for _, t := range engineVersions {
			if t.Engine == v.Engine && versionLess(v.Version, t.Version) {
				ev.ValidUpgradeTarget = append(ev.ValidUpgradeTarget, &rdsapi.UpgradeTarget{Engine: ptr(t.Engine), EngineVersion: ptr(t.Version),
					Description: ptr(descriptionOf(t)), AutoUpgrade: ptr(false), IsMajorVersionUpgrade: ptr(t.Family != v.Family)})
			}
		}
		out.DBEngineVersions = append(out.DBEngineVersions, ev)
	}
	return out, nil
}

func descriptionOf(v engineVersion) string {
	switch v.Engine {
	case "mysql":
		return "MySQL " + v.Version
	case "postgres":
		return "PostgreSQL " + v.Version + "-R1"
	}
	return "MariaDB " + v.Version
}

// versionLess compares dotted versions numerically.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		if len(as[i]) != len(bs[i]) {
			return len(as[i]) < len(bs[i])
		}
		if as[i] != bs[i] {
			return as[i] < bs[i]
		}
	}
	return len(as) < len(bs)
}

func (s *Service) DescribeOrderableDBInstanceOptions(ctx context.Context, in *rdsapi.DescribeOrderableDBInstanceOptionsMessage) (*rdsapi.OrderableDBInstanceOptionsMessage, error) {
	engine, version, class := deref(in.Engine), deref(in.EngineVersion), deref(in.DBInstanceClass)
	if engineDescriptions[engine] == "" {
		return nil, invalidValue("Invalid DB engine")
	}
	region := scopeOf(ctx).region
	var list []*rdsapi.OrderableDBInstanceOption
	for _, v := range engineVersions {
		if v.Engine != engine || (version != "" && v.Version != version) {
			continue
		}
		for _, c := range instanceClasses {
			if class != "" && c.Name != class {
				continue
			}
			o := &rdsapi.OrderableDBInstanceOption{
				Engine: ptr(engine), EngineVersion: ptr(v.Version), DBInstanceClass: ptr(c.Name),
				LicenseModel: ptr("general-public-license"), StorageType: ptr("gp2"), Vpc: ptr(true),
				MultiAZCapable: ptr(false), ReadReplicaCapable: ptr(false), MinStorageSize: ptr(int64(20)), MaxStorageSize: ptr(int64(6144)),
				SupportsStorageEncryption: ptr(false), SupportsIops: ptr(false), SupportsStorageAutoscaling: ptr(false),
				SupportedNetworkTypes: []*string{ptr("IPV4")},
			}
			for _, az := range "abcd" {
				o.AvailabilityZones = append(o.AvailabilityZones, &rdsapi.AvailabilityZone{Name: ptr(region + string(az))})
			}
			list = append(list, o)
		}
	}
	list, next, err := page(list, func(o *rdsapi.OrderableDBInstanceOption) string { return *o.EngineVersion + " " + *o.DBInstanceClass }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	return &rdsapi.OrderableDBInstanceOptionsMessage{Marker: next, OrderableDBInstanceOptions: list}, nil
}
