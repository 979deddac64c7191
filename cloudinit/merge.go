package cloudinit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// defaultMergeHow is how cloud-init merges a cloud-config part into the
// ones before it when the part says nothing: later top-level keys replace
// earlier ones, so two parts with runcmd keep only the second's. Lists
// append only when a part asks, e.g. with
// merge_how: "list(append)+dict(no_replace,recurse_list)+str()".
const defaultMergeHow = "dict(replace)+list()+str()"

// mergers is a parsed merge_how: for each kind of value already there, how
// a new value is merged into it. A nil merger leaves the old value alone,
// as cloud-init does when no merger handles a type.
type mergers struct {
	dict *dictMerger
	list *listMerger
	str  *strMerger
}

type dictMerger struct {
	replace                 bool
	recurseList, recurseStr bool
	allowDelete             bool
}

type listMerger struct {
	method                               string // append, prepend, replace, no_replace
	recurseList, recurseStr, recurseDict bool
}

type strMerger struct{ append bool }

var mergerRE = regexp.MustCompile(`^([a-zA-Z_][A-Za-z0-9_]*)\((.*?)\)$`)

// parseMergeHow reads the string form, "name(opt,opt)+name()".
func parseMergeHow(s string) ([][]string, error) {
	var out [][]string
	for name := range strings.SplitSeq(s, "+") {
		name = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "-", "_")
		if name == "" {
			continue
		}
		m := mergerRE.FindStringSubmatch(name)
		if m == nil {
			return nil, fmt.Errorf("Matcher identifier '%s' is not in the right format", name)
		}
		spec := []string{m[1]}
		for o := range strings.SplitSeq(m[2], ",") {
			if o = strings.TrimSpace(o); o != "" {
				spec = append(spec, o)
			}
		}
		out = append(out, spec)
	}
	return out, nil
}

// extractMergeHow removes merge_how (or merge_type) from a part and reads
// it: a string, or a list of {name, settings} mappings or [name, opt...]
// lists.
func extractMergeHow(cfg *omap) ([][]string, error) {
	raw, ok := cfg.get("merge_how")
	cfg.del("merge_how")
	if !ok || raw == nil {
		raw, ok = cfg.get("merge_type")
		cfg.del("merge_type")
	}
	if !ok || raw == nil {
		return nil, nil
	}
	if s, ok := raw.(string); ok {
		return parseMergeHow(s)
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("merge_how is a %s", pyType(raw))
	}
	var out [][]string
	for _, item := range list {
		var spec []any
		switch item := item.(type) {
		case *omap:
			name, _ := item.get("name")
			settings, _ := item.get("settings")
			n, _ := scalarString(name)
			spec = append([]any{strings.TrimSpace(strings.ReplaceAll(n, "-", "_"))}, listOf(settings)...)
		case []any:
			spec = item
		default:
			return nil, fmt.Errorf("merge_how entry is a %s", pyType(item))
		}
		var names []string
		for _, s := range spec {
			str, ok := scalarString(s)
			if !ok {
				return nil, fmt.Errorf("merge_how entry holds a %s", pyType(s))
			}
			names = append(names, str)
		}
		if len(names) > 0 && names[0] != "" {
			out = append(out, names)
		}
	}
	return out, nil
}

// listOf is v as a list: itself, or a one-item list for a scalar.
func listOf(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	}
	return []any{v}
}

// buildMergers turns parsed specs into mergers; the first spec for a kind
// wins.
func buildMergers(specs [][]string) (*mergers, error) {
	m := &mergers{}
	for _, spec := range specs {
		opts := spec[1:]
		has := func(o ...string) bool {
			return slices.ContainsFunc(o, func(s string) bool { return slices.Contains(opts, s) })
		}
		switch strings.TrimPrefix(spec[0], "m_") {
		case "dict":
			if m.dict == nil {
				m.dict = &dictMerger{
					replace:     has("replace"),
					recurseList: has("recurse_list", "recurse_array"),
					recurseStr:  has("recurse_str"),
					allowDelete: has("allow_delete"),
				}
			}
		case "list":
			if m.list == nil {
				l := &listMerger{
					method:      "replace",
					recurseList: has("recurse_list", "recurse_array"),
					recurseStr:  has("recurse_str"),
					recurseDict: has("recurse_dict"),
				}
				for _, meth := range []string{"append", "prepend", "replace", "no_replace"} {
					if has(meth) {
						l.method = meth
						break
					}
				}
				m.list = l
			}
		case "str":
			if m.str == nil {
				m.str = &strMerger{append: has("append")}
			}
		default:
			return nil, fmt.Errorf("Could not find merger module named '%s'", spec[0])
		}
	}
	return m, nil
}

// merge merges b into a by a's type.
func (m *mergers) merge(a, b any) any {
	switch a := a.(type) {
	case *omap:
		if m.dict != nil {
			return m.mergeDict(a, b)
		}
	case []any:
		if m.list != nil {
			return m.mergeList(a, b)
		}
	case string:
		if m.str != nil {
			if s, ok := b.(string); ok && m.str.append {
				return a + s
			}
			return b
		}
	}
	return a
}

func (m *mergers) mergeDict(a *omap, b any) *omap {
	bm, ok := b.(*omap)
	if !ok {
		return a
	}
	d := m.dict
	out := a.clone()
	for _, k := range bm.keys {
		nv := bm.vals[k]
		ov, exists := out.get(k)
		switch {
		case !exists:
			out.set(k, nv)
		case nv == nil && d.allowDelete:
			out.del(k)
		case d.replace:
			out.set(k, nv)
		default:
			// no_replace: keep the old value unless asked to recurse.
			switch nv.(type) {
			case []any:
				if d.recurseList {
					out.set(k, m.merge(ov, nv))
				}
			case string:
				if d.recurseStr {
					out.set(k, m.merge(ov, nv))
				}
			case *omap:
				out.set(k, m.merge(ov, nv))
			}
		}
	}
	return out
}

func (m *mergers) mergeList(a []any, b any) any {
	l := m.list
	bl, isList := b.([]any)
	if !isList {
		if l.method == "replace" {
			return b
		}
		bl = []any{b}
	}
	switch l.method {
	case "append":
		return append(slices.Clip(a), bl...)
	case "prepend":
		return append(slices.Clip(bl), a...)
	}
	out := slices.Clone(a)
	for i := range min(len(out), len(bl)) {
		if l.method == "no_replace" {
			continue
		}
		switch nv := bl[i].(type) {
		case []any:
			if l.recurseList {
				out[i] = m.merge(out[i], nv)
				continue
			}
		case string:
			if l.recurseStr {
				out[i] = m.merge(out[i], nv)
				continue
			}
		case *omap:
			if l.recurseDict {
				out[i] = m.merge(out[i], nv)
				continue
			}
		}
		out[i] = bl[i]
	}
	return out
}

// mergeParts merges the cloud-config parts in order, as cloud-init's
// cloud-config handler does: each part's own merge_how (or its Merge-Type
// header, or the default) says how it goes into what came before. A part
// that does not load or merge is left out with a warning.
func (r *renderer) mergeParts(parts []part) *omap {
	var cfg *omap
	for _, p := range parts {
		merged, err := r.mergePart(cfg, p)
		if err != nil {
			r.warnf("Failed at merging in cloud config part from %s: %v", p.filename, err)
			continue
		}
		cfg = merged
	}
	return cfg
}

func (r *renderer) mergePart(cfg *omap, p part) (*omap, error) {
	c, err := r.loadCloudConfig(p)
	if err != nil {
		return nil, err
	}
	specs, err := extractMergeHow(c)
	if err != nil {
		return nil, err
	}
	hdr, err := parseMergeHow(p.mergeType)
	if err != nil {
		return nil, err
	}
	if specs = append(specs, hdr...); len(specs) == 0 {
		specs, _ = parseMergeHow(defaultMergeHow)
	}
	m, err := buildMergers(specs)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = newOmap()
	}
	if m.dict == nil {
		return cfg, nil
	}
	return m.mergeDict(cfg, c), nil
}

// loadCloudConfig reads one part's YAML, which must be a mapping.
func (r *renderer) loadCloudConfig(p part) (*omap, error) {
	v, err := loadYAML(p.payload)
	if err != nil {
		r.warnf("Failed loading yaml blob. %v", err)
		return nil, fmt.Errorf("empty cloud config")
	}
	if v == nil {
		return nil, fmt.Errorf("empty cloud config")
	}
	c, ok := v.(*omap)
	if !ok {
		r.warnf("Failed loading yaml blob. Yaml load allows (dict,) root types, but got %s instead", pyType(v))
		return nil, fmt.Errorf("empty cloud config")
	}
	return c, nil
}
