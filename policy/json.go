package policy

import (
	"encoding/json"
	"errors"
	"strings"
)

// node is a JSON value with its object members in document order.
// encoding/json's maps would lose the order of condition operators and
// hide the duplicate keys the grammar forbids.
type node struct {
	kind    nodeKind
	text    string // string contents, or a number's literal text
	boolean bool
	members []member // objects
	items   []*node  // arrays
}

type member struct {
	key   string
	value *node
}

type nodeKind uint8

const (
	nullNode nodeKind = iota
	stringNode
	numberNode
	boolNode
	objectNode
	arrayNode
)

// errDuplicateKey marks an object with a key twice: "Individual elements
// must not contain multiple instances of the same key" (policy grammar).
var errDuplicateKey = errors.New("duplicate key")

// parseJSON reads exactly one JSON value from doc. encoding/json checks
// the syntax (and bounds the nesting); a small reader then builds the
// ordered tree, much faster than the Decoder's token stream.
func parseJSON(doc string) (*node, error) {
	if !json.Valid([]byte(doc)) {
		return nil, errors.New("invalid JSON")
	}
	r := reader{s: doc}
	return r.value()
}

// reader walks a document already known to be valid JSON.
type reader struct {
	s   string
	pos int
}

func (r *reader) skipSpace() {
	for r.pos < len(r.s) {
		switch r.s[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *reader) value() (*node, error) {
	r.skipSpace()
	switch c := r.s[r.pos]; c {
	case '{':
		r.pos++
		n := &node{kind: objectNode}
		for {
			r.skipSpace()
			if r.s[r.pos] == '}' {
				r.pos++
				return n, nil
			}
			if r.s[r.pos] == ',' {
				r.pos++
				r.skipSpace()
			}
			key, err := r.str()
			if err != nil {
				return nil, err
			}
			for _, m := range n.members {
				if m.key == key {
					return nil, errDuplicateKey
				}
			}
			r.skipSpace()
			r.pos++ // ':'
			v, err := r.value()
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, member{key, v})
		}
	case '[':
		r.pos++
		n := &node{kind: arrayNode}
		for {
			r.skipSpace()
			if r.s[r.pos] == ']' {
				r.pos++
				return n, nil
			}
			if r.s[r.pos] == ',' {
				r.pos++
			}
			v, err := r.value()
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
	case '"':
		text, err := r.str()
		return &node{kind: stringNode, text: text}, err
	case 't':
		r.pos += len("true")
		return &node{kind: boolNode, boolean: true}, nil
	case 'f':
		r.pos += len("false")
		return &node{kind: boolNode}, nil
	case 'n':
		r.pos += len("null")
		return &node{kind: nullNode}, nil
	}
	start := r.pos
	for r.pos < len(r.s) && strings.IndexByte("+-.0123456789eE", r.s[r.pos]) >= 0 {
		r.pos++
	}
	return &node{kind: numberNode, text: r.s[start:r.pos]}, nil
}

// str reads a string literal; only one with escapes needs decoding.
func (r *reader) str() (string, error) {
	start := r.pos
	r.pos++
	escaped := false
	for r.s[r.pos] != '"' {
		if r.s[r.pos] == '\\' {
			escaped = true
			r.pos++
		}
		r.pos++
	}
	r.pos++
	raw := r.s[start:r.pos]
	if !escaped {
		return raw[1 : len(raw)-1], nil
	}
	var text string
	err := json.Unmarshal([]byte(raw), &text)
	return text, err
}

// scalar returns the text of a string, number or boolean: condition
// values may be written as any of them ("10", 10, "true", true).
func (n *node) scalar() (string, bool) {
	switch n.kind {
	case stringNode, numberNode:
		return n.text, true
	case boolNode:
		if n.boolean {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// strings returns a string or an array of strings; ok is false for any
// other shape.
func (n *node) strings() (ss []string, ok bool) {
	switch n.kind {
	case stringNode:
		return []string{n.text}, true
	case arrayNode:
		ss = make([]string, 0, len(n.items))
		for _, it := range n.items {
			if it.kind != stringNode {
				return nil, false
			}
			ss = append(ss, it.text)
		}
		return ss, true
	}
	return nil, false
}

// scalars is strings for condition values: a scalar or an array of them.
func (n *node) scalars() (ss []string, ok bool) {
	if n.kind == arrayNode {
		ss = make([]string, 0, len(n.items))
		for _, it := range n.items {
			s, ok := it.scalar()
			if !ok {
				return nil, false
			}
			ss = append(ss, s)
		}
		return ss, true
	}
	s, ok := n.scalar()
	if !ok {
		return nil, false
	}
	return []string{s}, true
}
