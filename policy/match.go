package policy

import (
	"strings"
	"unicode/utf8"
)

// glob is a compiled pattern: literal text, * (any run of characters), ?
// (one character) and, in 2012-10-17 policies, variables that are
// resolved for each request. A variable's value is always literal text:
// "*" in a user name matches only "*".
type glob struct {
	elems []gelem
	vars  bool // some element is a variable
	shape shape
	lit   string // the literal text of exact and prefix shapes
}

// shape lets the common patterns skip the general matcher: actions are
// mostly "svc:Name", "svc:Get*" or "*".
type shape uint8

const (
	general  shape = iota
	exact          // literal text
	prefix         // literal text then *
	anything       // *
)

type gelem struct {
	op     gop
	text   string // literal text, or a variable's lowercased key
	def    string // a variable's default ('x' in ${key, 'x'})
	hasDef bool
}

type gop uint8

const (
	litOp gop = iota
	starOp
	oneOp
	varOp
)

// compileGlob compiles s; with vars, ${...} are variables. Consecutive
// stars collapse: they match the same strings.
func compileGlob(s string, vars bool) glob {
	return compilePattern(s, vars, true)
}

// compileText compiles s for the operators without wildcards
// (StringEquals...): only its variables are special.
func compileText(s string, vars bool) glob {
	return compilePattern(s, vars, false)
}

func compilePattern(s string, vars, wild bool) glob {
	var g glob
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			g.elems = append(g.elems, gelem{op: litOp, text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			if v, n, ok := parseVariable(s[i:]); ok {
				if v.op == litOp {
					lit.WriteString(v.text)
				} else {
					flush()
					g.elems = append(g.elems, v)
					g.vars = true
				}
				i += n
				continue
			}
			lit.WriteByte(c)
			i++
		case wild && c == '*':
			flush()
			if n := len(g.elems); n == 0 || g.elems[n-1].op != starOp {
				g.elems = append(g.elems, gelem{op: starOp})
			}
			i++
		case wild && c == '?':
			flush()
			g.elems = append(g.elems, gelem{op: oneOp})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	switch e := g.elems; {
	case g.vars:
	case len(e) == 0:
		g.shape = exact
	case len(e) == 1 && e[0].op == litOp:
		g.shape, g.lit = exact, e[0].text
	case len(e) == 1 && e[0].op == starOp:
		g.shape = anything
	case len(e) == 2 && e[0].op == litOp && e[1].op == starOp:
		g.shape, g.lit = prefix, e[0].text
	}
	return g
}

// resolved returns g's elements with its variables replaced by their
// values; ok is false when a variable has no value and no default (the
// pattern then matches nothing, as AWS documents).
func (g *glob) resolved(e *evalCtx) (elems []gelem, ok bool) {
	if !g.vars {
		return g.elems, true
	}
	elems = make([]gelem, len(g.elems))
	for i, el := range g.elems {
		if el.op != varOp {
			elems[i] = el
			continue
		}
		v, ok := e.variable(el)
		if !ok {
			return nil, false
		}
		elems[i] = gelem{op: litOp, text: v}
	}
	return elems, true
}

// text resolves a pattern compiled with compileText into its string.
func (g *glob) text(e *evalCtx) (string, bool) {
	if g.shape == exact {
		return g.lit, true
	}
	elems, ok := g.resolved(e)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for _, el := range elems {
		b.WriteString(el.text)
	}
	return b.String(), true
}

// match reports whether g matches all of s.
func (g *glob) match(s string, e *evalCtx) bool {
	switch g.shape {
	case exact:
		return s == g.lit
	case prefix:
		return strings.HasPrefix(s, g.lit)
	case anything:
		return true
	}
	elems, ok := g.resolved(e)
	return ok && matchElems(elems, s)
}

// matchElems matches s against literal, star and one elements. Between
// stars a pattern is a fixed-width segment, so the leftmost place a middle
// segment fits is always a right choice: no backtracking is needed.
func matchElems(el []gelem, s string) bool {
	end := segmentEnd(el, 0)
	n, ok := matchSegment(el[:end], s)
	if !ok {
		return false
	}
	if end == len(el) {
		return n == len(s)
	}
	s = s[n:]
	i := end
	for {
		for i < len(el) && el[i].op == starOp {
			i++
		}
		if i == len(el) {
			return true
		}
		end = segmentEnd(el, i)
		seg := el[i:end]
		if end == len(el) {
			return matchSuffix(seg, s)
		}
		found := false
		for p := 0; ; {
			if n, ok := matchSegment(seg, s[p:]); ok {
				s = s[p+n:]
				found = true
				break
			}
			if p == len(s) {
				break
			}
			_, size := utf8.DecodeRuneInString(s[p:])
			p += size
		}
		if !found {
			return false
		}
		i = end
	}
}

func segmentEnd(el []gelem, i int) int {
	for i < len(el) && el[i].op != starOp {
		i++
	}
	return i
}

// matchSegment matches a star-free segment at the start of s and returns
// the bytes it covers.
func matchSegment(seg []gelem, s string) (int, bool) {
	pos := 0
	for _, el := range seg {
		switch el.op {
		case litOp:
			if !strings.HasPrefix(s[pos:], el.text) {
				return 0, false
			}
			pos += len(el.text)
		case oneOp:
			if pos >= len(s) {
				return 0, false
			}
			_, size := utf8.DecodeRuneInString(s[pos:])
			pos += size
		}
	}
	return pos, true
}

// matchSuffix matches the last segment, which must end where s ends: a
// segment covers a fixed number of characters, so it can start at one
// place only.
func matchSuffix(seg []gelem, s string) bool {
	width := 0
	for _, el := range seg {
		if el.op == litOp {
			width += utf8.RuneCountInString(el.text)
		} else {
			width++
		}
	}
	start := len(s)
	for ; width > 0; width-- {
		if start == 0 {
			return false
		}
		_, size := utf8.DecodeLastRuneInString(s[:start])
		start -= size
	}
	n, ok := matchSegment(seg, s[start:])
	return ok && start+n == len(s)
}

// arnPattern is a Resource or NotResource entry. AWS matches an ARN field
// by field: wildcards stay within the partition, service, region and
// account, and range over the whole resource part (colons and slashes
// included). Variables are allowed in the resource part only.
type arnPattern struct {
	any    bool   // "*"
	fields []glob // up to 6; a shorter pattern's last field covers the rest
}

func compileARNPattern(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true}
	}
	parts := splitARN(s, vars)
	p := arnPattern{fields: make([]glob, len(parts))}
	for i, part := range parts {
		p.fields[i] = compileGlob(part, vars && i == 5)
	}
	return p
}

// splitARN splits a pattern into at most six fields at its colons, those
// inside variables (${aws:username}) excepted.
func splitARN(s string, vars bool) []string {
	var fields []string
	start, depth := 0, 0
	for i := 0; i < len(s) && len(fields) < 5; i++ {
		switch {
		case vars && strings.HasPrefix(s[i:], "${"):
			depth++
		case depth > 0 && s[i] == '}':
			depth--
		case depth == 0 && s[i] == ':':
			fields = append(fields, s[start:i])
			start = i + 1
		}
	}
	return append(fields, s[start:])
}

// match reports whether the ARN s is matched. Only "*" matches the "*"
// resource of actions that take no resource (s3:ListAllMyBuckets).
func (p *arnPattern) match(s string, e *evalCtx) bool {
	if p.any {
		return true
	}
	n := len(p.fields)
	for i := range p.fields {
		field := s
		if i < n-1 {
			j := strings.IndexByte(s, ':')
			if j < 0 {
				return false
			}
			field, s = s[:j], s[j+1:]
		}
		if !p.fields[i].match(field, e) {
			return false
		}
	}
	return true
}

// matchARN is the ARN condition operators' comparison: six fields matched
// one by one, "*" matching any value.
func matchARN(pattern *arnPattern, s string, e *evalCtx) bool {
	if pattern.any {
		return true
	}
	if len(pattern.fields) != 6 || strings.Count(s, ":") < 5 {
		return false
	}
	return pattern.match(s, e)
}

// actionListed matches a lowercased action against the patterns of a
// statement's Action or NotAction.
func (s *Statement) actionListed(action string) bool {
	for i := range s.actions {
		if s.actions[i].match(action, nil) {
			return true
		}
	}
	return false
}
