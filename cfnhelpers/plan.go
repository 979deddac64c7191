package cfnhelpers

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// initKey is the metadata key cfn-init reads.
const initKey = "AWS::CloudFormation::Init"

// configStep is one config of AWS::CloudFormation::Init to apply.
type configStep struct {
	name string
	cfg  map[string]any
}

// plan reads a resource's metadata and returns the configs to apply, in
// order: the config sets asked for (or the "default" set), each expanded
// in order, a {"ConfigSet": name} entry standing for that whole set.
// Without configSets in the metadata, the only set is default: ["config"].
func plan(metadata []byte, sets []string) ([]configStep, error) {
	var md map[string]any
	if err := json.Unmarshal(metadata, &md); err != nil || md == nil {
		return nil, fmt.Errorf("the resource has no metadata")
	}
	init, ok := md[initKey].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("no %s section in the resource's metadata", initKey)
	}
	defined := map[string]any{"default": []any{"config"}}
	if cs, ok := init["configSets"]; ok {
		m, ok := cs.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("configSets must be an object of config sets")
		}
		defined = m
	}
	if len(sets) == 0 {
		sets = []string{"default"}
	}
	var names []string
	for _, s := range sets {
		n, err := expandSet(defined, s, nil)
		if err != nil {
			return nil, err
		}
		names = append(names, n...)
	}
	steps := make([]configStep, 0, len(names))
	for _, n := range names {
		if n == "configSets" {
			return nil, fmt.Errorf("config name configSets is reserved")
		}
		c, ok := init[n]
		if !ok {
			return nil, fmt.Errorf("Config %s not found", n)
		}
		m, ok := c.(map[string]any)
		if !ok && c != nil {
			return nil, fmt.Errorf("config %s must be an object", n)
		}
		steps = append(steps, configStep{name: n, cfg: m})
	}
	return steps, nil
}

// expandSet lists the configs of set name; stack holds the sets being
// expanded, so that a set including itself is an error, not a loop.
func expandSet(defined map[string]any, name string, stack []string) ([]string, error) {
	for _, s := range stack {
		if s == name {
			return nil, fmt.Errorf("configSet %s includes itself (%s)", name, strings.Join(append(stack, name), " -> "))
		}
	}
	v, ok := defined[name]
	if !ok {
		return nil, fmt.Errorf("Error: configSet %s does not exist", name)
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	var out []string
	for _, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, x)
		case map[string]any:
			ref, ok := x["ConfigSet"].(string)
			if !ok || len(x) != 1 {
				return nil, fmt.Errorf("configSet %s: an entry must be a config name or {\"ConfigSet\": name}", name)
			}
			n, err := expandSet(defined, ref, append(stack, name))
			if err != nil {
				return nil, err
			}
			out = append(out, n...)
		default:
			return nil, fmt.Errorf("configSet %s: an entry must be a config name or {\"ConfigSet\": name}", name)
		}
	}
	return out, nil
}

// configSections are a config's keys in the order cfn-init applies them,
// whatever their order in the template.
var configSections = []string{"packages", "groups", "users", "sources", "files", "commands", "services"}

// packageManagers are installed in this order: RPM files first, then the
// distribution's packages, then the language ones.
var packageManagers = []string{"rpm", "yum", "dnf", "apt", "python", "rubygems", "msi"}

// sortedKeys are m's keys in byte order: commands run in the order of
// their names, and the other sections are applied in the same order so a
// run is repeatable.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// truthy reads a boolean the way templates write them: true, or "true"
// in any case (YAML and JSON templates give both).
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// str reads a scalar as a string (numbers as templates write them).
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case bool:
		return fmt.Sprint(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// strList reads a list of strings, or one string as a list of one.
func strList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			out = append(out, str(e))
		}
		return out
	}
	return []string{str(v)}
}
