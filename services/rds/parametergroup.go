package rds

import (
	"context"
	_ "embed"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// familyParam is one parameter of a family, as DescribeDBParameters
// shows it with Source "system" (or "engine-default" without a value).
type familyParam struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Type    string `json:"type"`
	Allowed string `json:"allowed"`
	Apply   string `json:"apply"` // static or dynamic
	Desc    string `json:"desc"`
	// Values are the default's differences in some families (by family).
	Values map[string]string `json:"values,omitempty"`
}

// parameters.json: the common parameters of mysql8.0 and mariadb10.11
// that both engines understand (both run MariaDB), with AWS's defaults.
//
//go:embed parameters.json
var parametersJSON []byte

var familyParams = func() []familyParam {
	var ps []familyParam
	if err := json.Unmarshal(parametersJSON, &ps); err != nil {
		panic("rds: parameters.json: " + err.Error())
	}
	return ps
}()

var families = []string{"mariadb10.11", "mysql8.0", "postgres14", "postgres15", "postgres16"}

// paramsOf is a family's parameters with the family's defaults.
func paramsOf(family string) []familyParam {
	if !strings.HasPrefix(family, "postgres") {
		return familyParams
	}
	ps := slices.Clone(postgresParams)
	for i, p := range ps {
		if v, ok := p.Values[family]; ok {
			ps[i].Value = v
		}
	}
	return ps
}

func familyOf(engine string) string {
	v, _ := findVersion(engine, "")
	return v.Family
}

// The names of parameter groups (and DB instances): a letter first, then
// letters, digits and hyphens, not ending with one or holding two in a row.
var identifierRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)

func validIdentifier(s string, max int) bool {
	return len(s) <= max && identifierRE.MatchString(s) && !strings.HasSuffix(s, "-") && !strings.Contains(s, "--")
}

func notAnIdentifier(param string) error {
	return invalidValue("The parameter %s is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.", param)
}

// loadParamGroup returns a group; the default groups (default.<family>)
// always exist and have no record.
func loadParamGroup(tx *store.Tx, sc scope, name string) (*paramGroupRecord, error) {
	name = strings.ToLower(name)
	if fam, ok := strings.CutPrefix(name, "default."); ok && slices.Contains(families, fam) {
		return &paramGroupRecord{Name: name, Family: fam, Description: "Default parameter group for " + fam, Values: map[string]string{}}, nil
	}
	g, ok, err := store.Get[paramGroupRecord](tx, sc.key(kindParamGroup, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault("DBParameterGroupNotFound", "DBParameterGroup not found: %s", name)
	}
	if g.Values == nil {
		g.Values = map[string]string{}
	}
	return g, nil
}

func isDefaultGroup(name string) bool { return strings.HasPrefix(name, "default.") }

func (g *paramGroupRecord) api(sc scope) *rdsapi.DBParameterGroup {
	return &rdsapi.DBParameterGroup{DBParameterGroupArn: ptr(sc.arn("pg", g.Name)), DBParameterGroupName: ptr(g.Name),
		DBParameterGroupFamily: ptr(g.Family), Description: ptr(g.Description)}
}

func (s *Service) CreateDBParameterGroup(ctx context.Context, in *rdsapi.CreateDBParameterGroupMessage) (*rdsapi.CreateDBParameterGroupResult, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.DBParameterGroupName))
	if !validIdentifier(name, 255) {
		return nil, notAnIdentifier("DBParameterGroupName")
	}
	fam := deref(in.DBParameterGroupFamily)
	if !slices.Contains(families, fam) {
		return nil, invalidValue("ParameterGroupFamily %s is not a valid parameter group family", fam)
	}
	g := &paramGroupRecord{Name: name, Family: fam, Description: deref(in.Description), Values: map[string]string{}, Tags: toTags(in.Tags)}
	err := s.store.Update(func(tx *store.Tx) error {
		if ok, err := tx.Get(sc.key(kindParamGroup, name), &paramGroupRecord{}); err != nil {
			return err
		} else if ok {
			return fault("DBParameterGroupAlreadyExists", "Parameter group %s already exists", name)
		}
		return tx.Put(sc.key(kindParamGroup, name), g)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBParameterGroupResult{DBParameterGroup: g.api(sc)}, nil
}

func (s *Service) DescribeDBParameterGroups(ctx context.Context, in *rdsapi.DescribeDBParameterGroupsMessage) (*rdsapi.DBParameterGroupsMessage, error) {
	sc := scopeOf(ctx)
	var groups []*paramGroupRecord
	err := s.store.View(func(tx *store.Tx) error {
		if n := deref(in.DBParameterGroupName); n != "" {
			g, err := loadParamGroup(tx, sc, n)
			groups = []*paramGroupRecord{g}
			return err
		}
		for _, f := range families {
			g, _ := loadParamGroup(tx, sc, "default."+f)
			groups = append(groups, g)
		}
		own, err := store.ListAll[paramGroupRecord](tx, sc.account, sc.region, kindParamGroup)
		groups = append(groups, own...)
		return err
	})
	if err != nil {
		return nil, err
	}
	groups, next, err := page(groups, func(g *paramGroupRecord) string { return g.Name }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	out := &rdsapi.DBParameterGroupsMessage{Marker: next, DBParameterGroups: []*rdsapi.DBParameterGroup{}}
	for _, g := range groups {
		out.DBParameterGroups = append(out.DBParameterGroups, g.api(sc))
	}
	return out, nil
}

func (s *Service) DescribeDBParameters(ctx context.Context, in *rdsapi.DescribeDBParametersMessage) (*rdsapi.DBParameterGroupDetails, error) {
	sc := scopeOf(ctx)
	var g *paramGroupRecord
	err := s.store.View(func(tx *store.Tx) (err error) {
		g, err = loadParamGroup(tx, sc, deref(in.DBParameterGroupName))
		return err
	})
	if err != nil {
		return nil, err
	}
	source := deref(in.Source)
	if source != "" && source != "user" && source != "system" && source != "engine-default" {
		return nil, invalidValue("Invalid source: %s. Valid values are: user, system, engine-default", source)
	}
	var list []*rdsapi.Parameter
	for _, p := range paramsOf(g.Family) {
		ap := &rdsapi.Parameter{ParameterName: ptr(p.Name), Description: ptr(p.Desc), DataType: ptr(p.Type), AllowedValues: ptr(p.Allowed),
			ApplyType: ptr(p.Apply), IsModifiable: ptr(true), Source: ptr("engine-default")}
		if p.Value != "" {
			ap.ParameterValue, ap.Source = ptr(p.Value), ptr("system")
		}
		if v, ok := g.Values[p.Name]; ok {
			ap.ParameterValue, ap.Source = ptr(v), ptr("user")
			ap.ApplyMethod = ptr("pending-reboot")
			if p.Apply == "dynamic" {
				ap.ApplyMethod = ptr("immediate")
			}
		}
		if source == "" || source == *ap.Source {
			list = append(list, ap)
		}
	}
	list, next, err := page(list, func(p *rdsapi.Parameter) string { return *p.ParameterName }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	return &rdsapi.DBParameterGroupDetails{Marker: next, Parameters: list}, nil
}

// checkParam validates a user's value for a parameter of the family's
// and how it is to be applied.
func checkParam(params []familyParam, p *rdsapi.Parameter) (familyParam, error) {
	name := deref(p.ParameterName)
	i := slices.IndexFunc(params, func(f familyParam) bool { return f.Name == name })
	if i < 0 {
		return familyParam{}, invalidValue("Could not find parameter with name: %s", name)
	}
	fp := params[i]
	method := deref(p.ApplyMethod)
	if method != "immediate" && method != "pending-reboot" {
		return fp, invalidValue("Invalid apply method %q for parameter %s: use immediate or pending-reboot", method, name)
	}
	if fp.Apply == "static" && method == "immediate" {
		return fp, invalidCombination("cannot use immediate apply method for static parameter")
	}
	if err := checkValue(fp, deref(p.ParameterValue)); err != nil {
		return fp, err
	}
	return fp, nil
}

// checkValue checks a value against the parameter's type and allowed
// values; a formula ({DBInstanceClassMemory/...}, LEAST(...)) is checked
// by its form.
func checkValue(fp familyParam, v string) error {
	bad := invalidValue("Value: %s is not a valid value for parameter: %s (allowed: %s)", v, fp.Name, fp.Allowed)
	if isFormula(v) {
		if _, ok := evalFormula(v, 1<<30); !ok || fp.Type != "integer" {
			return bad
		}
		return nil
	}
	switch fp.Type {
	case "integer", "float":
		lo, hi, _ := strings.Cut(fp.Allowed, "-")
		if fp.Type == "integer" {
			n, err := strconv.ParseUint(v, 10, 64)
			min, _ := strconv.ParseUint(lo, 10, 64)
			max, _ := strconv.ParseUint(hi, 10, 64)
			if err != nil || n < min || n > max {
				return bad
			}
			return nil
		}
		f, err := strconv.ParseFloat(v, 64)
		min, _ := strconv.ParseFloat(lo, 64)
		max, _ := strconv.ParseFloat(hi, 64)
		if err != nil || f < min || f > max {
			return bad
		}
	case "list":
		for _, part := range strings.Split(v, ",") {
			if !slices.Contains(strings.Split(fp.Allowed, ","), part) {
				return bad
			}
		}
	default:
		if !slices.Contains(strings.Split(fp.Allowed, ","), v) {
			return bad
		}
	}
	return nil
}

// isFormula is whether a value is computed for the instance's class.
func isFormula(v string) bool {
	return strings.HasPrefix(v, "{") || strings.HasPrefix(v, "LEAST(") || strings.HasPrefix(v, "GREATEST(")
}

// evalFormula computes AWS's {DBInstanceClassMemory*A/B} and
// {DBInstanceClassMemory/B} for a class with memory bytes, and
// LEAST(a,b...) and GREATEST(a,b...) of such terms and numbers.
func evalFormula(f string, memory uint64) (uint64, bool) {
	for fn, pick := range map[string]func(a, b uint64) uint64{
		"LEAST(":    func(a, b uint64) uint64 { return min(a, b) },
		"GREATEST(": func(a, b uint64) uint64 { return max(a, b) },
	} {
		args, ok := strings.CutPrefix(f, fn)
		if !ok {
			continue
		}
		args, ok = strings.CutSuffix(args, ")")
		if !ok || args == "" {
			return 0, false
		}
		var out uint64
		for i, a := range strings.Split(args, ",") {
			n, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				if n, ok = evalTerm(a, memory); !ok {
					return 0, false
				}
			}
			if i == 0 {
				out = n
			}
			out = pick(out, n)
		}
		return out, true
	}
	return evalTerm(f, memory)
}

// evalTerm computes one {DBInstanceClassMemory...} term.
func evalTerm(f string, memory uint64) (uint64, bool) {
	body, ok := strings.CutPrefix(f, "{DBInstanceClassMemory")
	if !ok {
		return 0, false
	}
	body, ok = strings.CutSuffix(body, "}")
	if !ok {
		return 0, false
	}
	mul := uint64(1)
	if rest, ok := strings.CutPrefix(body, "*"); ok {
		a, b, ok := strings.Cut(rest, "/")
		n, err := strconv.ParseUint(a, 10, 32)
		if !ok || err != nil {
			return 0, false
		}
		mul, body = n, "/"+b
	}
	div, ok := strings.CutPrefix(body, "/")
	if !ok {
		return 0, false
	}
	d, err := strconv.ParseUint(div, 10, 64)
	if err != nil || d == 0 {
		return 0, false
	}
	return memory * mul / d, true
}

func (s *Service) ModifyDBParameterGroup(ctx context.Context, in *rdsapi.ModifyDBParameterGroupMessage) (*rdsapi.DBParameterGroupNameMessage, error) {
	sc := scopeOf(ctx)
	if len(in.Parameters) > 20 {
		return nil, invalidValue("A maximum of 20 parameters can be modified in a single request.")
	}
	var name string
	var names []string
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadParamGroup(tx, sc, deref(in.DBParameterGroupName))
		if err != nil {
			return err
		}
		if isDefaultGroup(g.Name) {
			return invalidValue("The parameter group %s cannot be modified: default parameter groups are not modifiable.", g.Name)
		}
		for _, p := range in.Parameters {
			fp, err := checkParam(paramsOf(g.Family), p)
			if err != nil {
				return err
			}
			g.Values[fp.Name] = deref(p.ParameterValue)
			names = append(names, fp.Name)
		}
		name = g.Name
		if err := groupChanged(tx, sc, g.Name, g.Family, names); err != nil {
			return err
		}
		return tx.Put(sc.key(kindParamGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	go s.applyParams(sc, name, names)
	return &rdsapi.DBParameterGroupNameMessage{DBParameterGroupName: &name}, nil
}

func (s *Service) ResetDBParameterGroup(ctx context.Context, in *rdsapi.ResetDBParameterGroupMessage) (*rdsapi.DBParameterGroupNameMessage, error) {
	sc := scopeOf(ctx)
	all := deref(in.ResetAllParameters)
	if all == (len(in.Parameters) > 0) {
		return nil, invalidCombination("Specify either ResetAllParameters or Parameters, not both.")
	}
	var name string
	var names []string
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadParamGroup(tx, sc, deref(in.DBParameterGroupName))
		if err != nil {
			return err
		}
		if isDefaultGroup(g.Name) {
			return invalidValue("The parameter group %s cannot be modified: default parameter groups are not modifiable.", g.Name)
		}
		if all {
			for n := range g.Values {
				names = append(names, n)
			}
			g.Values = map[string]string{}
		}
		for _, p := range in.Parameters {
			n := deref(p.ParameterName)
			if !slices.ContainsFunc(paramsOf(g.Family), func(f familyParam) bool { return f.Name == n }) {
				return invalidValue("Could not find parameter with name: %s", n)
			}
			delete(g.Values, n)
			names = append(names, n)
		}
		name = g.Name
		if err := groupChanged(tx, sc, g.Name, g.Family, names); err != nil {
			return err
		}
		return tx.Put(sc.key(kindParamGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	go s.applyParams(sc, name, names)
	return &rdsapi.DBParameterGroupNameMessage{DBParameterGroupName: &name}, nil
}

func (s *Service) DeleteDBParameterGroup(ctx context.Context, in *rdsapi.DeleteDBParameterGroupMessage) (*rdsapi.DeleteDBParameterGroupOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadParamGroup(tx, sc, deref(in.DBParameterGroupName))
		if err != nil {
			return err
		}
		if isDefaultGroup(g.Name) {
			return fault("InvalidDBParameterGroupState", "Default DBParameterGroup cannot be deleted: %s", g.Name)
		}
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, in := range insts {
			if in.ParameterGroup == g.Name {
				return fault("InvalidDBParameterGroupState", "One or more database instances are still members of this parameter group %s, so the group cannot be deleted", g.Name)
			}
		}
		_, err = tx.Delete(sc.key(kindParamGroup, g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.DeleteDBParameterGroupOutput{}, nil
}

// groupChanged marks the instances using a group pending-reboot: their
// engines have the values their group had when they were created (the
// first-boot script writes them); later changes do not reach them yet.
func groupChanged(tx *store.Tx, sc scope, group, family string, names []string) error {
	insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
	if err != nil {
		return err
	}
	for _, in := range insts {
		if in.ParameterGroup != group {
			continue
		}
		in.ParamApply = applyStatus(in.ParamApply, family, names)
		if in.Engine == "postgres" {
			in.ParamApply = "pending-reboot" // its values are written at creation only
		}
		if err := tx.Put(sc.key(kindInstance, in.ID), in); err != nil {
			return err
		}
	}
	return nil
}
