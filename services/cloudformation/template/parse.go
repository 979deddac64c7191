// Package template reads CloudFormation templates (JSON, or YAML with the
// short-form tags) into plain values, checks them as CloudFormation does
// before a stack exists, orders their resources by dependency and
// evaluates the intrinsic functions, with AWS's error texts.
package template

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is a template error; its message is AWS's (ValidationError).
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error { return &Error{fmt.Sprintf(format, args...)} }

func formatErr(format string, args ...any) error {
	return &Error{"Template format error: " + fmt.Sprintf(format, args...)}
}

// Template is a parsed template. Values are the template's own: strings,
// int64, float64, bool, nil, []any and map[string]any, with intrinsic
// functions in their long form ({"Ref": x}, {"Fn::GetAtt": [r, a]}).
type Template struct {
	Description string
	Transform   []string
	Parameters  map[string]*Parameter
	Mappings    map[string]any
	Conditions  map[string]any
	Resources   map[string]*Resource
	Outputs     map[string]*Output
	Metadata    any
}

// Resource is one entry of Resources.
type Resource struct {
	Name                string
	Type                string
	Properties          map[string]any
	DependsOn           []string
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
	Metadata            any
	// Signals and SignalTimeout are the CreationPolicy's ResourceSignal:
	// how many success signals creation waits for, and how long.
	Signals       int
	SignalTimeout time.Duration
	// Deps are the resources it depends on: DependsOn and every Ref,
	// Fn::GetAtt and Fn::Sub variable naming a resource, sorted.
	Deps []string
}

// Output is one entry of Outputs.
type Output struct {
	Name        string
	Description string
	Value       any
	// Export is the export name's expression; nil when not exported.
	Export    any
	Condition string
}

var topLevel = map[string]bool{"AWSTemplateFormatVersion": true, "Description": true, "Metadata": true,
	"Parameters": true, "Rules": true, "Mappings": true, "Conditions": true, "Transform": true,
	"Resources": true, "Outputs": true, "Hooks": true}

var resourceAttrs = map[string]bool{"Type": true, "Properties": true, "DependsOn": true, "Condition": true,
	"DeletionPolicy": true, "UpdateReplacePolicy": true, "Metadata": true, "CreationPolicy": true,
	"UpdatePolicy": true, "Version": true}

// Parse reads and checks a template body.
func Parse(body string) (*Template, error) {
	root, err := decode(body)
	if err != nil {
		return nil, err
	}
	m, ok := root.(map[string]any)
	if !ok {
		return nil, formatErr("template format error: unsupported structure.")
	}
	var bad []string
	for k := range m {
		if !topLevel[k] {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return nil, formatErr("Invalid template property or properties [%s]", strings.Join(bad, ", "))
	}
	if v, ok := m["AWSTemplateFormatVersion"]; ok && v != "2010-09-09" {
		return nil, formatErr("Unsupported template format version %v", v)
	}
	t := &Template{Parameters: map[string]*Parameter{}, Resources: map[string]*Resource{}, Outputs: map[string]*Output{}, Metadata: m["Metadata"]}
	if d, ok := m["Description"]; ok {
		s, ok := d.(string)
		if !ok {
			return nil, formatErr("Every Description member must be a string.")
		}
		t.Description = s
	}
	switch tr := m["Transform"].(type) {
	case nil:
	case string:
		t.Transform = []string{tr}
	case []any:
		for _, x := range tr {
			if s, ok := x.(string); ok {
				t.Transform = append(t.Transform, s)
			}
		}
	}
	if t.Mappings, err = section(m, "Mappings"); err != nil {
		return nil, err
	}
	for name, top := range t.Mappings {
		if _, ok := top.(map[string]any); !ok {
			return nil, formatErr("Every Mappings member %s must be a map", name)
		}
	}
	if t.Conditions, err = section(m, "Conditions"); err != nil {
		return nil, err
	}
	params, err := section(m, "Parameters")
	if err != nil {
		return nil, err
	}
	for name, v := range params {
		p, err := parseParameter(name, v)
		if err != nil {
			return nil, err
		}
		t.Parameters[name] = p
	}
	res, err := section(m, "Resources")
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		return nil, formatErr("At least one Resources member must be defined.")
	}
	for name, v := range res {
		r, err := parseResource(name, v)
		if err != nil {
			return nil, err
		}
		t.Resources[name] = r
	}
	outs, err := section(m, "Outputs")
	if err != nil {
		return nil, err
	}
	for name, v := range outs {
		om, ok := v.(map[string]any)
		if !ok {
			return nil, formatErr("Every Outputs member must be an object")
		}
		val, ok := om["Value"]
		if !ok || val == nil {
			return nil, formatErr("Every Outputs member must contain a Value object")
		}
		o := &Output{Name: name, Value: val}
		o.Description, _ = om["Description"].(string)
		o.Condition, _ = om["Condition"].(string)
		if ex, ok := om["Export"]; ok {
			em, ok := ex.(map[string]any)
			if !ok || em["Name"] == nil {
				return nil, formatErr("Output %s is malformed. The Name field of Export must not be null or empty.", name)
			}
			o.Export = em["Name"]
		}
		t.Outputs[name] = o
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

func section(m map[string]any, name string) (map[string]any, error) {
	v, ok := m[name]
	if !ok || v == nil {
		return map[string]any{}, nil
	}
	s, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("%s must be an object", name)
	}
	return s, nil
}

func parseResource(name string, v any) (*Resource, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, formatErr("[/Resources/%s] resource definition is malformed", name)
	}
	typ, ok := m["Type"].(string)
	if !ok || typ == "" {
		return nil, formatErr("[/Resources/%s] Every Resources object must contain a Type member.", name)
	}
	for k := range m {
		if !resourceAttrs[k] {
			return nil, formatErr("[/Resources/%s] Invalid template resource property '%s'", name, k)
		}
	}
	r := &Resource{Name: name, Type: typ, Metadata: m["Metadata"]}
	if p, ok := m["Properties"]; ok && p != nil {
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, formatErr("[/Resources/%s/Properties] Every Properties member must be an object", name)
		}
		r.Properties = pm
	}
	switch d := m["DependsOn"].(type) {
	case nil:
	case string:
		r.DependsOn = []string{d}
	case []any:
		for _, x := range d {
			s, ok := x.(string)
			if !ok {
				return nil, formatErr("[/Resources/%s/DependsOn] DependsOn must be a string or list of strings.", name)
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	default:
		return nil, formatErr("[/Resources/%s/DependsOn] DependsOn must be a string or list of strings.", name)
	}
	r.Condition, _ = m["Condition"].(string)
	if cp, ok := m["CreationPolicy"].(map[string]any); ok {
		if rs, ok := cp["ResourceSignal"].(map[string]any); ok {
			r.Signals, r.SignalTimeout = 1, 5*time.Minute
			if c, ok := rs["Count"]; ok {
				n, err := strconv.Atoi(String(c))
				if err != nil || n < 0 {
					return nil, formatErr("[/Resources/%s/CreationPolicy/ResourceSignal/Count] Count must be an integer", name)
				}
				r.Signals = n
			}
			if t, ok := rs["Timeout"]; ok {
				d, err := isoDuration(String(t))
				if err != nil {
					return nil, formatErr("[/Resources/%s/CreationPolicy/ResourceSignal/Timeout] Timeout must be an ISO 8601 duration", name)
				}
				r.SignalTimeout = d
			}
		}
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"DeletionPolicy", &r.DeletionPolicy}, {"UpdateReplacePolicy", &r.UpdateReplacePolicy}} {
		if v, ok := m[f.key]; ok {
			s, _ := v.(string)
			switch s {
			case "Delete", "Retain", "Snapshot", "RetainExceptOnCreate":
				*f.dst = s
			default:
				return nil, formatErr("Unrecognized %s %v for resource %s", f.key, v, name)
			}
		}
	}
	return r, nil
}

// check finds the dependencies and AWS's template errors that need the
// whole template: unknown references, cycles, undefined conditions.
func (t *Template) check() error {
	var unresolved []string
	for _, r := range t.Resources {
		deps := map[string]bool{}
		for _, d := range r.DependsOn {
			deps[d] = true
		}
		// What Metadata refers to is a dependency too: it is resolved
		// when the resource is made.
		for _, v := range []any{r.Properties, r.Metadata} {
			refs, err := t.references(v)
			if err != nil {
				return err
			}
			for _, d := range refs {
				deps[d] = true
			}
		}
		for d := range deps {
			if _, ok := t.Resources[d]; !ok {
				unresolved = append(unresolved, d)
				continue
			}
			r.Deps = append(r.Deps, d)
		}
		sort.Strings(r.Deps)
		if r.Condition != "" {
			if _, ok := t.Conditions[r.Condition]; !ok {
				return formatErr("Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", r.Condition)
			}
		}
	}
	if len(unresolved) > 0 {
		sort.Strings(unresolved)
		return formatErr("Unresolved resource dependencies [%s] in the Resources block of the template", strings.Join(dedupe(unresolved), ", "))
	}
	for _, o := range t.Outputs {
		refs, err := t.references(o.Value)
		if err != nil {
			return err
		}
		var bad []string
		for _, d := range refs {
			if _, ok := t.Resources[d]; !ok {
				bad = append(bad, d)
			}
		}
		if len(bad) > 0 {
			return formatErr("Unresolved resource dependencies [%s] in the Outputs block of the template", strings.Join(bad, ", "))
		}
	}
	for _, c := range t.Conditions {
		refs, err := t.references(c)
		if err != nil {
			return err
		}
		if len(refs) > 0 {
			return formatErr("Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", strings.Join(refs, ", "))
		}
	}
	if cycle := t.cycle(); cycle != nil {
		return errorf("Circular dependency between resources: [%s]", strings.Join(cycle, ", "))
	}
	return nil
}

func dedupe(s []string) []string {
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// cycle returns the resources on dependency cycles, sorted, or nil.
func (t *Template) cycle() []string {
	// Kahn's algorithm: whatever cannot be ordered is on or behind a cycle.
	indeg := map[string]int{}
	users := map[string][]string{}
	for n, r := range t.Resources {
		indeg[n] += 0
		for _, d := range r.Deps {
			indeg[n]++
			users[d] = append(users[d], n)
		}
	}
	var queue []string
	for n, d := range indeg {
		if d == 0 {
			queue = append(queue, n)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, u := range users[n] {
			if indeg[u]--; indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	var left []string
	for n, d := range indeg {
		if d > 0 {
			left = append(left, n)
		}
	}
	sort.Strings(left)
	return left
}

// references returns the names v refers to through Ref, Fn::GetAtt and
// Fn::Sub that are neither parameters nor pseudo parameters.
func (t *Template) references(v any) ([]string, error) {
	var out []string
	add := func(name string) {
		if _, ok := t.Parameters[name]; ok || strings.HasPrefix(name, "AWS::") {
			return
		}
		out = append(out, name)
	}
	var walk func(v any) error
	walk = func(v any) error {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if err := walk(e); err != nil {
					return err
				}
			}
		case map[string]any:
			if len(x) == 1 {
				for k, a := range x {
					switch k {
					case "Ref":
						if s, ok := a.(string); ok {
							add(s)
							return nil
						}
					case "Fn::GetAtt":
						r, _, err := getAttArgs(a)
						if err != nil {
							return err
						}
						if _, ok := t.Resources[r]; !ok {
							return errorf("Template error: instance of Fn::GetAtt references undefined resource %s", r)
						}
						add(r)
						return nil
					case "Fn::Sub":
						s, vars, err := subArgs(a)
						if err != nil {
							return err
						}
						names, err := subVariables(s)
						if err != nil {
							return err
						}
						for _, n := range names {
							if _, ok := vars[n]; ok {
								continue
							}
							res, _, dotted := strings.Cut(n, ".")
							if dotted {
								if _, ok := t.Resources[res]; !ok {
									return errorf("Template error: instance of Fn::GetAtt references undefined resource %s", res)
								}
							}
							add(res)
						}
						for _, e := range vars {
							if err := walk(e); err != nil {
								return err
							}
						}
						return nil
					}
				}
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if err := walk(x[k]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk(v)
	sort.Strings(out)
	return dedupe(out), err
}

// Order returns the resources' names so that each comes after those it
// depends on (ties by name).
func (t *Template) Order() []string {
	names := make([]string, 0, len(t.Resources))
	for n := range t.Resources {
		names = append(names, n)
	}
	sort.Strings(names)
	done := map[string]bool{}
	var out []string
	var visit func(n string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, d := range t.Resources[n].Deps {
			visit(d)
		}
		out = append(out, n)
	}
	for _, n := range names {
		visit(n)
	}
	return out
}

// decode reads JSON or YAML into plain values.
func decode(body string) (any, error) {
	trimmed := strings.TrimSpace(body)
	if trimmed == "" {
		return nil, formatErr("YAML not well-formed. (line 1, column 1)")
	}
	if trimmed[0] == '{' {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			line, col := 1, 1
			var se *json.SyntaxError
			off := int64(len(body))
			if errors.As(err, &se) {
				off = se.Offset
			}
			for i := int64(0); i < off-1 && i < int64(len(body)); i++ {
				if body[i] == '\n' {
					line, col = line+1, 1
				} else {
					col++
				}
			}
			return nil, formatErr("JSON not well-formed. (line %d, column %d)", line, col)
		}
		return jsonValue(v), nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(body), &doc); err != nil {
		line := 1
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, formatErr("YAML not well-formed. (line %d, column 1)", line)
	}
	if len(doc.Content) == 0 {
		return nil, formatErr("YAML not well-formed. (line 1, column 1)")
	}
	budget := maxNodes
	return yamlValue(doc.Content[0], 0, &budget)
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

var isoDurationRE = regexp.MustCompile(`^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$`)

// isoDuration reads the ISO 8601 durations CreationPolicy takes (PT1H30M).
func isoDuration(s string) (time.Duration, error) {
	m := isoDurationRE.FindStringSubmatch(s)
	if m == nil || s == "PT" {
		return 0, fmt.Errorf("not a duration: %q", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return 0, err
			}
			d += time.Duration(n) * unit
		}
	}
	return d, nil
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = jsonValue(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = jsonValue(x[k])
		}
	}
	return v
}

// maxDepth bounds nesting and maxNodes the values made, aliases expanded,
// so that a hostile template (nested aliases, "billion laughs") can
// exhaust neither the stack nor memory. AWS's templates are at most 1 MB.
const (
	maxDepth = 200
	maxNodes = 1 << 20
)

// yamlValue converts a node, turning the short-form tags into the long
// form: !Ref x is {"Ref": x}, !GetAtt a.b is {"Fn::GetAtt": [a, b]},
// !Condition x is {"Condition": x}, any other !Name is {"Fn::Name": ...}.
func yamlValue(n *yaml.Node, depth int, budget *int) (any, error) {
	if *budget--; depth > maxDepth || *budget < 0 {
		return nil, formatErr("YAML not well-formed. (line %d, column %d)", n.Line, n.Column)
	}
	var v any
	switch n.Kind {
	case yaml.AliasNode:
		return yamlValue(n.Alias, depth+1, budget)
	case yaml.ScalarNode:
		v = scalar(n)
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			x, err := yamlValue(c, depth+1, budget)
			if err != nil {
				return nil, err
			}
			l = append(l, x)
		}
		v = l
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, formatErr("YAML not well-formed. (line %d, column %d)", k.Line, k.Column)
			}
			x, err := yamlValue(n.Content[i+1], depth+1, budget)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
		}
		v = m
	default:
		return nil, formatErr("YAML not well-formed. (line %d, column %d)", n.Line, n.Column)
	}
	tag := n.Tag
	if !strings.HasPrefix(tag, "!") || strings.HasPrefix(tag, "!!") {
		return v, nil
	}
	name := tag[1:]
	switch name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			r, a, found := strings.Cut(s, ".")
			if !found {
				return nil, errorf("Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute")
			}
			return map[string]any{"Fn::GetAtt": []any{r, a}}, nil
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	}
	return map[string]any{"Fn::" + name: v}, nil
}

func scalar(n *yaml.Node) any {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value
	}
	switch n.ShortTag() {
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return i
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	case "!!bool":
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true
		case "false", "no", "off":
			return false
		}
	case "!!null":
		return nil
	}
	return n.Value
}
