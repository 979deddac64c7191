package main

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// typeWriter emits Go struct types for the shapes of one model. The struct
// tags follow the conventions of aws-sdk-go v1 (type, locationName,
// flattened, ...) so that the protocol tests can read our output with that
// SDK's own unmarshalers.
type typeWriter struct {
	shapes map[string]*shape
	// prefix is put before every type name (the protocol tests generate
	// many small models into one package).
	prefix string
	// jsonValue is the Go type of a jsonvalue member.
	jsonValue string
	// taken holds the identifiers already declared at package level.
	taken map[string]bool
	// emitted records the structure shapes written, in order.
	emitted       map[string]bool
	order         []string
	usesTime      bool
	usesJSONValue bool
	// streamReaders makes streaming blobs (S3's object bodies) io.Reader,
	// so that a service reads and writes them without holding them; the
	// protocol tests keep []byte, which their cases compare.
	streamReaders bool
	usesIO        bool
}

func newTypeWriter(shapes map[string]*shape, prefix, jsonValue string, reserved ...string) *typeWriter {
	w := &typeWriter{shapes: shapes, prefix: prefix, jsonValue: jsonValue, taken: map[string]bool{}, emitted: map[string]bool{}}
	for _, r := range reserved {
		w.taken[r] = true
	}
	return w
}

// typeName is the Go name of a structure shape.
func (w *typeWriter) typeName(shapeName string) string {
	return w.prefix + exportName(shapeName)
}

// need marks a shape, and every structure it reaches, to be emitted.
func (w *typeWriter) need(name string) {
	s := w.shapes[name]
	if s == nil {
		return
	}
	switch s.Type {
	case "structure":
		if w.emitted[name] {
			return
		}
		w.emitted[name] = true
		w.order = append(w.order, name)
		for _, m := range s.Members {
			w.need(m.Shape)
		}
	case "list":
		w.need(s.Member.Shape)
	case "map":
		w.need(s.Key.Shape)
		w.need(s.Value.Shape)
	case "timestamp":
		w.usesTime = true
	}
}

// goType is the Go type of a member of shape name.
func (w *typeWriter) goType(name string, m *member) string {
	s := w.shapes[name]
	if m != nil && m.JSONValue {
		w.usesJSONValue = true
		return w.jsonValue
	}
	switch s.Type {
	case "structure":
		return "*" + w.typeName(name)
	case "list":
		return "[]" + w.goType(s.Member.Shape, s.Member)
	case "map":
		return "map[string]" + w.goType(s.Value.Shape, s.Value)
	case "blob":
		if w.streamReaders && (s.Streaming || m != nil && m.Streaming) {
			w.usesIO = true
			return "io.Reader"
		}
		return "[]byte"
	}
	return "*" + scalarType(s.Type)
}

func scalarType(t string) string {
	switch t {
	case "string", "character":
		return "string"
	case "integer", "long":
		return "int64"
	case "float", "double":
		return "float64"
	case "boolean":
		return "bool"
	case "timestamp":
		return "time.Time"
	}
	panic("apigen: unknown shape type " + t)
}

// writeStructs writes every needed structure, sorted by name for stable output.
func (w *typeWriter) writeStructs(b *bytes.Buffer) {
	names := append([]string(nil), w.order...)
	sort.Strings(names)
	for _, n := range names {
		w.writeStruct(b, n, w.shapes[n])
	}
}

func (w *typeWriter) writeStruct(b *bytes.Buffer, name string, s *shape) {
	members := make([]string, 0, len(s.Members))
	for mn := range s.Members {
		members = append(members, mn)
	}
	sort.Strings(members)
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	fieldOf := map[string]string{}
	used := map[string]bool{"_": true}
	for _, mn := range members {
		f := exportName(mn)
		for used[f] {
			f += "_"
		}
		used[f] = true
		fieldOf[mn] = f
	}

	fmt.Fprintf(b, "type %s struct {\n", w.typeName(name))
	var st []string
	st = append(st, `type:"structure"`)
	if s.Payload != "" {
		st = append(st, tag("payload", fieldOf[s.Payload]))
	}
	if s.LocationName != "" {
		st = append(st, tag("locationName", s.LocationName))
	}
	if s.XMLNamespace != nil {
		st = append(st, xmlNSTags(s.XMLNamespace)...)
	}
	fmt.Fprintf(b, "\t_ struct{} `%s`\n", strings.Join(st, " "))
	for _, mn := range members {
		m := s.Members[mn]
		ms := w.shapes[m.Shape]
		if ms.EventStream {
			continue // event streams are not served over these protocols
		}
		fmt.Fprintf(b, "\t%s %s `%s`\n", fieldOf[mn], w.goType(m.Shape, m), strings.Join(w.memberTags(mn, m, ms, required[mn]), " "))
	}
	b.WriteString("}\n\n")
}

func (w *typeWriter) memberTags(name string, m *member, s *shape, required bool) []string {
	var t []string
	if m.Location != "" {
		t = append(t, tag("location", m.Location))
	} else if s.Location != "" {
		t = append(t, tag("location", s.Location))
	}
	// The wire name: the member's locationName; for a flattened list, the
	// name of its items; the shape's locationName; and where the Go name
	// differs from the member name, the member name itself (as aws-sdk-go
	// does, so that its unmarshalers read the same tags).
	switch {
	case m.LocationName != "":
		t = append(t, tag("locationName", m.LocationName))
	case s.Type == "list" && (s.Flattened || m.Flattened) && s.Member.LocationName != "":
		t = append(t, tag("locationName", s.Member.LocationName))
	case s.LocationName != "":
		t = append(t, tag("locationName", s.LocationName))
	case name != exportName(name):
		t = append(t, tag("locationName", name))
	}
	if m.QueryName != "" {
		t = append(t, tag("queryName", m.QueryName))
	}
	if name != exportName(name) {
		t = append(t, tag("member", name))
	}
	switch s.Type {
	case "list":
		if s.Member.LocationName != "" {
			t = append(t, tag("locationNameList", s.Member.LocationName))
		}
	case "map":
		if s.Key.LocationName != "" {
			t = append(t, tag("locationNameKey", s.Key.LocationName))
		}
		if s.Value.LocationName != "" {
			t = append(t, tag("locationNameValue", s.Value.LocationName))
		}
	}
	if m.JSONValue {
		t = append(t, tag("type", "jsonvalue"))
	} else {
		t = append(t, tag("type", s.Type))
	}
	if m.Flattened || s.Flattened {
		t = append(t, `flattened:"true"`)
	}
	if f := m.TimestampFormat; f != "" {
		t = append(t, tag("timestampFormat", normTimestamp(f)))
	} else if f := s.TimestampFormat; f != "" {
		t = append(t, tag("timestampFormat", normTimestamp(f)))
	}
	if m.XMLAttribute {
		t = append(t, `xmlAttribute:"true"`)
	}
	if m.XMLNamespace != nil {
		t = append(t, xmlNSTags(m.XMLNamespace)...)
	}
	if m.HostLabel {
		t = append(t, `hostLabel:"true"`)
	}
	if m.IdempotencyTok {
		t = append(t, `idempotencyToken:"true"`)
	}
	if required {
		t = append(t, `required:"true"`)
	}
	if s.Min != nil && *s.Min > 0 {
		t = append(t, tag("min", strconv.FormatFloat(*s.Min, 'f', -1, 64)))
	}
	if s.Max != nil && s.Type != "blob" && s.Type != "map" && s.Type != "float" && s.Type != "double" {
		t = append(t, tag("max", strconv.FormatFloat(*s.Max, 'f', -1, 64)))
	}
	if len(s.Enum) > 0 {
		t = append(t, tag("enum", exportName(m.Shape)))
	}
	if s.Streaming || m.Streaming {
		t = append(t, `streaming:"true"`)
	}
	return t
}

func xmlNSTags(ns *namespace) []string {
	var t []string
	if ns.Prefix != "" {
		t = append(t, tag("xmlPrefix", ns.Prefix))
	}
	if ns.URI != "" {
		t = append(t, tag("xmlURI", ns.URI))
	}
	return t
}

// normTimestamp maps the model's format names to the ones the tags use.
func normTimestamp(f string) string {
	switch strings.ToLower(f) {
	case "iso8601":
		return "iso8601"
	case "unixtimestamp":
		return "unixTimestamp"
	case "rfc822":
		return "rfc822"
	}
	return f
}

func tag(k, v string) string { return k + ":" + strconv.Quote(v) }

// writeEnums writes a constant per value of each enum string shape.
func (w *typeWriter) writeEnums(b *bytes.Buffer) {
	var names []string
	for n, s := range w.shapes {
		if s.Type == "string" && len(s.Enum) > 0 {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(b, "// Values of %s.\nconst (\n", exportName(n))
		for _, v := range w.shapes[n].Enum {
			id := exportName(n) + identFromValue(v)
			for w.taken[id] {
				id += "_"
			}
			w.taken[id] = true
			fmt.Fprintf(b, "\t%s = %q\n", id, v)
		}
		b.WriteString(")\n\n")
	}
}

// exportName turns a model name into an exported Go identifier.
func exportName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case i == 0 && unicode.IsLetter(r):
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_':
			if i == 0 {
				b.WriteString("X")
			}
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	return b.String()
}

// identFromValue turns an enum value such as "t2.micro" into "T2Micro".
func identFromValue(v string) string {
	var b strings.Builder
	up := true
	for _, r := range v {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Empty"
	}
	return b.String()
}
