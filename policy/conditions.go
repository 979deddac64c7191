package policy

import (
	"bytes"
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// condition is a compiled Condition: one key tested by one operator
// against the policy's values (ORed; the keys and operators of a
// statement are ANDed).
type condition struct {
	key      string // lowercased
	set      setOp
	ifExists bool
	op       *operator
	values   []condValue
}

type setOp uint8

const (
	noSet setOp = iota
	forAllValues
	forAnyValue
)

// condValue is a policy value, pre-parsed for its operator.
type condValue struct {
	text   glob // strings, Bool: text with variables; StringLike: a pattern
	arn    arnPattern
	num    float64
	time   time.Time
	prefix netip.Prefix
	bin    []byte
	ok     bool // the value parsed for its operator (numbers, dates, CIDRs, base64, Null's bool)
	isTrue bool // Null
}

// operator is a condition operator without its set prefix and IfExists
// suffix. A negated operator is true for a context value that matches
// none of the policy values.
type operator struct {
	family  family
	negated bool
	cmp     func(c int) bool // numeric and date comparisons
}

type family uint8

const (
	stringEquals family = iota
	stringEqualsIgnoreCase
	stringLike
	numeric
	date
	boolean
	binary
	ipAddress
	arnLike
	null
)

func eq(c int) bool { return c == 0 }
func lt(c int) bool { return c < 0 }
func le(c int) bool { return c <= 0 }
func gt(c int) bool { return c > 0 }
func ge(c int) bool { return c >= 0 }

// operators are the operators of "IAM JSON policy elements: Condition
// operators", by lowercased name.
var operators = func() map[string]*operator {
	m := map[string]*operator{}
	add := func(name string, f family, negated bool, cmp func(int) bool) {
		m[strings.ToLower(name)] = &operator{family: f, negated: negated, cmp: cmp}
	}
	add("StringEquals", stringEquals, false, nil)
	add("StringNotEquals", stringEquals, true, nil)
	add("StringEqualsIgnoreCase", stringEqualsIgnoreCase, false, nil)
	add("StringNotEqualsIgnoreCase", stringEqualsIgnoreCase, true, nil)
	add("StringLike", stringLike, false, nil)
	add("StringNotLike", stringLike, true, nil)
	add("NumericEquals", numeric, false, eq)
	add("NumericNotEquals", numeric, true, eq)
	add("NumericLessThan", numeric, false, lt)
	add("NumericLessThanEquals", numeric, false, le)
	add("NumericGreaterThan", numeric, false, gt)
	add("NumericGreaterThanEquals", numeric, false, ge)
	add("DateEquals", date, false, eq)
	add("DateNotEquals", date, true, eq)
	add("DateLessThan", date, false, lt)
	add("DateLessThanEquals", date, false, le)
	add("DateGreaterThan", date, false, gt)
	add("DateGreaterThanEquals", date, false, ge)
	add("Bool", boolean, false, nil)
	add("BinaryEquals", binary, false, nil)
	add("IpAddress", ipAddress, false, nil)
	add("NotIpAddress", ipAddress, true, nil)
	add("ArnEquals", arnLike, false, nil)
	add("ArnLike", arnLike, false, nil)
	add("ArnNotEquals", arnLike, true, nil)
	add("ArnNotLike", arnLike, true, nil)
	add("Null", null, false, nil)
	return m
}()

// parseOperator splits "ForAnyValue:StringLikeIfExists" into its set
// operator, base operator and IfExists. Null takes no IfExists.
func parseOperator(s string) (set setOp, op *operator, ifExists bool, ok bool) {
	name := s
	if i := strings.IndexByte(s, ':'); i >= 0 {
		switch strings.ToLower(s[:i]) {
		case "forallvalues":
			set = forAllValues
		case "foranyvalue":
			set = forAnyValue
		default:
			return 0, nil, false, false
		}
		name = s[i+1:]
	}
	lower := strings.ToLower(name)
	if base, found := strings.CutSuffix(lower, "ifexists"); found {
		if op = operators[base]; op != nil && op.family != null {
			return set, op, true, true
		}
	}
	op = operators[lower]
	return set, op, false, op != nil
}

// compileCondition pre-parses the policy values for the operator.
func compileCondition(c Condition, vars bool) condition {
	set, op, ifExists, _ := parseOperator(c.Operator)
	cond := condition{key: strings.ToLower(c.Key), set: set, ifExists: ifExists, op: op}
	cond.values = make([]condValue, len(c.Values))
	for i, v := range c.Values {
		cv := &cond.values[i]
		switch op.family {
		case stringEquals, stringEqualsIgnoreCase, boolean:
			cv.text = compileText(v, vars)
		case stringLike:
			cv.text = compileGlob(v, vars)
		case arnLike:
			cv.arn = compileARNCondition(v, vars)
		case numeric:
			cv.num, cv.ok = parseNumber(v)
		case date:
			cv.time, cv.ok = parseDate(v)
		case binary:
			b, err := base64.StdEncoding.DecodeString(v)
			cv.bin, cv.ok = b, err == nil
		case ipAddress:
			cv.prefix, cv.ok = parseCIDR(v)
		case null:
			b, err := strconv.ParseBool(v)
			cv.isTrue, cv.ok = b, err == nil
		}
	}
	return cond
}

// compileARNCondition compiles an ARN operator's value: unlike Resource,
// variables may stand in any field.
func compileARNCondition(s string, vars bool) arnPattern {
	if s == "*" {
		return arnPattern{any: true}
	}
	parts := splitARN(s, vars)
	p := arnPattern{fields: make([]glob, len(parts))}
	for i, part := range parts {
		p.fields[i] = compileGlob(part, vars)
	}
	return p
}

// eval is the condition's truth in the request, as "Condition operators"
// and "Single-valued vs. multivalued context keys" document it:
//   - Null tests presence alone;
//   - a missing key makes ...IfExists and ForAllValues true, ForAnyValue
//     false, a negated operator true and any other operator false;
//   - with ForAnyValue some context value, with ForAllValues every context
//     value must satisfy the operator; without a set operator a positive
//     operator needs one context value to match a policy value and a
//     negated one needs no context value to.
func (c *condition) eval(e *evalCtx) bool {
	vals, present := e.lookup(c.key)
	present = present && len(vals) > 0
	if c.set != noSet {
		// "If the key values in the request resolve to an empty data set,
		// such as an empty string", ForAllValues is true, ForAnyValue false.
		vals = nonEmpty(vals)
		present = len(vals) > 0
	}
	if c.op.family == null {
		for _, v := range c.values {
			if v.ok && v.isTrue != present {
				return true
			}
		}
		return false
	}
	if !present {
		switch {
		case c.ifExists:
			return true
		case c.set == forAllValues:
			return true
		case c.set == forAnyValue:
			return false
		}
		return c.op.negated
	}
	switch c.set {
	case forAnyValue:
		for _, v := range vals {
			if c.single(v, e) {
				return true
			}
		}
		return false
	case forAllValues:
		for _, v := range vals {
			if !c.single(v, e) {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		if c.matchAny(v, e) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// single is the operator applied to one context value.
func (c *condition) single(v string, e *evalCtx) bool {
	return c.matchAny(v, e) != c.op.negated
}

// matchAny reports whether the context value matches one of the policy
// values by the operator's positive sense.
func (c *condition) matchAny(v string, e *evalCtx) bool {
	switch c.op.family {
	case numeric:
		n, ok := parseNumber(v)
		if !ok {
			return false
		}
		for i := range c.values {
			if pv := &c.values[i]; pv.ok && c.op.cmp(compareFloat(n, pv.num)) {
				return true
			}
		}
		return false
	case date:
		t, ok := parseDate(v)
		if !ok {
			return false
		}
		for i := range c.values {
			if pv := &c.values[i]; pv.ok && c.op.cmp(t.Compare(pv.time)) {
				return true
			}
		}
		return false
	case ipAddress:
		addr, err := netip.ParseAddr(strings.TrimSpace(v))
		if err != nil {
			return false
		}
		addr = addr.Unmap()
		for i := range c.values {
			if pv := &c.values[i]; pv.ok && pv.prefix.Contains(addr) {
				return true
			}
		}
		return false
	case binary:
		b, err := base64.StdEncoding.DecodeString(v)
		for i := range c.values {
			pv := &c.values[i]
			if err == nil && pv.ok && bytes.Equal(b, pv.bin) {
				return true
			}
		}
		return false
	}
	for i := range c.values {
		pv := &c.values[i]
		switch c.op.family {
		case stringEquals:
			if s, ok := pv.text.text(e); ok && s == v {
				return true
			}
		case stringEqualsIgnoreCase, boolean:
			if s, ok := pv.text.text(e); ok && strings.EqualFold(s, v) {
				return true
			}
		case stringLike:
			if pv.text.match(v, e) {
				return true
			}
		case arnLike:
			if matchARN(&pv.arn, v, e) {
				return true
			}
		}
	}
	return false
}

func nonEmpty(vals []string) []string {
	for _, v := range vals {
		if v == "" {
			out := make([]string, 0, len(vals))
			for _, v := range vals {
				if v != "" {
					out = append(out, v)
				}
			}
			return out
		}
	}
	return vals
}

// parseNumber reads an integer or decimal value.
func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// parseDate reads the "W3C implementations of the ISO 8601 date formats"
// AWS accepts, or epoch seconds.
func parseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
	"2006-01",
	"2006",
	"20060102T150405Z0700",
	"20060102T150405Z",
}

// parseCIDR reads an address or a CIDR block; a bare address is /32
// (/128 for IPv6).
func parseCIDR(s string) (netip.Prefix, bool) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// ::ffff:192.0.2.0/120 is 192.0.2.0/24: requests' addresses are
			// unmapped too.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
