package cloudwatch

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
)

// Metric math: the subset of CloudWatch's expression language people use
// in dashboards and alarms — numbers, query ids, + - * / with parentheses,
// arrays ([m1, m2] and METRICS() or METRICS("label part")), and SUM, AVG,
// MIN and MAX. Over an array the functions give one series, per timestamp
// across its members; over one series they give a scalar. Arithmetic
// between series keeps the timestamps both have; a division by zero
// leaves its point out.

// tseries is one time series: unix seconds -> value.
type tseries struct {
	label  string
	points map[int64]float64
}

// mvalue is what an expression evaluates to: a scalar, one series, or an
// array of series.
type mvalue struct {
	scalar bool
	num    float64
	array  bool
	list   []tseries
}

// node is a parsed expression.
type node interface {
	eval(env *mathEnv) (mvalue, error)
}

type (
	numNode float64
	idNode  string
	negNode struct{ x node }
	binNode struct {
		op   byte
		l, r node
	}
	arrNode  []node
	callNode struct {
		fn   string
		args []node
		lit  *string // METRICS("...")'s filter
	}
)

// mathEnv resolves ids while evaluating.
type mathEnv struct {
	resolve func(id string) (mvalue, error)
	metrics func(filter string) []tseries
}

type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func exprErrorf(format string, args ...any) error { return &exprError{fmt.Sprintf(format, args...)} }

// parseExpr parses a metric math expression.
func parseExpr(src string) (node, error) {
	p := &parser{src: src}
	p.next()
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if p.tok != "" {
		return nil, exprErrorf("Unexpected token %q at position %d", p.tok, p.pos-len(p.tok))
	}
	return n, nil
}

type parser struct {
	src string
	pos int
	tok string // "" at the end
}

// next reads the next token: a number, an identifier, a string literal
// (quotes kept) or one punctuation character.
func (p *parser) next() {
	for p.pos < len(p.src) && p.src[p.pos] == ' ' {
		p.pos++
	}
	if p.pos >= len(p.src) {
		p.tok = ""
		return
	}
	start := p.pos
	c := rune(p.src[p.pos])
	switch {
	case unicode.IsDigit(c) || c == '.':
		for p.pos < len(p.src) && (unicode.IsDigit(rune(p.src[p.pos])) || p.src[p.pos] == '.' || p.src[p.pos] == 'e' || p.src[p.pos] == 'E') {
			p.pos++
		}
	case unicode.IsLetter(c) || c == '_':
		for p.pos < len(p.src) && (unicode.IsLetter(rune(p.src[p.pos])) || unicode.IsDigit(rune(p.src[p.pos])) || p.src[p.pos] == '_') {
			p.pos++
		}
	case c == '"':
		p.pos++
		for p.pos < len(p.src) && p.src[p.pos] != '"' {
			p.pos++
		}
		p.pos = min(p.pos+1, len(p.src))
	default:
		p.pos++
	}
	p.tok = p.src[start:p.pos]
}

func (p *parser) expect(tok string) error {
	if p.tok != tok {
		return exprErrorf("Expected %q at position %d", tok, p.pos-len(p.tok))
	}
	p.next()
	return nil
}

func (p *parser) expr() (node, error) {
	l, err := p.term()
	for err == nil && (p.tok == "+" || p.tok == "-") {
		op := p.tok[0]
		p.next()
		var r node
		if r, err = p.term(); err == nil {
			l = binNode{op, l, r}
		}
	}
	return l, err
}

func (p *parser) term() (node, error) {
	l, err := p.unary()
	for err == nil && (p.tok == "*" || p.tok == "/") {
		op := p.tok[0]
		p.next()
		var r node
		if r, err = p.unary(); err == nil {
			l = binNode{op, l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (node, error) {
	if p.tok == "-" {
		p.next()
		x, err := p.unary()
		return negNode{x}, err
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	tok := p.tok
	switch {
	case tok == "":
		return nil, exprErrorf("Unexpected end of expression")
	case tok == "(":
		p.next()
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		return n, p.expect(")")
	case tok == "[":
		p.next()
		var arr arrNode
		for p.tok != "]" {
			n, err := p.expr()
			if err != nil {
				return nil, err
			}
			arr = append(arr, n)
			if p.tok == "," {
				p.next()
			} else if p.tok != "]" {
				return nil, exprErrorf("Expected \"]\" at position %d", p.pos-len(p.tok))
			}
		}
		p.next()
		return arr, nil
	case unicode.IsDigit(rune(tok[0])) || tok[0] == '.':
		v, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, exprErrorf("Invalid number %q", tok)
		}
		p.next()
		return numNode(v), nil
	case unicode.IsLetter(rune(tok[0])) || tok[0] == '_':
		p.next()
		if p.tok != "(" {
			return idNode(tok), nil
		}
		return p.call(strings.ToUpper(tok))
	}
	return nil, exprErrorf("Unexpected token %q at position %d", tok, p.pos-len(tok))
}

func (p *parser) call(fn string) (node, error) {
	p.next() // "("
	c := callNode{fn: fn}
	switch fn {
	case "METRICS":
		if strings.HasPrefix(p.tok, `"`) {
			lit := strings.Trim(p.tok, `"`)
			c.lit = &lit
			p.next()
		}
	case "SUM", "AVG", "MIN", "MAX":
		for p.tok != ")" {
			n, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, n)
			if p.tok == "," {
				p.next()
			} else if p.tok != ")" {
				break
			}
		}
		if len(c.args) != 1 {
			return nil, exprErrorf("Function %s takes one argument", fn)
		}
	default:
		return nil, exprErrorf("Unknown function %s", fn)
	}
	return c, p.expect(")")
}

func (n numNode) eval(*mathEnv) (mvalue, error) { return mvalue{scalar: true, num: float64(n)}, nil }

func (n idNode) eval(env *mathEnv) (mvalue, error) { return env.resolve(string(n)) }

func (n negNode) eval(env *mathEnv) (mvalue, error) {
	v, err := n.x.eval(env)
	if err != nil {
		return v, err
	}
	return mapValue(v, func(x float64) (float64, bool) { return -x, true }), nil
}

func (n arrNode) eval(env *mathEnv) (mvalue, error) {
	out := mvalue{array: true}
	for _, x := range n {
		v, err := x.eval(env)
		if err != nil {
			return v, err
		}
		if v.scalar {
			return v, exprErrorf("Arrays hold time series, not numbers")
		}
		out.list = append(out.list, v.list...)
	}
	return out, nil
}

func (n callNode) eval(env *mathEnv) (mvalue, error) {
	if n.fn == "METRICS" {
		filter := ""
		if n.lit != nil {
			filter = *n.lit
		}
		return mvalue{array: true, list: env.metrics(filter)}, nil
	}
	v, err := n.args[0].eval(env)
	if err != nil {
		return v, err
	}
	if v.scalar {
		return v, nil
	}
	if !v.array && len(v.list) == 1 {
		// One series: a scalar over its points.
		var vals []float64
		for _, x := range v.list[0].points {
			vals = append(vals, x)
		}
		return mvalue{scalar: true, num: reduce(n.fn, vals)}, nil
	}
	at := map[int64][]float64{}
	for _, s := range v.list {
		for t, x := range s.points {
			at[t] = append(at[t], x)
		}
	}
	out := tseries{label: n.fn, points: map[int64]float64{}}
	for t, vals := range at {
		out.points[t] = reduce(n.fn, vals)
	}
	return mvalue{list: []tseries{out}}, nil
}

func reduce(fn string, vals []float64) float64 {
	if len(vals) == 0 {
		return math.NaN()
	}
	acc := vals[0]
	for _, x := range vals[1:] {
		switch fn {
		case "SUM", "AVG":
			acc += x
		case "MIN":
			acc = math.Min(acc, x)
		case "MAX":
			acc = math.Max(acc, x)
		}
	}
	if fn == "AVG" {
		acc /= float64(len(vals))
	}
	return acc
}

func (n binNode) eval(env *mathEnv) (mvalue, error) {
	l, err := n.l.eval(env)
	if err != nil {
		return l, err
	}
	r, err := n.r.eval(env)
	if err != nil {
		return r, err
	}
	op := func(a, b float64) (float64, bool) {
		var v float64
		switch n.op {
		case '+':
			v = a + b
		case '-':
			v = a - b
		case '*':
			v = a * b
		case '/':
			if b == 0 {
				return 0, false
			}
			v = a / b
		}
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	switch {
	case l.scalar && r.scalar:
		v, ok := op(l.num, r.num)
		if !ok {
			v = math.NaN()
		}
		return mvalue{scalar: true, num: v}, nil
	case r.scalar:
		return mapValue(l, func(x float64) (float64, bool) { return op(x, r.num) }), nil
	case l.scalar:
		return mapValue(r, func(x float64) (float64, bool) { return op(l.num, x) }), nil
	}
	switch {
	case len(l.list) == 1 && !l.array || len(r.list) == 1 && !r.array:
		single, other, singleLeft := l.list[0], r, true
		if l.array || len(l.list) != 1 {
			single, other, singleLeft = r.list[0], l, false
		}
		out := mvalue{array: other.array}
		for _, s := range other.list {
			a, b := single, s
			if !singleLeft {
				a, b = s, single
			}
			out.list = append(out.list, combine(a, b, op))
		}
		return out, nil
	case len(l.list) == len(r.list):
		out := mvalue{array: true}
		for i := range l.list {
			out.list = append(out.list, combine(l.list[i], r.list[i], op))
		}
		return out, nil
	}
	return mvalue{}, exprErrorf("Arrays of different sizes (%d and %d) cannot be combined", len(l.list), len(r.list))
}

// combine applies op at the timestamps both series have.
func combine(a, b tseries, op func(a, b float64) (float64, bool)) tseries {
	out := tseries{label: a.label, points: map[int64]float64{}}
	for t, x := range a.points {
		if y, ok := b.points[t]; ok {
			if v, ok := op(x, y); ok {
				out.points[t] = v
			}
		}
	}
	return out
}

func mapValue(v mvalue, f func(float64) (float64, bool)) mvalue {
	if v.scalar {
		x, ok := f(v.num)
		if !ok {
			x = math.NaN()
		}
		return mvalue{scalar: true, num: x}
	}
	out := mvalue{array: v.array}
	for _, s := range v.list {
		m := tseries{label: s.label, points: map[int64]float64{}}
		for t, x := range s.points {
			if y, ok := f(x); ok {
				m.points[t] = y
			}
		}
		out.list = append(out.list, m)
	}
	return out
}
