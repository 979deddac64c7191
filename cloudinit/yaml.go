package cloudinit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// maxYAMLNodes bounds the values one document may expand to, aliases
// included ("billion laughs").
const maxYAMLNodes = 1 << 20

// omap is a YAML mapping that keeps its keys in order, as Python's dicts
// do: the order users and groups are created in, and warnings, follow the
// user data rather than Go's map order.
type omap struct {
	keys []string
	vals map[string]any
}

func newOmap() *omap { return &omap{vals: map[string]any{}} }

func (m *omap) get(k string) (any, bool) {
	v, ok := m.vals[k]
	return v, ok
}

// set replaces a key's value in place, or appends the key.
func (m *omap) set(k string, v any) {
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
}

func (m *omap) del(k string) {
	if _, ok := m.vals[k]; !ok {
		return
	}
	delete(m.vals, k)
	for i, key := range m.keys {
		if key == k {
			m.keys = append(m.keys[:i:i], m.keys[i+1:]...)
			return
		}
	}
}

func (m *omap) clone() *omap {
	c := newOmap()
	for _, k := range m.keys {
		c.set(k, m.vals[k])
	}
	return c
}

// loadYAML parses one YAML document into nil, bool, int, float64, string,
// time.Time, []any and *omap values, the way PyYAML's safe_load (which
// cloud-init uses) reads it where yaml.v3 differs: a repeated key keeps
// the last value instead of failing, and plain yes/no/on/off are booleans
// (YAML 1.1).
func loadYAML(b []byte) (any, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	budget := maxYAMLNodes
	return convert(&doc, &budget)
}

func convert(n *yaml.Node, budget *int) (any, error) {
	if *budget--; *budget < 0 {
		return nil, errors.New("document expands to too many values")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return convert(n.Content[0], budget)
	case yaml.AliasNode:
		return convert(n.Alias, budget)
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c, budget)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.MappingNode:
		return convertMapping(n, budget)
	}
	if n.Style == 0 && n.Tag == "!!str" {
		switch strings.ToLower(n.Value) {
		case "yes", "on":
			return true, nil
		case "no", "off":
			return false, nil
		}
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// convertMapping builds a mapping; "<<" merge keys come first and explicit
// keys override them, as in PyYAML.
func convertMapping(n *yaml.Node, budget *int) (any, error) {
	m := newOmap()
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			if err := mergeInto(m, n.Content[i+1], budget); err != nil {
				return nil, err
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			continue
		}
		kv, err := convert(k, budget)
		if err != nil {
			return nil, err
		}
		ks, ok := scalarString(kv)
		if !ok && kv != nil {
			return nil, fmt.Errorf("line %d: a %s cannot be a mapping key", k.Line, pyType(kv))
		}
		if kv == nil {
			ks = "None"
		}
		v, err := convert(n.Content[i+1], budget)
		if err != nil {
			return nil, err
		}
		m.set(ks, v)
	}
	return m, nil
}

// mergeInto applies a "<<" value: a mapping, or a list of mappings where
// earlier ones win.
func mergeInto(m *omap, n *yaml.Node, budget *int) error {
	v, err := convert(n, budget)
	if err != nil {
		return err
	}
	var srcs []*omap
	switch v := v.(type) {
	case *omap:
		srcs = []*omap{v}
	case []any:
		for i := len(v) - 1; i >= 0; i-- {
			s, ok := v[i].(*omap)
			if !ok {
				return fmt.Errorf("line %d: expected a mapping for merging, but found %s", n.Line, pyType(v[i]))
			}
			srcs = append(srcs, s)
		}
	default:
		return fmt.Errorf("line %d: expected a mapping or list of mappings for merging, but found %s", n.Line, pyType(v))
	}
	for _, s := range srcs {
		for _, k := range s.keys {
			m.set(k, s.vals[k])
		}
	}
	return nil
}

// scalarString is str(v) in Python for a scalar; ok is false for nil,
// lists and mappings.
func scalarString(v any) (s string, ok bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case bool:
		if v {
			return "True", true
		}
		return "False", true
	case int:
		return strconv.Itoa(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64), true
	case time.Time:
		if v.Equal(v.Truncate(24 * time.Hour)) {
			return v.Format(time.DateOnly), true
		}
		return v.Format(time.DateTime), true
	}
	return "", false
}

// pyType names a value's type the way cloud-init's messages do.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case bool:
		return "bool"
	case int, int64, uint64:
		return "int"
	case float64:
		return "float"
	case []any:
		return "list"
	case *omap:
		return "dict"
	case time.Time:
		return "datetime"
	}
	return fmt.Sprintf("%T", v)
}

// truthy is Python's truth value of a YAML value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case int:
		return v != 0
	case int64:
		return v != 0
	case uint64:
		return v != 0
	case float64:
		return v != 0
	case []any:
		return len(v) > 0
	case *omap:
		return len(v.keys) > 0
	}
	return true
}

// cfgBool is cloud-init's translate_bool: booleans as they are, and
// "true", "1", "on", "yes" (any case) for true.
func cfgBool(v any) bool {
	if !truthy(v) {
		return false
	}
	if b, ok := v.(bool); ok {
		return b
	}
	s, _ := scalarString(v)
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "on", "yes":
		return true
	}
	return false
}
