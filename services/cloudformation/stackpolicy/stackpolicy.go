// Package stackpolicy reads CloudFormation stack policies and decides
// whether they allow an update action on a stack's resource.
package stackpolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Update actions a stack policy governs.
const (
	Modify  = "Update:Modify"
	Replace = "Update:Replace"
	Delete  = "Update:Delete"
)

// ErrInvalid is what AWS answers (as a ValidationError) for any policy it
// cannot read: malformed JSON and unknown or missing elements alike.
var ErrInvalid = errors.New("Error validating stack policy: Invalid stack policy")

// resourcePrefix is how a policy names a stack's resource by logical id.
const resourcePrefix = "LogicalResourceId/"

// Policy is a parsed stack policy.
type Policy struct{ statements []statement }

type statement struct {
	allow       bool
	actions     []string
	notAction   bool
	resources   []string
	notResource bool
	// types are the ResourceType condition's values (nil: no condition);
	// like says they are patterns (StringLike) rather than exact
	// (StringEquals).
	types []string
	like  bool
}

// maxPatterns bounds the values of one element, so that matching stays
// cheap whatever the input (AWS bounds the whole body at 16 KB).
const maxPatterns = 1000

// Parse reads a policy. An empty object is a valid policy with no
// statements, which allows nothing.
func Parse(body string) (*Policy, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &doc); err != nil || doc == nil {
		return nil, ErrInvalid
	}
	p := &Policy{}
	for k, v := range doc {
		switch k {
		case "Statement":
			raws, err := oneOrMany(v)
			if err != nil {
				return nil, err
			}
			for _, raw := range raws {
				st, err := parseStatement(raw)
				if err != nil {
					return nil, err
				}
				p.statements = append(p.statements, st)
			}
		case "Version":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, ErrInvalid
			}
		default:
			return nil, ErrInvalid
		}
	}
	return p, nil
}

// oneOrMany reads an element given as one value or a list of them.
func oneOrMany(v json.RawMessage) ([]json.RawMessage, error) {
	var list []json.RawMessage
	if json.Unmarshal(v, &list) == nil {
		if len(list) > maxPatterns {
			return nil, ErrInvalid
		}
		return list, nil
	}
	return []json.RawMessage{v}, nil
}

// strings reads an element given as a string or a non-empty list of
// strings.
func stringsOf(v json.RawMessage) ([]string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return []string{s}, nil
	}
	var l []string
	if json.Unmarshal(v, &l) != nil || len(l) == 0 || len(l) > maxPatterns {
		return nil, ErrInvalid
	}
	return l, nil
}

func parseStatement(raw json.RawMessage) (statement, error) {
	var st statement
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return st, ErrInvalid
	}
	var effect, principal bool
	for k, v := range m {
		switch k {
		case "Effect":
			var e string
			if json.Unmarshal(v, &e) != nil || (e != "Allow" && e != "Deny") {
				return st, ErrInvalid
			}
			st.allow, effect = e == "Allow", true
		case "Principal":
			// A stack policy applies to everyone: "*" is the only principal.
			var p string
			if json.Unmarshal(v, &p) != nil || p != "*" {
				return st, ErrInvalid
			}
			principal = true
		case "Action", "NotAction":
			if st.actions != nil {
				return st, ErrInvalid
			}
			l, err := stringsOf(v)
			if err != nil {
				return st, err
			}
			for _, a := range l {
				if a != "Update:*" && a != Modify && a != Replace && a != Delete {
					return st, ErrInvalid
				}
			}
			st.actions, st.notAction = l, k == "NotAction"
		case "Resource", "NotResource":
			if st.resources != nil {
				return st, ErrInvalid
			}
			l, err := stringsOf(v)
			if err != nil {
				return st, err
			}
			for _, r := range l {
				if r != "*" && !strings.HasPrefix(r, resourcePrefix) {
					return st, ErrInvalid
				}
			}
			st.resources, st.notResource = l, k == "NotResource"
		case "Condition":
			if err := st.condition(v); err != nil {
				return st, err
			}
		case "Sid":
			var s string
			if json.Unmarshal(v, &s) != nil {
				return st, ErrInvalid
			}
		default:
			return st, ErrInvalid
		}
	}
	if !effect || !principal || st.actions == nil || st.resources == nil {
		return st, ErrInvalid
	}
	return st, nil
}

// condition reads a Condition: StringEquals or StringLike on the
// ResourceType key, the only one stack policies know.
func (st *statement) condition(v json.RawMessage) error {
	var m map[string]map[string]json.RawMessage
	if json.Unmarshal(v, &m) != nil || len(m) != 1 {
		return ErrInvalid
	}
	for op, keys := range m {
		if op != "StringEquals" && op != "StringLike" || len(keys) != 1 {
			return ErrInvalid
		}
		raw, ok := keys["ResourceType"]
		if !ok {
			return ErrInvalid
		}
		l, err := stringsOf(raw)
		if err != nil {
			return err
		}
		st.types, st.like = l, op == "StringLike"
	}
	return nil
}

// Check says whether the policy allows action on the resource logical of
// type typ; when not, reason is AWS's ResourceStatusReason. An explicit
// Deny wins over any Allow; without an Allow the action is denied.
func (p *Policy) Check(action, logical, typ string) (ok bool, reason string) {
	resource := resourcePrefix + logical
	allowed := false
	for i, st := range p.statements {
		if !st.matches(action, resource, typ) {
			continue
		}
		if !st.allow {
			return false, fmt.Sprintf("Action denied by stack policy: Statement [#%d] does not allow [%s] for resource [%s]", i+1, action, resource)
		}
		allowed = true
	}
	if !allowed {
		return false, fmt.Sprintf("Action denied by stack policy: No statement allows [%s] for resource [%s]", action, resource)
	}
	return true, ""
}

func (st *statement) matches(action, resource, typ string) bool {
	if anyMatch(st.actions, action) == st.notAction {
		return false
	}
	if anyMatch(st.resources, resource) == st.notResource {
		return false
	}
	if st.types == nil {
		return true
	}
	for _, t := range st.types {
		if t == typ || st.like && glob(t, typ) {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches s against a pattern where * is any run of characters and
// ? any one, in time linear in their product at worst.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
