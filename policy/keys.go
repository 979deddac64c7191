package policy

import "strings"

// ContextKeys returns the condition keys the policy refers to, as
// GetContextKeysForCustomPolicy lists them: the policy variables of its
// resources, the keys its conditions test and the variables in their
// values, statement by statement, each key once (keys that differ only in
// case are one key, spelled as first written). Variables count only in
// 2012-10-17 policies, the only ones where they are variables.
func (p *Policy) ContextKeys() []string {
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if l := strings.ToLower(k); !seen[l] {
			seen[l] = true
			keys = append(keys, k)
		}
	}
	vars := p.Version == Version2012
	for i := range p.Statements {
		s := &p.Statements[i]
		if vars {
			for _, r := range append(append([]string(nil), s.Resource...), s.NotResource...) {
				variablesIn(r, add)
			}
		}
		for _, c := range s.Condition {
			add(c.Key)
			if _, op, _, _ := parseOperator(c.Operator); vars && op != nil && substitutes(op.family) {
				for _, v := range c.Values {
					variablesIn(v, add)
				}
			}
		}
	}
	return keys
}

// substitutes reports whether an operator's values may hold variables.
func substitutes(f family) bool {
	switch f {
	case stringEquals, stringEqualsIgnoreCase, stringLike, boolean, arnLike:
		return true
	}
	return false
}

// variablesIn calls add with the key of each policy variable in s
// (${key} or ${key, 'default'}; not ${*}, ${?}, ${$}).
func variablesIn(s string, add func(string)) {
	for i := 0; i < len(s); {
		j := strings.Index(s[i:], "${")
		if j < 0 {
			return
		}
		i += j
		v, n, ok := parseVariable(s[i:])
		if !ok {
			i += 2
			continue
		}
		if v.op == varOp {
			body := s[i+2:]
			add(strings.TrimSpace(body[:strings.IndexAny(body, ",}")]))
		}
		i += n
	}
}
