package protocol

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/cloudbox/cloudbox/api"
)

// restCodec is rest-json (json set) and rest-xml: the operation in the method
// and URI, members bound to the path, query string, headers and body.
type restCodec struct{ json bool }

// route is an operation's URI template, compiled.
type route struct {
	op       *api.Operation
	segments []string // literal segment, or "{Label}" / "{Label+}"
	query    map[string]string
	// needQuery and needHeaders are the input's required query and
	// header members. Operations that share a URI differ by them (S3's
	// PUT /{Bucket}/{Key+} is PutObject, CopyObject with
	// x-amz-copy-source, UploadPart with partNumber and uploadId), so a
	// route is first matched with them present; a request that has an
	// operation's URI but not all it requires is then that operation
	// still, and fails its validation as AWS answers.
	needQuery   []string
	needHeaders []string
	literals    int
}

var routeTables sync.Map // *api.Service -> []*route

func routes(svc *api.Service) []*route {
	if v, ok := routeTables.Load(svc); ok {
		return v.([]*route)
	}
	var rs []*route
	for _, op := range svc.Operations {
		rs = append(rs, compileRoute(op))
	}
	// The most literal template wins, as in AWS's own routing: "/{Bucket}?acl"
	// before "/{Bucket}"; of equals, the current operation before the
	// deprecated one.
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].literals != rs[j].literals {
			return rs[i].literals > rs[j].literals
		}
		if rs[i].op.Deprecated != rs[j].op.Deprecated {
			return !rs[i].op.Deprecated
		}
		if len(rs[i].segments) != len(rs[j].segments) {
			return len(rs[i].segments) > len(rs[j].segments)
		}
		return rs[i].op.Name < rs[j].op.Name
	})
	v, _ := routeTables.LoadOrStore(svc, rs)
	return v.([]*route)
}

func compileRoute(op *api.Operation) *route {
	path, query, _ := strings.Cut(op.RequestURI, "?")
	rt := &route{op: op, query: map[string]string{}}
	for _, seg := range splitPath(path) {
		rt.segments = append(rt.segments, seg)
		if !strings.HasPrefix(seg, "{") {
			rt.literals++
		}
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			rt.query[k] = v
			rt.literals++
		}
	}
	if op.NewInput != nil {
		si := info(reflect.TypeOf(op.NewInput()).Elem())
		for i := range si.fields {
			f := &si.fields[i]
			if !f.required {
				continue
			}
			switch f.location {
			case "querystring":
				if _, ok := rt.query[f.locName]; !ok {
					rt.needQuery = append(rt.needQuery, f.locName)
					rt.literals++
				}
			case "header":
				rt.needHeaders = append(rt.needHeaders, f.locName)
				rt.literals++
			}
		}
	}
	return rt
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// has says whether r carries every member rt's operation requires in
// its query string and headers.
func (rt *route) has(q url.Values, h http.Header) bool {
	for _, name := range rt.needHeaders {
		if h.Get(name) == "" {
			return false
		}
	}
	for _, name := range rt.needQuery {
		if _, ok := q[name]; !ok {
			return false
		}
	}
	return true
}

// match binds the labels of rt against the escaped path segments.
func (rt *route) match(method string, segs []string, q url.Values) (map[string]string, bool) {
	if rt.op.Method != method {
		return nil, false
	}
	for k, v := range rt.query {
		got, ok := q[k]
		if !ok || (v != "" && (len(got) == 0 || got[0] != v)) {
			return nil, false
		}
	}
	labels := map[string]string{}
	for i, seg := range rt.segments {
		if strings.HasSuffix(seg, "+}") {
			if i >= len(segs) {
				return nil, false
			}
			rest, err := url.PathUnescape(strings.Join(segs[i:], "/"))
			if err != nil {
				return nil, false
			}
			labels[seg[1:len(seg)-2]] = rest
			return labels, true
		}
		if i >= len(segs) {
			return nil, false
		}
		if strings.HasPrefix(seg, "{") {
			v, err := url.PathUnescape(segs[i])
			if err != nil {
				return nil, false
			}
			labels[seg[1:len(seg)-1]] = v
			continue
		}
		if seg != segs[i] {
			return nil, false
		}
	}
	return labels, len(segs) == len(rt.segments)
}

func escapedSegments(r *http.Request) []string {
	return splitPath(r.URL.EscapedPath())
}

func (c restCodec) Operation(r *http.Request, body []byte, svc *api.Service) (*api.Operation, error) {
	segs := escapedSegments(r)
	q := r.URL.Query()
	var loose *api.Operation // the first whose URI matches
	for _, rt := range routes(svc) {
		if _, ok := rt.match(r.Method, segs, q); ok {
			if rt.has(q, r.Header) {
				return rt.op, nil
			}
			if loose == nil {
				loose = rt.op
			}
		}
	}
	if loose != nil {
		return loose, nil
	}
	return nil, api.NewError(http.StatusNotFound, "UnknownOperationException", "No operation of %s matches %s %s", svc.ServiceID, r.Method, r.URL.Path)
}

func (c restCodec) Decode(r *http.Request, body []byte, svc *api.Service, op *api.Operation, in any) error {
	v := structPtr(in)
	si := info(v.Type())
	labels, _ := compileRoute(op).match(r.Method, escapedSegments(r), r.URL.Query())
	hostLabels := matchHostPrefix(op.HostPrefix, r.Host)
	query := r.URL.Query()
	bound := map[string]bool{}
	for i := range si.fields {
		f := &si.fields[i]
		if f.location == "querystring" && f.typ != "map" {
			bound[f.name()] = true
		}
	}
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		var err error
		switch f.location {
		case "uri":
			if s, ok := labels[f.name()]; ok {
				err = setScalar(fv, f, s, tsISO8601)
			}
		case "querystring":
			err = decodeQueryMember(fv, f, query, bound)
		case "header":
			err = decodeHeader(fv, f, r.Header)
		case "headers":
			decodePrefixHeaders(fv, f, r.Header)
		case "":
			if s, ok := hostLabels[f.name()]; ok && f.typ == "string" {
				err = setScalar(fv, f, s, tsISO8601)
			}
		}
		if err != nil {
			return c.serializationError(err)
		}
	}
	if si.payload >= 0 {
		f := &si.fields[si.payload]
		fv := v.Field(f.index)
		switch f.typ {
		case "blob":
			switch {
			case fv.Type() == readerType:
				// Set by the server (SetStream) when it streams; a
				// buffered body is read from memory.
				if body != nil {
					fv.Set(reflect.ValueOf(bytes.NewReader(body)))
				}
			case len(body) > 0:
				fv.SetBytes(body)
			}
			return nil
		case "string":
			if len(body) > 0 {
				s := string(body)
				fv.Set(reflect.ValueOf(&s))
			}
			return nil
		}
		if len(bytes.TrimSpace(body)) == 0 {
			return nil
		}
		p := reflect.New(fv.Type().Elem())
		if err := c.decodeBody(body, p.Elem()); err != nil {
			return err
		}
		// In JSON an empty object is an absent payload; in XML the element
		// itself says the payload is there.
		if !c.json || !p.Elem().IsZero() {
			fv.Set(p)
		}
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return c.decodeBody(body, v)
}

func (c restCodec) decodeBody(body []byte, v reflect.Value) error {
	if c.json {
		obj, err := parseJSONBody(body)
		if err != nil {
			return c.serializationError(err)
		}
		if err := decodeJSONStruct(obj, v, locationNames); err != nil {
			return c.serializationError(err)
		}
		return nil
	}
	root, err := parseXML(bytes.NewReader(body))
	if err != nil {
		return c.serializationError(err)
	}
	if err := decodeXMLStruct(root, v); err != nil {
		return c.serializationError(err)
	}
	return nil
}

func (c restCodec) serializationError(err error) *api.Error {
	if c.json {
		return api.Errorf("SerializationException", "%v", err)
	}
	return api.Errorf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: %v", err)
}

func decodeQueryMember(v reflect.Value, f *field, q url.Values, bound map[string]bool) error {
	switch f.typ {
	case "list":
		vals, ok := q[f.name()]
		if !ok {
			return nil
		}
		elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
		list := reflect.MakeSlice(v.Type(), 0, len(vals))
		for _, s := range vals {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := setScalar(ev, elem, s, tsISO8601); err != nil {
				return err
			}
			list = reflect.Append(list, ev)
		}
		v.Set(list)
		return nil
	case "map":
		// A query-string map takes every parameter no other member binds.
		m := reflect.MakeMap(v.Type())
		listValued := v.Type().Elem().Kind() == reflect.Slice
		for k, vals := range q {
			if bound[k] || len(vals) == 0 {
				continue
			}
			if listValued {
				l := make([]*string, len(vals))
				for i := range vals {
					l[i] = &vals[i]
				}
				m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(l))
			} else {
				s := vals[0]
				m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(&s))
			}
		}
		if m.Len() > 0 {
			v.Set(m)
		}
		return nil
	}
	s, ok := q[f.name()]
	if !ok || len(s) == 0 {
		return nil
	}
	if f.typ == "jsonvalue" {
		// Unlike a header, a query-string jsonvalue is plain JSON text.
		var jv map[string]any
		if err := json.Unmarshal([]byte(s[0]), &jv); err != nil {
			return typeError(f, "JSON text")
		}
		v.Set(reflect.ValueOf(jv).Convert(v.Type()))
		return nil
	}
	return setScalar(v, f, s[0], tsISO8601)
}

func decodeHeader(v reflect.Value, f *field, h http.Header) error {
	vals := h.Values(f.name())
	if len(vals) == 0 {
		return nil
	}
	if f.typ == "list" {
		elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
		var items []string
		for _, s := range vals {
			items = append(items, splitHeaderList(s, elem.typ == "timestamp")...)
		}
		list := reflect.MakeSlice(v.Type(), 0, len(items))
		for _, s := range items {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := setScalar(ev, elem, s, tsRFC822); err != nil {
				return err
			}
			list = reflect.Append(list, ev)
		}
		v.Set(list)
		return nil
	}
	return setScalar(v, f, strings.Join(vals, ","), tsRFC822)
}

// splitHeaderList splits a comma-separated header value, honouring quoted
// items; http-dates contain a comma of their own, so they pair up.
func splitHeaderList(s string, dates bool) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == '"':
			quoted = !quoted
		case ch == '\\' && quoted && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case ch == ',' && !quoted:
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(ch)
		}
	}
	out = append(out, strings.TrimSpace(cur.String()))
	if dates {
		var paired []string
		for i := 0; i+1 < len(out); i += 2 {
			paired = append(paired, out[i]+", "+out[i+1])
		}
		return paired
	}
	return out
}

func decodePrefixHeaders(v reflect.Value, f *field, h http.Header) {
	prefix := strings.ToLower(f.locName)
	m := reflect.MakeMap(v.Type())
	for k, vals := range h {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, prefix) || len(vals) == 0 {
			continue
		}
		s := strings.Join(vals, ",")
		m.SetMapIndex(reflect.ValueOf(lk[len(prefix):]), reflect.ValueOf(&s))
	}
	if m.Len() > 0 {
		v.Set(m)
	}
}

var hostLabelRE = regexp.MustCompile(`\{([^}]+)\}`)

// matchHostPrefix reads the host labels of an endpoint host prefix such as
// "{AccountId}." from the Host header.
func matchHostPrefix(prefix, host string) map[string]string {
	if !strings.Contains(prefix, "{") {
		return nil
	}
	var pattern strings.Builder
	var names []string
	pattern.WriteString("^")
	last := 0
	for _, m := range hostLabelRE.FindAllStringSubmatchIndex(prefix, -1) {
		pattern.WriteString(regexp.QuoteMeta(prefix[last:m[0]]))
		pattern.WriteString("([A-Za-z0-9-]+)")
		names = append(names, prefix[m[2]:m[3]])
		last = m[1]
	}
	pattern.WriteString(regexp.QuoteMeta(prefix[last:]))
	re, err := regexp.Compile(pattern.String())
	if err != nil {
		return nil
	}
	m := re.FindStringSubmatch(host)
	if m == nil {
		return nil
	}
	labels := make(map[string]string, len(names))
	for i, n := range names {
		labels[n] = m[i+1]
	}
	return labels
}

func (c restCodec) Encode(w http.ResponseWriter, svc *api.Service, op *api.Operation, out any, requestID string) {
	v := structOf(op, out)
	si := info(v.Type())
	status := op.ResponseCode
	h := w.Header()
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		if isNil(fv) {
			continue
		}
		switch f.location {
		case "statusCode":
			status = int(fv.Elem().Int())
		case "header":
			h.Set(f.name(), headerString(fv, f))
		case "headers":
			for _, k := range sortedKeys(fv) {
				if mv := fv.MapIndex(k); !isNil(mv) {
					h.Set(f.locName+k.String(), mv.Elem().String())
				}
			}
		}
	}
	if status == 0 {
		status = http.StatusOK
	}
	if si.payload >= 0 {
		f := &si.fields[si.payload]
		fv := v.Field(f.index)
		switch {
		case f.typ == "blob" && fv.Type() == readerType:
			var body io.Reader
			if !fv.IsNil() {
				body = fv.Interface().(io.Reader)
			}
			writeStream(w, status, body)
			return
		case f.typ == "blob":
			writeBody(w, status, "", fv.Bytes())
			return
		case f.typ == "string":
			var s string
			if !isNil(fv) {
				s = fv.Elem().String()
			}
			writeBody(w, status, "", []byte(s))
			return
		case isNil(fv):
			writeBody(w, status, "", nil)
			return
		}
		if c.json {
			var b bytes.Buffer
			writeJSONStruct(&b, fv.Elem(), locationNames)
			writeBody(w, status, "application/json", b.Bytes())
			return
		}
		var x xmlWriter
		name := f.name()
		if psi := info(fv.Elem().Type()); psi.locName != "" {
			name = psi.locName
		}
		x.element(name, fv, f)
		writeBody(w, status, "application/xml", x.Bytes())
		return
	}
	if c.json {
		var b bytes.Buffer
		writeJSONStruct(&b, v, locationNames)
		writeBody(w, status, "application/json", b.Bytes())
		return
	}
	if svc.ServiceID == "S3" && op.Name == "GetBucketLocation" {
		// The region is the root element's text, not a member: the SDKs
		// parse this one answer by hand.
		var x xmlWriter
		x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`)
		if f := v.FieldByName("LocationConstraint"); f.IsValid() && !f.IsNil() {
			x.text(f.Elem().String())
		}
		x.WriteString("</LocationConstraint>")
		writeBody(w, status, "application/xml", x.Bytes())
		return
	}
	if !hasBodyMembers(v) {
		writeBody(w, status, "", nil)
		return
	}
	var x xmlWriter
	root := si.locName
	if root == "" {
		root = op.Name + "Response"
	}
	x.WriteByte('<')
	x.WriteString(root)
	if si.xmlURI == "" {
		ns := svc.XMLNamespace
		if ns == "" {
			ns = op.InputXMLNamespace
		}
		if ns != "" {
			x.attr("xmlns", ns)
		}
	}
	x.structBody(v)
	x.close(root)
	writeBody(w, status, "application/xml", x.Bytes())
}

func hasBodyMembers(v reflect.Value) bool {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.location == "" && !isNil(v.Field(f.index)) {
			return true
		}
	}
	return false
}

func headerString(v reflect.Value, f *field) string {
	if f.typ == "list" {
		elem := &field{typ: elemType(v.Type()), tsFormat: f.tsFormat}
		parts := make([]string, 0, v.Len())
		for i := 0; i < v.Len(); i++ {
			s := scalarString(v.Index(i), elem, tsRFC822)
			if elem.typ == "string" && strings.ContainsAny(s, `,"`) {
				s = strconv.Quote(s)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", ")
	}
	return scalarString(v, f, tsRFC822)
}

func (c restCodec) EncodeError(w http.ResponseWriter, svc *api.Service, e *api.Error, requestID string) {
	for k, v := range e.Header {
		w.Header().Set(k, v)
	}
	if c.json {
		w.Header().Set("X-Amzn-Errortype", e.Code)
		writeBody(w, statusOf(e), "application/json", jsonErrorBody(e))
		return
	}
	var x xmlWriter
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if svc.ServiceID == "S3" {
		// S3 alone answers with a bare <Error> root.
		x.WriteString("<Error><Code>")
		x.text(e.Code)
		x.WriteString("</Code><Message>")
		x.text(e.Message)
		x.WriteString("</Message>")
		for _, f := range e.Fields {
			x.WriteByte('<')
			x.WriteString(f[0])
			x.WriteByte('>')
			x.text(f[1])
			x.close(f[0])
		}
		x.WriteString("<RequestId>")
		x.text(requestID)
		x.WriteString("</RequestId><HostId>")
		x.text(requestID)
		x.WriteString("</HostId></Error>")
	} else {
		x.WriteString("<ErrorResponse")
		if svc.XMLNamespace != "" {
			x.attr("xmlns", svc.XMLNamespace)
		}
		x.WriteString("><Error><Type>")
		x.text(faultType(e))
		x.WriteString("</Type><Code>")
		x.text(e.Code)
		x.WriteString("</Code><Message>")
		x.text(e.Message)
		x.WriteString("</Message></Error><RequestId>")
		x.text(requestID)
		x.WriteString("</RequestId></ErrorResponse>")
	}
	writeBody(w, statusOf(e), "application/xml", x.Bytes())
}
