package protocol

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
)

// xmlWriter writes the XML of query, ec2 and rest-xml responses.
type xmlWriter struct {
	bytes.Buffer
}

func (w *xmlWriter) text(s string) { xml.EscapeText(w, []byte(s)) }

func (w *xmlWriter) attr(name, value string) {
	w.WriteByte(' ')
	w.WriteString(name)
	w.WriteString(`="`)
	xml.EscapeText(w, []byte(value))
	w.WriteByte('"')
}

func (w *xmlWriter) open(name string) {
	w.WriteByte('<')
	w.WriteString(name)
	w.WriteByte('>')
}

func (w *xmlWriter) close(name string) {
	w.WriteString("</")
	w.WriteString(name)
	w.WriteByte('>')
}

// element writes one member value as element(s) named name.
func (w *xmlWriter) element(name string, v reflect.Value, f *field) {
	if isNil(v) {
		return
	}
	switch f.typ {
	case "list":
		w.list(name, v, f)
		return
	case "map":
		w.xmlMap(name, v, f)
		return
	}
	w.WriteByte('<')
	w.WriteString(name)
	if f.xmlURI != "" {
		if f.xmlPrefix != "" {
			w.attr("xmlns:"+f.xmlPrefix, f.xmlURI)
		} else {
			w.attr("xmlns", f.xmlURI)
		}
	}
	if f.typ == "structure" {
		w.structBody(v.Elem())
		w.close(name)
		return
	}
	w.WriteByte('>')
	w.text(scalarString(v, f, tsISO8601))
	w.close(name)
}

// structBody writes the attributes of struct v, closes the start tag, then
// writes its member elements.
func (w *xmlWriter) structBody(v reflect.Value) {
	si := info(v.Type())
	if si.xmlURI != "" {
		if si.xmlPrefix != "" {
			w.attr("xmlns:"+si.xmlPrefix, si.xmlURI)
		} else {
			w.attr("xmlns", si.xmlURI)
		}
	}
	for i := range si.fields {
		f := &si.fields[i]
		if f.xmlAttr && !isNil(v.Field(f.index)) {
			w.attr(f.name(), scalarString(v.Field(f.index), f, tsISO8601))
		}
	}
	w.WriteByte('>')
	w.members(v)
}

// members writes the body members of struct v (not headers, not attributes).
func (w *xmlWriter) members(v reflect.Value) {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.xmlAttr || (f.location != "" && f.location != "body") {
			continue
		}
		w.element(f.name(), v.Field(f.index), f)
	}
}

// resultMembers writes the members of an operation's output. Unlike nested
// members, a list the service left nil is written empty, as AWS answers
// "no VPCs" with an empty <vpcSet/> that SDKs read as [].
func (w *xmlWriter) resultMembers(v reflect.Value) {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.xmlAttr || (f.location != "" && f.location != "body") {
			continue
		}
		fv := v.Field(f.index)
		if f.typ == "list" && fv.IsNil() && !f.flattened {
			fv = reflect.MakeSlice(fv.Type(), 0, 0)
		}
		w.element(f.name(), fv, f)
	}
}

func (w *xmlWriter) list(name string, v reflect.Value, f *field) {
	elem := &field{typ: elemType(v.Type()), tsFormat: f.tsFormat}
	if f.flattened {
		elemName := name
		for i := 0; i < v.Len(); i++ {
			w.element(elemName, v.Index(i), elem)
		}
		return
	}
	member := f.listName
	if member == "" {
		member = "member"
	}
	w.open(name)
	for i := 0; i < v.Len(); i++ {
		w.element(member, v.Index(i), elem)
	}
	w.close(name)
}

func (w *xmlWriter) xmlMap(name string, v reflect.Value, f *field) {
	kn, vn := f.keyName, f.valueName
	if kn == "" {
		kn = "key"
	}
	if vn == "" {
		vn = "value"
	}
	elem := &field{typ: elemType(v.Type()), tsFormat: f.tsFormat}
	entry := "entry"
	if f.flattened {
		entry = name
	} else {
		w.open(name)
	}
	for _, k := range sortedKeys(v) {
		w.open(entry)
		w.open(kn)
		w.text(k.String())
		w.close(kn)
		w.element(vn, v.MapIndex(k), elem)
		w.close(entry)
	}
	if !f.flattened {
		w.close(name)
	}
}

func isNil(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// xmlNode is a parsed XML element. Request bodies are read into a tree
// first, because members may arrive in any order.
type xmlNode struct {
	name     string
	attrs    []xml.Attr
	children []*xmlNode
	text     strings.Builder
}

const maxXMLDepth = 100

var errXMLDepth = errors.New("XML document nested too deeply")

// parseXML reads the root element of r.
func parseXML(r io.Reader) (*xmlNode, error) {
	d := xml.NewDecoder(r)
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			if root == nil {
				return nil, io.ErrUnexpectedEOF
			}
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxXMLDepth {
				return nil, errXMLDepth
			}
			n := &xmlNode{name: t.Name.Local, attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root == nil {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return root, nil
			}
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
}

func (n *xmlNode) child(name string) *xmlNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *xmlNode) attr(name string) (string, bool) {
	local := name
	if i := strings.IndexByte(name, ':'); i >= 0 {
		local = name[i+1:]
	}
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// decodeXMLStruct fills struct v from the children and attributes of n.
func decodeXMLStruct(n *xmlNode, v reflect.Value) error {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.location != "" {
			continue
		}
		fv := v.Field(f.index)
		name := f.name()
		if f.xmlAttr {
			if s, ok := n.attr(name); ok {
				if err := setScalar(fv, f, s, tsISO8601); err != nil {
					return err
				}
			}
			continue
		}
		if f.flattened && (f.typ == "list" || f.typ == "map") {
			var nodes []*xmlNode
			for _, c := range n.children {
				if c.name == name {
					nodes = append(nodes, c)
				}
			}
			if len(nodes) > 0 {
				if err := decodeXMLCollection(nodes, fv, f); err != nil {
					return err
				}
			}
			continue
		}
		c := n.child(name)
		if c == nil {
			continue
		}
		if err := decodeXMLValue(c, fv, f); err != nil {
			return err
		}
	}
	return nil
}

func decodeXMLValue(n *xmlNode, v reflect.Value, f *field) error {
	switch f.typ {
	case "structure":
		p := reflect.New(v.Type().Elem())
		if err := decodeXMLStruct(n, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case "list", "map":
		return decodeXMLCollection(n.children, v, f)
	}
	return setScalar(v, f, n.text.String(), tsISO8601)
}

// decodeXMLCollection reads list items or map entries from nodes.
func decodeXMLCollection(nodes []*xmlNode, v reflect.Value, f *field) error {
	elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
	if f.typ == "list" {
		list := reflect.MakeSlice(v.Type(), 0, len(nodes))
		for _, c := range nodes {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := decodeXMLValue(c, ev, elem); err != nil {
				return err
			}
			list = reflect.Append(list, ev)
		}
		v.Set(list)
		return nil
	}
	kn, vn := f.keyName, f.valueName
	if kn == "" {
		kn = "key"
	}
	if vn == "" {
		vn = "value"
	}
	m := reflect.MakeMap(v.Type())
	for _, entry := range nodes {
		kc, vc := entry.child(kn), entry.child(vn)
		if kc == nil {
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		if vc != nil {
			if err := decodeXMLValue(vc, ev, elem); err != nil {
				return err
			}
		}
		m.SetMapIndex(reflect.ValueOf(kc.text.String()), ev)
	}
	v.Set(m)
	return nil
}
