package rds

import (
	"context"
	"slices"
	"strings"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// Option groups are kept and shown, and an instance can name one, but no
// option reaches the engine: the MariaDB audit plugin and the memcached
// interface are not installed (said in docs/architecture.md). Each engine
// and major version has its default group, default:<engine>-<major>,
// which exists without being made and cannot be changed.

const kindOptionGroup = "rds:option-group"

type optionGroupRecord struct {
	Name, Engine, Major, Description string
	Options                          []optionRecord
	Tags                             []tag
}

type optionRecord struct {
	Name, Version string
	Port          int64
	Settings      [][2]string
}

// engineOptions are the options RDS offers per engine.
var engineOptions = map[string][]string{
	"mysql":   {"MARIADB_AUDIT_PLUGIN", "MEMCACHED"},
	"mariadb": {"MARIADB_AUDIT_PLUGIN"},
}

// majorVersionOf is an engine version's major version as option groups
// name it: "8.0" for mysql 8.0.x, "10.11" for mariadb, "16" for postgres.
func majorVersionOf(engine, version string) string {
	v, _ := findVersion(engine, version)
	return strings.TrimPrefix(v.Family, engine)
}

func defaultOptionGroupName(engine, major string) string {
	return "default:" + engine + "-" + strings.ReplaceAll(major, ".", "-")
}

// loadOptionGroup finds a group by name: one made, or a default one.
func loadOptionGroup(tx *store.Tx, sc scope, name string) (*optionGroupRecord, error) {
	name = strings.ToLower(name)
	if rest, ok := strings.CutPrefix(name, "default:"); ok {
		for _, v := range engineVersions {
			major := strings.TrimPrefix(v.Family, v.Engine)
			if defaultOptionGroupName(v.Engine, major) == "default:"+rest {
				return &optionGroupRecord{Name: name, Engine: v.Engine, Major: major, Description: "Default option group for " + v.Engine + " " + major}, nil
			}
		}
	}
	g, ok, err := store.Get[optionGroupRecord](tx, sc.key(kindOptionGroup, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault("OptionGroupNotFoundFault", "Specified OptionGroupName: %s not found.", name)
	}
	return g, nil
}

func (g *optionGroupRecord) api(sc scope, vpc string) *rdsapi.OptionGroup {
	out := &rdsapi.OptionGroup{OptionGroupName: ptr(g.Name), OptionGroupDescription: ptr(g.Description), EngineName: ptr(g.Engine),
		MajorEngineVersion: ptr(g.Major), OptionGroupArn: ptr(sc.arn("og", g.Name)), AllowsVpcAndNonVpcInstanceMemberships: ptr(true),
		Options: []*rdsapi.Option{}}
	if vpc != "" {
		out.VpcId = ptr(vpc)
	}
	for _, o := range g.Options {
		opt := &rdsapi.Option{OptionName: ptr(o.Name), OptionDescription: ptr(o.Name), Persistent: ptr(false), Permanent: ptr(false),
			DBSecurityGroupMemberships: []*rdsapi.DBSecurityGroupMembership{}, VpcSecurityGroupMemberships: []*rdsapi.VpcSecurityGroupMembership{}}
		if o.Version != "" {
			opt.OptionVersion = ptr(o.Version)
		}
		if o.Port != 0 {
			opt.Port = ptr(o.Port)
		}
		for _, kv := range o.Settings {
			opt.OptionSettings = append(opt.OptionSettings, &rdsapi.OptionSetting{Name: ptr(kv[0]), Value: ptr(kv[1])})
		}
		out.Options = append(out.Options, opt)
	}
	return out
}

func (s *Service) CreateOptionGroup(ctx context.Context, in *rdsapi.CreateOptionGroupMessage) (*rdsapi.CreateOptionGroupResult, error) {
	sc := scopeOf(ctx)
	g := &optionGroupRecord{Name: strings.ToLower(deref(in.OptionGroupName)), Engine: deref(in.EngineName), Major: deref(in.MajorEngineVersion),
		Description: deref(in.OptionGroupDescription), Tags: toTags(in.Tags)}
	if !validIdentifier(g.Name, 255) {
		return nil, notAnIdentifier("OptionGroupName")
	}
	if engineDescriptions[g.Engine] == "" {
		return nil, invalidValue("Invalid DB engine: %s", g.Engine)
	}
	if !slices.ContainsFunc(engineVersions, func(v engineVersion) bool { return v.Engine == g.Engine && v.Family == g.Engine+g.Major }) {
		return nil, invalidCombination("Cannot find major version %s for %s", g.Major, g.Engine)
	}
	if g.Description == "" {
		return nil, invalidValue("The parameter OptionGroupDescription must be provided and must not be blank.")
	}
	err := s.store.Update(func(tx *store.Tx) error {
		if ok, err := tx.Get(sc.key(kindOptionGroup, g.Name), &optionGroupRecord{}); err != nil {
			return err
		} else if ok {
			return fault("OptionGroupAlreadyExistsFault", "Option group %s already exists.", g.Name)
		}
		return tx.Put(sc.key(kindOptionGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateOptionGroupResult{OptionGroup: g.api(sc, "")}, nil
}

func (s *Service) DescribeOptionGroups(ctx context.Context, in *rdsapi.DescribeOptionGroupsMessage) (*rdsapi.OptionGroups, error) {
	sc := scopeOf(ctx)
	var list []*optionGroupRecord
	err := s.store.View(func(tx *store.Tx) error {
		if name := deref(in.OptionGroupName); name != "" {
			g, err := loadOptionGroup(tx, sc, name)
			list = []*optionGroupRecord{g}
			return err
		}
		made, err := store.ListAll[optionGroupRecord](tx, sc.account, sc.region, kindOptionGroup)
		if err != nil {
			return err
		}
		// The default groups of the engines the account uses here.
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, r := range insts {
			major := majorVersionOf(r.Engine, r.EngineVersion)
			if name := defaultOptionGroupName(r.Engine, major); !seen[name] {
				seen[name] = true
				list = append(list, &optionGroupRecord{Name: name, Engine: r.Engine, Major: major, Description: "Default option group for " + r.Engine + " " + major})
			}
		}
		list = append(list, made...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(list, func(g *optionGroupRecord) bool {
		return (in.EngineName != nil && g.Engine != *in.EngineName) || (in.MajorEngineVersion != nil && g.Major != *in.MajorEngineVersion)
	})
	slices.SortFunc(list, func(a, b *optionGroupRecord) int { return strings.Compare(a.Name, b.Name) })
	items, marker, err := page(list, func(g *optionGroupRecord) string { return g.Name }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	out := &rdsapi.OptionGroups{OptionGroupsList: []*rdsapi.OptionGroup{}, Marker: marker}
	for _, g := range items {
		out.OptionGroupsList = append(out.OptionGroupsList, g.api(sc, ""))
	}
	return out, nil
}

func (s *Service) ModifyOptionGroup(ctx context.Context, in *rdsapi.ModifyOptionGroupMessage) (*rdsapi.ModifyOptionGroupResult, error) {
	sc := scopeOf(ctx)
	var g *optionGroupRecord
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if g, err = loadOptionGroup(tx, sc, deref(in.OptionGroupName)); err != nil {
			return err
		}
		if strings.HasPrefix(g.Name, "default:") {
			return invalidValue("Default option groups cannot be modified.")
		}
		for _, oc := range in.OptionsToInclude {
			name := deref(oc.OptionName)
			if !slices.Contains(engineOptions[g.Engine], name) {
				return invalidCombination("Unknown option: %s", name)
			}
			o := optionRecord{Name: name, Version: deref(oc.OptionVersion), Port: deref(oc.Port)}
			for _, st := range oc.OptionSettings {
				o.Settings = append(o.Settings, [2]string{deref(st.Name), deref(st.Value)})
			}
			g.Options = slices.DeleteFunc(g.Options, func(have optionRecord) bool { return have.Name == name })
			g.Options = append(g.Options, o)
		}
		for _, p := range in.OptionsToRemove {
			name := deref(p)
			n := len(g.Options)
			g.Options = slices.DeleteFunc(g.Options, func(have optionRecord) bool { return have.Name == name })
			if len(g.Options) == n {
				return invalidValue("Option %s does not exist in option group %s.", name, g.Name)
			}
		}
		return tx.Put(sc.key(kindOptionGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.ModifyOptionGroupResult{OptionGroup: g.api(sc, "")}, nil
}

func (s *Service) DeleteOptionGroup(ctx context.Context, in *rdsapi.DeleteOptionGroupMessage) (*rdsapi.DeleteOptionGroupOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadOptionGroup(tx, sc, deref(in.OptionGroupName))
		if err != nil {
			return err
		}
		if strings.HasPrefix(g.Name, "default:") {
			return invalidValue("Default option groups cannot be deleted.")
		}
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, r := range insts {
			if r.OptionGroup == g.Name {
				return fault("InvalidOptionGroupStateFault", "The option group '%s' cannot be deleted because it is in use.", g.Name)
			}
		}
		_, err = tx.Delete(sc.key(kindOptionGroup, g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteOptionGroupOutput{}, nil
}

// optionGroupFor checks the option group an instance names (its engine
// and major version must be the instance's); "" is the default group.
func optionGroupFor(tx *store.Tx, sc scope, name, engine, version string) (string, error) {
	if name == "" {
		return "", nil
	}
	g, err := loadOptionGroup(tx, sc, name)
	if err != nil {
		return "", err
	}
	if major := majorVersionOf(engine, version); g.Engine != engine || g.Major != major {
		return "", invalidCombination("The option group %s is for %s %s; the DB instance is %s %s.", g.Name, g.Engine, g.Major, engine, major)
	}
	return g.Name, nil
}
