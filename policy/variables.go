package policy

import "strings"

// parseVariable reads a policy variable at the start of s ("${" already
// seen): ${key}, ${key, 'default'} or the special ${*}, ${?} and ${$},
// which stand for those characters taken literally. It returns the element
// and the bytes it covers; ok is false when s does not hold a well-formed
// variable, which then stays literal text.
func parseVariable(s string) (v gelem, n int, ok bool) {
	body := s[2:]
	end := strings.IndexAny(body, ",}")
	if end < 0 {
		return gelem{}, 0, false
	}
	key := strings.TrimSpace(body[:end])
	if key == "" {
		return gelem{}, 0, false
	}
	if body[end] == '}' {
		n = 2 + end + 1
		switch key {
		case "*", "?", "$":
			return gelem{op: litOp, text: key}, n, true
		}
		return gelem{op: varOp, text: strings.ToLower(key)}, n, true
	}
	// A default: , 'text' }
	rest := strings.TrimLeft(body[end+1:], " ")
	if !strings.HasPrefix(rest, "'") {
		return gelem{}, 0, false
	}
	closeQuote := strings.IndexByte(rest[1:], '\'')
	if closeQuote < 0 {
		return gelem{}, 0, false
	}
	def := rest[1 : 1+closeQuote]
	after := strings.TrimLeft(rest[2+closeQuote:], " ")
	if !strings.HasPrefix(after, "}") {
		return gelem{}, 0, false
	}
	n = len(s) - len(after) + 1
	return gelem{op: varOp, text: strings.ToLower(key), def: def, hasDef: true}, n, true
}

// variable returns the value a variable stands for in the request: the
// key's only value, else its default. A multivalued key cannot be a
// variable (AWS: "You can't use a multivalued condition key as a
// variable").
func (e *evalCtx) variable(v gelem) (string, bool) {
	if e != nil {
		if vals, ok := e.lookup(v.text); ok && len(vals) == 1 {
			return vals[0], true
		}
	}
	if v.hasDef {
		return v.def, true
	}
	return "", false
}
