package elasticache

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// paramGroup is a cache parameter group: a family's parameters with the
// values the user set (Values); the others keep the family's defaults.
// Each family has a default group, default.<family>, which is not stored
// and cannot be changed.
type paramGroup struct {
	Name, Family, Description string
	Values                    map[string]string
}

func (s *Service) registerParameterGroups(h *ecapi.Handlers) {
	h.CreateCacheParameterGroup = s.createParamGroup
	h.DescribeCacheParameterGroups = s.describeParamGroups
	h.ModifyCacheParameterGroup = s.modifyParamGroup
	h.ResetCacheParameterGroup = s.resetParamGroup
	h.DeleteCacheParameterGroup = s.deleteParamGroup
	h.DescribeCacheParameters = s.describeParameters
}

func paramGroupNotFound(name string) error {
	return api.NewError(404, "CacheParameterGroupNotFound", "CacheParameterGroup not found: %s", name)
}

// clusterOnSuffix ends the name of a Redis family's second default
// group, default.<family>.cluster.on, which has cluster-enabled yes.
const clusterOnSuffix = ".cluster.on"

// defaultGroupFamily returns the family of a default group's name.
func defaultGroupFamily(name string) (string, bool) {
	f, ok := strings.CutPrefix(name, "default.")
	if base, on := strings.CutSuffix(f, clusterOnSuffix); on && strings.HasPrefix(base, "redis") {
		f = base
	}
	if _, known := families[f]; ok && known {
		return f, true
	}
	return "", false
}

// defaultGroups are a family's default groups.
func defaultGroups(family string) []*paramGroup {
	out := []*paramGroup{{Name: "default." + family, Family: family, Description: "Default parameter group for " + family}}
	if strings.HasPrefix(family, "redis") {
		out = append(out, &paramGroup{Name: "default." + family + clusterOnSuffix, Family: family,
			Description: "Customized default parameter group for " + family + " with cluster mode on",
			Values:      map[string]string{"cluster-enabled": "yes"}})
	}
	return out
}

// clusterEnabled says whether a group's nodes run Redis Cluster.
func (g *paramGroup) clusterEnabled() bool { return g.effective()["cluster-enabled"] == "yes" }

func loadParamGroup(tx *store.Tx, sc scope, name string) (*paramGroup, error) {
	name = strings.ToLower(name)
	if f, ok := defaultGroupFamily(name); ok {
		for _, g := range defaultGroups(f) {
			if g.Name == name {
				return g, nil
			}
		}
	}
	g, ok, err := store.Get[paramGroup](tx, sc.key(kindParamGroup, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, paramGroupNotFound(name)
	}
	return g, nil
}

func (sc scope) paramGroupOut(g *paramGroup) *ecapi.CacheParameterGroup {
	return &ecapi.CacheParameterGroup{ARN: str(sc.arn("parametergroup", g.Name)), CacheParameterGroupName: str(g.Name),
		CacheParameterGroupFamily: str(g.Family), Description: str(g.Description), IsGlobal: boolp(false)}
}

func (s *Service) createParamGroup(ctx context.Context, in *ecapi.CreateCacheParameterGroupMessage) (*ecapi.CreateCacheParameterGroupResult, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.CacheParameterGroupName))
	if err := checkName("CacheParameterGroupName", name, 255); err != nil {
		return nil, err
	}
	family := deref(in.CacheParameterGroupFamily)
	if _, ok := families[family]; !ok {
		return nil, invalidValue("The parameter CacheParameterGroupFamily %s is not a valid cache parameter group family.", family)
	}
	g := &paramGroup{Name: name, Family: family, Description: deref(in.Description), Values: map[string]string{}}
	err := s.store.Update(func(tx *store.Tx) error {
		if _, ok := defaultGroupFamily(name); ok {
			return api.Errorf("CacheParameterGroupAlreadyExists", "Cache parameter group %s already exists.", name)
		}
		if ok, err := tx.Get(sc.key(kindParamGroup, name), &paramGroup{}); err != nil || ok {
			if ok {
				return api.Errorf("CacheParameterGroupAlreadyExists", "Cache parameter group %s already exists.", name)
			}
			return err
		}
		if err := setTags(tx, sc, "parametergroup:"+name, in.Tags); err != nil {
			return err
		}
		return tx.Put(sc.key(kindParamGroup, name), g)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.CreateCacheParameterGroupResult{CacheParameterGroup: sc.paramGroupOut(g)}, nil
}

func (s *Service) describeParamGroups(ctx context.Context, in *ecapi.DescribeCacheParameterGroupsMessage) (*ecapi.CacheParameterGroupsMessage, error) {
	sc := scopeOf(ctx)
	var all []*ecapi.CacheParameterGroup
	err := s.store.View(func(tx *store.Tx) error {
		if name := deref(in.CacheParameterGroupName); name != "" {
			g, err := loadParamGroup(tx, sc, name)
			if err == nil {
				all = append(all, sc.paramGroupOut(g))
			}
			return err
		}
		for _, f := range slices.Sorted(maps.Keys(families)) {
			for _, g := range defaultGroups(f) {
				all = append(all, sc.paramGroupOut(g))
			}
		}
		gs, err := store.ListAll[paramGroup](tx, sc.account, sc.region, kindParamGroup)
		for _, g := range gs {
			all = append(all, sc.paramGroupOut(g))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.CacheParameterGroupsMessage{CacheParameterGroups: out, Marker: next}, err
}

// editable loads a group the user may change.
func editable(tx *store.Tx, sc scope, name string) (*paramGroup, error) {
	g, err := loadParamGroup(tx, sc, name)
	if err != nil {
		return nil, err
	}
	if _, ok := defaultGroupFamily(g.Name); ok {
		return nil, api.Errorf("InvalidCacheParameterGroupState", "Default parameter groups cannot be modified.")
	}
	if g.Values == nil {
		g.Values = map[string]string{}
	}
	return g, nil
}

func (s *Service) modifyParamGroup(ctx context.Context, in *ecapi.ModifyCacheParameterGroupMessage) (*ecapi.CacheParameterGroupNameMessage, error) {
	sc := scopeOf(ctx)
	var name string
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := editable(tx, sc, deref(in.CacheParameterGroupName))
		if err != nil {
			return err
		}
		if len(in.ParameterNameValues) == 0 {
			return invalidValue("The parameter ParameterNameValues must be provided.")
		}
		for _, nv := range in.ParameterNameValues {
			p, ok := familyParam(g.Family, deref(nv.ParameterName))
			if !ok {
				return invalidValue("Unknown parameter: %s", deref(nv.ParameterName))
			}
			if !p.modifiable() {
				return invalidValue("Parameter %s is not modifiable.", p.Name)
			}
			v := deref(nv.ParameterValue)
			if !allowed(p, v) {
				return invalidValue("Value %q for parameter %s is not valid. Allowed values are: %s", v, p.Name, p.Allowed)
			}
			g.Values[p.Name] = v
		}
		name = g.Name
		return tx.Put(sc.key(kindParamGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.CacheParameterGroupNameMessage{CacheParameterGroupName: str(name)}, nil
}

// allowed checks a value against a parameter's allowed values: a list of
// words, or integer ranges ("0,20-", "1-65000").
func allowed(p param, v string) bool {
	if p.Allowed == "" || p.Type == "string" && p.Allowed == "" {
		return true
	}
	for _, a := range strings.Split(p.Allowed, ",") {
		lo, hi, isRange := strings.Cut(a, "-")
		if !isRange || p.Type == "string" {
			if a == v {
				return true
			}
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return false
		}
		if (lo == "" || mustFloat(lo) <= f) && (hi == "" || f <= mustFloat(hi)) {
			return true
		}
	}
	return false
}

func mustFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func (s *Service) resetParamGroup(ctx context.Context, in *ecapi.ResetCacheParameterGroupMessage) (*ecapi.CacheParameterGroupNameMessage, error) {
	sc := scopeOf(ctx)
	var name string
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := editable(tx, sc, deref(in.CacheParameterGroupName))
		if err != nil {
			return err
		}
		all := in.ResetAllParameters != nil && *in.ResetAllParameters
		switch {
		case all && len(in.ParameterNameValues) > 0:
			return invalidCombination("ResetAllParameters and ParameterNameValues cannot both be specified.")
		case all:
			g.Values = map[string]string{}
		case len(in.ParameterNameValues) == 0:
			return invalidCombination("Either ResetAllParameters or ParameterNameValues must be specified.")
		}
		for _, nv := range in.ParameterNameValues {
			if _, ok := familyParam(g.Family, deref(nv.ParameterName)); !ok {
				return invalidValue("Unknown parameter: %s", deref(nv.ParameterName))
			}
			delete(g.Values, deref(nv.ParameterName))
		}
		name = g.Name
		return tx.Put(sc.key(kindParamGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.CacheParameterGroupNameMessage{CacheParameterGroupName: str(name)}, nil
}

func (s *Service) deleteParamGroup(ctx context.Context, in *ecapi.DeleteCacheParameterGroupMessage) (*ecapi.DeleteCacheParameterGroupOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		name := strings.ToLower(deref(in.CacheParameterGroupName))
		if _, ok := defaultGroupFamily(name); ok {
			return api.Errorf("InvalidCacheParameterGroupState", "Default parameter group %s cannot be deleted.", name)
		}
		g, err := loadParamGroup(tx, sc, name)
		if err != nil {
			return err
		}
		used, err := groupInUse(tx, sc, func(param, _ string) bool { return param == g.Name })
		if err != nil {
			return err
		}
		if used {
			return api.Errorf("InvalidCacheParameterGroupState", "Parameter group %s is in use by cache cluster(s).", g.Name)
		}
		if err := dropTags(tx, sc, "parametergroup:"+g.Name); err != nil {
			return err
		}
		_, err = tx.Delete(sc.key(kindParamGroup, g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.DeleteCacheParameterGroupOutput{}, nil
}

// effective returns every parameter's value in a group, defaults filled.
func (g *paramGroup) effective() map[string]string {
	out := map[string]string{}
	for _, p := range families[g.Family] {
		out[p.Name] = p.Value
	}
	maps.Copy(out, g.Values)
	return out
}

func (s *Service) describeParameters(ctx context.Context, in *ecapi.DescribeCacheParametersMessage) (*ecapi.CacheParameterGroupDetails, error) {
	sc := scopeOf(ctx)
	var all []*ecapi.Parameter
	err := s.store.View(func(tx *store.Tx) error {
		g, err := loadParamGroup(tx, sc, deref(in.CacheParameterGroupName))
		if err != nil {
			return err
		}
		for _, p := range families[g.Family] {
			value, source := p.Value, "system"
			if v, ok := g.Values[p.Name]; ok {
				value, source = v, "user"
			}
			if want := deref(in.Source); want != "" && want != source && !(want == "engine-default" && source == "system") {
				continue
			}
			out := &ecapi.Parameter{ParameterName: str(p.Name), DataType: str(p.Type), Description: str(p.Description),
				Source: str(source), IsModifiable: boolp(p.modifiable()), MinimumEngineVersion: str(p.Min), ChangeType: str(p.Change)}
			if value != "" {
				out.ParameterValue = str(value)
			}
			if p.Allowed != "" {
				out.AllowedValues = str(p.Allowed)
			}
			all = append(all, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.CacheParameterGroupDetails{Parameters: out, Marker: next}, err
}
