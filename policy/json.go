package policy

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// node is a JSON value with its object members in document order.
// encoding/json's maps would lose the order of condition operators (which
// decisions report) and hide the duplicate keys the grammar forbids.
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

// parseJSON reads exactly one JSON value from doc.
func parseJSON(doc string) (*node, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.UseNumber()
	n, err := readNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the document")
	}
	return n, nil
}

func readNode(dec *json.Decoder) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			n := &node{kind: objectNode}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, errors.New("object key is not a string")
				}
				if seen[key] {
					return nil, errDuplicateKey
				}
				seen[key] = true
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.members = append(n.members, member{key, v})
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		case '[':
			n := &node{kind: arrayNode}
			for dec.More() {
				v, err := readNode(dec)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return n, nil
		}
		return nil, errors.New("unexpected delimiter")
	case string:
		return &node{kind: stringNode, text: t}, nil
	case json.Number:
		return &node{kind: numberNode, text: t.String()}, nil
	case bool:
		return &node{kind: boolNode, boolean: t}, nil
	case nil:
		return &node{kind: nullNode}, nil
	}
	return nil, errors.New("unexpected token")
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
