package template

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// NoValue is what AWS::NoValue evaluates to: the property holding it is
// removed.
type noValue struct{}

// Context is what evaluation needs from the stack and the services.
type Context struct {
	Region, Account, StackName, StackID string
	NotificationARNs                    []string
	// Params are the parameters' values: string, or []string for list
	// types.
	Params map[string]any
	// Ref and GetAtt answer for resources already created.
	Ref    func(name string) (any, error)
	GetAtt func(name, attr string) (any, error)
	// Import returns the value of an export of the region.
	Import func(name string) (string, error)
	// AZs lists a region's availability zones.
	AZs func(region string) ([]string, error)

	// conds are the conditions' values, worked out once (mu) by the
	// first evaluation, which parallel resources may race to.
	mu    sync.Mutex
	conds map[string]bool
}

// Partition is the region's partition.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// URLSuffix is the domain of the region's endpoints (AWS::URLSuffix).
func URLSuffix(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "amazonaws.com.cn"
	}
	return "amazonaws.com"
}

func (c *Context) pseudo(name string) (any, bool) {
	switch name {
	case "AWS::Region":
		return c.Region, true
	case "AWS::AccountId":
		return c.Account, true
	case "AWS::StackName":
		return c.StackName, true
	case "AWS::StackId":
		return c.StackID, true
	case "AWS::Partition":
		return Partition(c.Region), true
	case "AWS::URLSuffix":
		return URLSuffix(c.Region), true
	case "AWS::NoValue":
		return noValue{}, true
	case "AWS::NotificationARNs":
		l := make([]any, len(c.NotificationARNs))
		for i, a := range c.NotificationARNs {
			l[i] = a
		}
		return l, true
	}
	return nil, false
}

// Conditions evaluates every condition of t (once per context).
func (t *Template) evalConditions(c *Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conds != nil {
		return nil
	}
	c.conds = map[string]bool{}
	visiting := map[string]bool{}
	var eval func(name string) (bool, error)
	var cond func(v any) (bool, error)
	eval = func(name string) (bool, error) {
		if b, ok := c.conds[name]; ok {
			return b, nil
		}
		expr, ok := t.Conditions[name]
		if !ok {
			return false, formatErr("Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", name)
		}
		if visiting[name] {
			return false, formatErr("Circular dependency between conditions: [%s]", name)
		}
		visiting[name] = true
		b, err := cond(expr)
		if err != nil {
			return false, err
		}
		c.conds[name] = b
		return b, nil
	}
	cond = func(v any) (bool, error) {
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			return strconv.ParseBool(x)
		case map[string]any:
			if len(x) != 1 {
				break
			}
			for k, a := range x {
				switch k {
				case "Condition":
					s, ok := a.(string)
					if !ok {
						return false, errorf("Template error: Condition must be a string")
					}
					return eval(s)
				case "Fn::Equals":
					l, ok := a.([]any)
					if !ok || len(l) != 2 {
						return false, errorf("Template error: every Fn::Equals object requires a list of 2 string parameters.")
					}
					var vals [2]any
					for i := range l {
						r, err := t.resolve(l[i], c, true)
						if err != nil {
							return false, err
						}
						vals[i] = r
					}
					return fmt.Sprint(scalarString(vals[0])) == fmt.Sprint(scalarString(vals[1])), nil
				case "Fn::And", "Fn::Or":
					l, ok := a.([]any)
					if !ok || len(l) < 2 || len(l) > 10 {
						return false, errorf("Template error: every %s object requires a list of at least 2 and at most 10 boolean parameters.", k)
					}
					and := k == "Fn::And"
					for _, e := range l {
						b, err := cond(e)
						if err != nil {
							return false, err
						}
						if b != and {
							return !and, nil
						}
					}
					return and, nil
				case "Fn::Not":
					l, ok := a.([]any)
					if !ok || len(l) != 1 {
						return false, errorf("Template error: every Fn::Not object requires a list of 1 boolean parameter.")
					}
					b, err := cond(l[0])
					return !b, err
				}
			}
		}
		return false, errorf("Template error: unsupported condition %v", v)
	}
	names := make([]string, 0, len(t.Conditions))
	for n := range t.Conditions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, err := eval(n); err != nil {
			c.conds = nil
			return err
		}
	}
	return nil
}

// Condition says whether the named condition holds.
func (t *Template) Condition(name string, c *Context) (bool, error) {
	if name == "" {
		return true, nil
	}
	if err := t.evalConditions(c); err != nil {
		return false, err
	}
	return c.conds[name], nil
}

// Resolve evaluates every intrinsic function in v. Properties set to
// AWS::NoValue are removed.
func (t *Template) Resolve(v any, c *Context) (any, error) {
	if err := t.evalConditions(c); err != nil {
		return nil, err
	}
	r, err := t.resolve(v, c, false)
	if _, ok := r.(noValue); ok {
		return nil, err
	}
	return r, err
}

var functions = []string{"Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAZs", "Fn::GetAtt", "Fn::If",
	"Fn::ImportValue", "Fn::Join", "Fn::Length", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::ToJsonString", "Ref"}

func (t *Template) resolve(v any, c *Context, inCondition bool) (any, error) {
	switch x := v.(type) {
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			r, err := t.resolve(e, c, inCondition)
			if err != nil {
				return nil, err
			}
			if _, ok := r.(noValue); !ok {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, a := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return t.call(k, a, c, inCondition)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := t.resolve(e, c, inCondition)
			if err != nil {
				return nil, err
			}
			if _, ok := r.(noValue); !ok {
				out[k] = r
			}
		}
		return out, nil
	}
	return v, nil
}

func (t *Template) call(fn string, a any, c *Context, inCondition bool) (any, error) {
	switch fn {
	case "Ref":
		name, ok := a.(string)
		if !ok {
			return nil, errorf("Template error: every Ref object must have a single String value.")
		}
		if v, ok := c.pseudo(name); ok {
			return v, nil
		}
		if v, ok := c.Params[name]; ok {
			if l, ok := v.([]string); ok {
				out := make([]any, len(l))
				for i, s := range l {
					out[i] = s
				}
				return out, nil
			}
			return v, nil
		}
		if inCondition || c.Ref == nil {
			return nil, formatErr("Unresolved resource dependencies [%s] in the Resources block of the template", name)
		}
		return c.Ref(name)
	case "Fn::GetAtt":
		r, attr, err := getAttArgs(a)
		if err != nil {
			return nil, err
		}
		if attr == "" {
			l := a.([]any)
			av, err := t.resolve(l[1], c, inCondition)
			if err != nil {
				return nil, err
			}
			attr, _ = av.(string)
		}
		if c.GetAtt == nil {
			return nil, errorf("Template error: instance of Fn::GetAtt references undefined resource %s", r)
		}
		return c.GetAtt(r, attr)
	case "Fn::If":
		l, ok := a.([]any)
		if !ok || len(l) != 3 {
			return nil, errorf("Template error: Fn::If requires a list argument with three elements")
		}
		name, ok := l[0].(string)
		if !ok {
			return nil, errorf("Template error: Fn::If requires a list argument with the first element being a condition")
		}
		b, ok := c.conds[name]
		if !ok {
			return nil, errorf("Template error: unresolved condition dependency %s in Fn::If", name)
		}
		if b {
			return t.resolve(l[1], c, inCondition)
		}
		return t.resolve(l[2], c, inCondition)
	}
	arg, err := t.resolve(a, c, inCondition)
	if err != nil {
		return nil, err
	}
	switch fn {
	case "Fn::Base64":
		s, ok := arg.(string)
		if !ok {
			return nil, errorf("Template error: every Fn::Base64 object must have a String value")
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "Fn::Join":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errorf("Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
		}
		delim, ok1 := l[0].(string)
		items, ok2 := l[1].([]any)
		if !ok1 || !ok2 {
			return nil, errorf("Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
		}
		parts := make([]string, len(items))
		for i, it := range items {
			s, ok := scalarString(it)
			if !ok {
				return nil, errorf("Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
			}
			parts[i] = s
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errorf("Template error: Fn::Select requires a list argument with two elements: an integer index and a list")
		}
		is, _ := scalarString(l[0])
		i, err := strconv.Atoi(is)
		if err != nil {
			return nil, errorf("Template error: Fn::Select requires a list argument with two elements: an integer index and a list")
		}
		items, ok := l[1].([]any)
		if !ok {
			return nil, errorf("Template error: Fn::Select requires a list argument with two elements: an integer index and a list")
		}
		if i < 0 || i >= len(items) {
			return nil, errorf("Template error: Fn::Select cannot select nonexistent value at index %d", i)
		}
		return items[i], nil
	case "Fn::Split":
		l, ok := arg.([]any)
		if !ok || len(l) != 2 {
			return nil, errorf("Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.")
		}
		delim, ok1 := l[0].(string)
		s, ok2 := l[1].(string)
		if !ok1 || !ok2 || delim == "" {
			return nil, errorf("Template error: every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.")
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::FindInMap":
		l, ok := arg.([]any)
		if !ok || (len(l) != 3 && len(l) != 4) {
			return nil, errorf("Template error: every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value")
		}
		var keys [3]string
		for i := range keys {
			keys[i], _ = scalarString(l[i])
		}
		if m, ok := t.Mappings[keys[0]].(map[string]any); ok {
			if m2, ok := m[keys[1]].(map[string]any); ok {
				if v, ok := m2[keys[2]]; ok {
					return v, nil
				}
			}
		}
		if len(l) == 4 {
			if d, ok := l[3].(map[string]any); ok {
				if v, ok := d["DefaultValue"]; ok {
					return v, nil
				}
			}
		}
		return nil, errorf("Template error: Unable to get mapping for %s::%s::%s", keys[0], keys[1], keys[2])
	case "Fn::GetAZs":
		region, _ := arg.(string)
		if region == "" {
			region = c.Region
		}
		if c.AZs == nil {
			return []any{}, nil
		}
		azs, err := c.AZs(region)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(azs))
		for i, z := range azs {
			out[i] = z
		}
		return out, nil
	case "Fn::ImportValue":
		name, ok := arg.(string)
		if !ok {
			return nil, errorf("Template error: the attribute in Fn::ImportValue must not depend on any resources, imported values, or Fn::GetAZs")
		}
		if c.Import == nil {
			return nil, errorf("No export named %s found", name)
		}
		return c.Import(name)
	case "Fn::Sub":
		return t.sub(a, arg, c)
	case "Fn::Cidr":
		return cidr(arg)
	case "Fn::Length":
		l, ok := arg.([]any)
		if !ok {
			return nil, errorf("Template error: Fn::Length requires a list")
		}
		return int64(len(l)), nil
	case "Fn::ToJsonString":
		b, err := json.Marshal(arg)
		if err != nil {
			return nil, errorf("Template error: Fn::ToJsonString requires an object or a list")
		}
		return string(b), nil
	}
	return nil, formatErr("Encountered unsupported function: %s Supported functions are: [%s]", fn, strings.Join(functions, ", "))
}

func getAttArgs(a any) (res, attr string, err error) {
	bad := errorf("Template error: every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute")
	switch x := a.(type) {
	case string:
		r, at, ok := strings.Cut(x, ".")
		if !ok || r == "" || at == "" {
			return "", "", bad
		}
		return r, at, nil
	case []any:
		if len(x) != 2 {
			return "", "", bad
		}
		r, ok := x[0].(string)
		if !ok || r == "" {
			return "", "", bad
		}
		switch at := x[1].(type) {
		case string:
			if at == "" {
				return "", "", bad
			}
			return r, at, nil
		case map[string]any:
			return r, "", nil // an expression, resolved by the caller
		}
	}
	return "", "", bad
}

func subArgs(a any) (string, map[string]any, error) {
	switch x := a.(type) {
	case string:
		return x, nil, nil
	case []any:
		if len(x) == 2 {
			s, ok1 := x[0].(string)
			m, ok2 := x[1].(map[string]any)
			if ok1 && ok2 {
				return s, m, nil
			}
		}
	}
	return "", nil, errorf("Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string")
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)
var subName = regexp.MustCompile(`^[A-Za-z0-9_.:]+$`)

// subVariables lists the variables a Fn::Sub string names (not ${!x}).
func subVariables(s string) ([]string, error) {
	var out []string
	for _, m := range subVar.FindAllStringSubmatch(s, -1) {
		name := strings.TrimSpace(m[1])
		if strings.HasPrefix(name, "!") {
			continue
		}
		if !subName.MatchString(name) {
			return nil, errorf("Template error: variable names in Fn::Sub syntax must contain only alphanumeric characters, underscores, periods, and colons")
		}
		out = append(out, name)
	}
	return out, nil
}

// sub evaluates Fn::Sub; raw is the unresolved argument (the string is
// never itself an expression), arg the resolved one (the map's values).
func (t *Template) sub(raw, arg any, c *Context) (any, error) {
	s, _, err := subArgs(raw)
	if err != nil {
		return nil, err
	}
	var vars map[string]any
	if l, ok := arg.([]any); ok {
		vars, _ = l[1].(map[string]any)
	}
	if _, err := subVariables(s); err != nil {
		return nil, err
	}
	var failure error
	out := subVar.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSpace(m[2 : len(m)-1])
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var v any
		if x, ok := vars[name]; ok {
			v = x
		} else if r, a, dotted := strings.Cut(name, "."); dotted && !strings.HasPrefix(name, "AWS::") {
			v, err = t.call("Fn::GetAtt", []any{r, a}, c, false)
		} else {
			v, err = t.call("Ref", name, c, false)
		}
		if err != nil && failure == nil {
			failure = err
		}
		str, ok := scalarString(v)
		if !ok && failure == nil {
			failure = errorf("Template error: variable %s in Fn::Sub expression does not resolve to a string", name)
		}
		return str
	})
	if failure != nil {
		return nil, failure
	}
	return out, nil
}

// cidr carves count subnets of cidrBits host bits out of a block.
func cidr(arg any) (any, error) {
	bad := errorf("Template error: Fn::Cidr requires a list argument with three elements: an ipBlock, a count and a cidrBits")
	l, ok := arg.([]any)
	if !ok || len(l) != 3 {
		return nil, bad
	}
	block, _ := scalarString(l[0])
	cs, _ := scalarString(l[1])
	bs, _ := scalarString(l[2])
	pfx, err := netip.ParsePrefix(block)
	count, err1 := strconv.Atoi(cs)
	bits, err2 := strconv.Atoi(bs)
	if err != nil || err1 != nil || err2 != nil || count < 1 || count > 256 {
		return nil, bad
	}
	pfx = pfx.Masked()
	total := pfx.Addr().BitLen()
	newLen := total - bits
	if bits < 1 || newLen < pfx.Bits() || newLen > total {
		return nil, bad
	}
	if newLen-pfx.Bits() < 31 && count > 1<<(newLen-pfx.Bits()) {
		return nil, bad
	}
	out := make([]any, 0, count)
	addr := pfx.Addr()
	for i := 0; i < count; i++ {
		out = append(out, netip.PrefixFrom(addr, newLen).String())
		addr = advance(addr, bits)
	}
	return out, nil
}

// advance adds 2^bits to a.
func advance(a netip.Addr, bits int) netip.Addr {
	b := a.AsSlice()
	carry := 1 << (bits % 8)
	for i := len(b) - 1 - bits/8; i >= 0 && carry > 0; i-- {
		s := int(b[i]) + carry
		b[i], carry = byte(s), s>>8
	}
	n, _ := netip.AddrFromSlice(b)
	return n
}

// scalarString renders a scalar as CloudFormation does when a string is
// expected.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// String renders a resolved scalar as a string ("" when it is none).
func String(v any) string {
	s, _ := scalarString(v)
	return s
}
