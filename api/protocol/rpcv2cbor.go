package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
)

// rpcv2CBORCodec is the Smithy RPC v2 CBOR protocol
// (smithy.protocols#rpcv2Cbor): POST /service/{ServiceName}/operation/{Op}
// with the header smithy-protocol: rpc-v2-cbor and a CBOR map of the input
// members, keyed by member name; the answer is a CBOR map of the output, or
// of __type and message for an error.
//
// cloudbox serves it for the services whose model gives a JSON target
// prefix: the prefix is the service's shape name, the {ServiceName} of the
// path (CloudWatch: GraniteServiceVersion20100801).
type rpcv2CBORCodec struct{}

// RPCv2Protocol is the value of the smithy-protocol header of the protocol.
const RPCv2Protocol = "rpc-v2-cbor"

const cborContentType = "application/cbor"

// IsRPCv2CBOR reports whether r says it speaks the RPC v2 CBOR protocol.
func IsRPCv2CBOR(r *http.Request) bool {
	return strings.EqualFold(strings.TrimSpace(r.Header.Get("Smithy-Protocol")), RPCv2Protocol)
}

// RPCv2Path splits a path ending in /service/{ServiceName}/operation/{Op};
// anything before /service/ is ignored.
func RPCv2Path(path string) (service, operation string, ok bool) {
	segs := strings.Split(path, "/")
	n := len(segs)
	if n < 5 || segs[n-4] != "service" || segs[n-2] != "operation" || segs[n-3] == "" || segs[n-1] == "" {
		return "", "", false
	}
	return segs[n-3], segs[n-1], true
}

func (rpcv2CBORCodec) Operation(r *http.Request, body []byte, svc *api.Service) (*api.Operation, error) {
	service, name, ok := RPCv2Path(r.URL.Path)
	if !ok {
		return nil, api.NewError(http.StatusNotFound, "UnknownOperationException",
			"The path %s is not /service/{ServiceName}/operation/{OperationName}", r.URL.Path)
	}
	if r.Method != http.MethodPost {
		return nil, api.NewError(http.StatusMethodNotAllowed, "UnknownOperationException",
			"The RPC v2 protocol takes POST requests, not %s", r.Method)
	}
	if svc.TargetPrefix != "" && service != svc.TargetPrefix {
		return nil, api.NewError(http.StatusNotFound, "UnknownOperationException",
			"The service %s is not this service (%s)", service, svc.TargetPrefix)
	}
	op := svc.Operations[name]
	if op == nil {
		return nil, api.NewError(http.StatusNotFound, "UnknownOperationException", "Unknown operation %s", name)
	}
	return op, nil
}

func (rpcv2CBORCodec) Decode(r *http.Request, body []byte, svc *api.Service, op *api.Operation, in any) error {
	if len(body) == 0 {
		return nil // no input members
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != cborContentType {
			return api.NewError(http.StatusUnsupportedMediaType, "UnsupportedMediaTypeException",
				"The RPC v2 CBOR protocol takes %s, not %q", cborContentType, ct)
		}
	}
	root, err := decodeCBOR(body)
	if err != nil {
		return api.Errorf("SerializationException", "Could not parse the request body as CBOR: %v", err)
	}
	if root == nil || root == (cborUndefined{}) {
		return nil
	}
	if err := cborToStruct(root, structPtr(in)); err != nil {
		return api.Errorf("SerializationException", "%v", err)
	}
	return nil
}

func (rpcv2CBORCodec) Encode(w http.ResponseWriter, svc *api.Service, op *api.Operation, out any, requestID string) {
	var cw cborWriter
	writeCBORStruct(&cw, structOf(op, out))
	w.Header().Set("Smithy-Protocol", RPCv2Protocol)
	writeBody(w, http.StatusOK, cborContentType, cw.b)
}

func (rpcv2CBORCodec) EncodeError(w http.ResponseWriter, svc *api.Service, e *api.Error, requestID string) {
	h := w.Header()
	h.Set("Smithy-Protocol", RPCv2Protocol)
	if svc.QueryCompatible {
		// SDKs read the query code from it (ErrorCode() of the error).
		h.Set("X-Amzn-Query-Error", e.Code+";"+faultType(e))
	}
	writeBody(w, statusOf(e), cborContentType, cborErrorBody(e))
}

// cborErrorBody is {"__type": code, "message": m, "Message": m}. __type is the
// plain code: clients strip any "namespace#" and look the error shape up by
// its short name. The message goes under both spellings because error shapes
// name the member either way (CloudWatch's ResourceNotFound has "message",
// its ResourceNotFoundException "Message"); clients skip the one they do not
// model.
func cborErrorBody(e *api.Error) []byte {
	var w cborWriter
	w.head(cborMapT, 3)
	w.text("__type")
	w.text(e.Code)
	w.text("message")
	w.text(e.Message)
	w.text("Message")
	w.text(e.Message)
	return w.b
}

// writeCBORStruct writes the members of struct v that are set, as a map
// keyed by member name. HTTP binding traits mean nothing to RPC v2: every
// member is in the body.
func writeCBORStruct(w *cborWriter, v reflect.Value) {
	si := info(v.Type())
	n := 0
	for i := range si.fields {
		if !isNil(v.Field(si.fields[i].index)) {
			n++
		}
	}
	w.head(cborMapT, uint64(n))
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		if isNil(fv) {
			continue
		}
		w.text(f.member)
		writeCBORValue(w, fv, f)
	}
}

func writeCBORValue(w *cborWriter, v reflect.Value, f *field) {
	switch f.typ {
	case "structure":
		writeCBORStruct(w, v.Elem())
		return
	case "list":
		elem := &field{typ: elemType(v.Type()), member: f.member}
		w.head(cborArray, uint64(v.Len()))
		for i := 0; i < v.Len(); i++ {
			if ev := v.Index(i); isNil(ev) {
				w.null()
			} else {
				writeCBORValue(w, ev, elem)
			}
		}
		return
	case "map":
		// Entries without a value are left out: a dense map has no nulls.
		elem := &field{typ: elemType(v.Type()), member: f.member}
		keys := sortedKeys(v)
		n := 0
		for _, k := range keys {
			if !isNil(v.MapIndex(k)) {
				n++
			}
		}
		w.head(cborMapT, uint64(n))
		for _, k := range keys {
			if mv := v.MapIndex(k); !isNil(mv) {
				w.text(k.String())
				writeCBORValue(w, mv, elem)
			}
		}
		return
	case "jsonvalue":
		js, _ := json.Marshal(v.Interface())
		w.text(string(js))
		return
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		w.bytes(v.Bytes())
	case reflect.String:
		w.text(v.String())
	case reflect.Bool:
		w.bool(v.Bool())
	case reflect.Int64, reflect.Int:
		w.int(v.Int())
	case reflect.Float64:
		w.float64(v.Float())
	case reflect.Struct:
		w.time(v.Interface().(time.Time))
	default:
		w.null()
	}
}

// cborToStruct fills struct v from a decoded CBOR map. Unknown members are
// ignored, and null (or undefined) members are absent.
func cborToStruct(raw any, v reflect.Value) error {
	m, ok := raw.(cborMap)
	if !ok {
		return fmt.Errorf("expected a map for structure %s, got %s", v.Type().Name(), cborKind(raw))
	}
	si := info(v.Type())
	seen := make(map[string]bool, len(m))
	for _, p := range m {
		key, ok := p.Key.(string)
		if !ok {
			return fmt.Errorf("a key of structure %s is %s, not a text string", v.Type().Name(), cborKind(p.Key))
		}
		if seen[key] {
			return fmt.Errorf("member %s appears twice", key)
		}
		seen[key] = true
		for i := range si.fields {
			if f := &si.fields[i]; f.member == key {
				if err := cborToValue(p.Value, v.Field(f.index), f); err != nil {
					return err
				}
				break
			}
		}
	}
	return nil
}

func isCBORNull(raw any) bool {
	return raw == nil || raw == (cborUndefined{})
}

// cborToValue sets v (a *T, []byte, slice, map or jsonvalue field) from raw.
func cborToValue(raw any, v reflect.Value, f *field) error {
	if isCBORNull(raw) {
		return nil
	}
	switch f.typ {
	case "structure":
		p := reflect.New(v.Type().Elem())
		if err := cborToStruct(raw, p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case "list":
		arr, ok := raw.([]any)
		if !ok {
			return cborTypeError(f, "an array", raw)
		}
		elem := &field{typ: elemType(v.Type()), member: f.member}
		list := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, x := range arr {
			if err := cborToValue(x, list.Index(i), elem); err != nil {
				return err
			}
		}
		v.Set(list)
		return nil
	case "map":
		m, ok := raw.(cborMap)
		if !ok {
			return cborTypeError(f, "a map", raw)
		}
		elem := &field{typ: elemType(v.Type()), member: f.member}
		out := reflect.MakeMapWithSize(v.Type(), len(m))
		for _, p := range m {
			key, ok := p.Key.(string)
			if !ok {
				return fmt.Errorf("a key of %s is %s, not a text string", f.member, cborKind(p.Key))
			}
			kv := reflect.ValueOf(key).Convert(v.Type().Key())
			if out.MapIndex(kv).IsValid() {
				return fmt.Errorf("key %q of %s appears twice", key, f.member)
			}
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := cborToValue(p.Value, ev, elem); err != nil {
				return err
			}
			out.SetMapIndex(kv, ev)
		}
		v.Set(out)
		return nil
	case "jsonvalue":
		s, ok := raw.(string)
		if !ok {
			return cborTypeError(f, "a text string", raw)
		}
		var jv map[string]any
		if err := json.Unmarshal([]byte(s), &jv); err != nil {
			return fmt.Errorf("%s must be JSON text", f.member)
		}
		v.Set(reflect.ValueOf(jv).Convert(v.Type()))
		return nil
	case "blob":
		b, ok := raw.([]byte)
		if !ok {
			return cborTypeError(f, "a byte string", raw)
		}
		v.SetBytes(b)
		return nil
	case "timestamp":
		t, err := cborTime(raw, f)
		if err != nil {
			return err
		}
		return setPtr(v, reflect.ValueOf(t))
	case "string", "character":
		s, ok := raw.(string)
		if !ok {
			return cborTypeError(f, "a text string", raw)
		}
		return setPtr(v, reflect.ValueOf(s))
	case "boolean":
		b, ok := raw.(bool)
		if !ok {
			return cborTypeError(f, "a boolean", raw)
		}
		return setPtr(v, reflect.ValueOf(b))
	case "integer", "long", "short", "byte":
		n, ok := cborInt(raw)
		if !ok {
			return cborTypeError(f, "an integer", raw)
		}
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		switch f.typ {
		case "integer":
			lo, hi = math.MinInt32, math.MaxInt32
		case "short":
			lo, hi = math.MinInt16, math.MaxInt16
		case "byte":
			lo, hi = math.MinInt8, math.MaxInt8
		}
		if n < lo || n > hi {
			return fmt.Errorf("%s: %d is out of the range of a %s", f.member, n, f.typ)
		}
		return setPtr(v, reflect.ValueOf(n))
	case "float", "double":
		switch x := raw.(type) {
		case float64:
			return setPtr(v, reflect.ValueOf(x))
		case uint64:
			return setPtr(v, reflect.ValueOf(float64(x)))
		case cborNeg:
			return setPtr(v, reflect.ValueOf(-1-float64(x)))
		}
		return cborTypeError(f, "a number", raw)
	}
	return fmt.Errorf("%s: unsupported member type %q", f.member, f.typ)
}

// setPtr sets v, a *T, to a new T holding x (converted to T).
func setPtr(v reflect.Value, x reflect.Value) error {
	p := reflect.New(v.Type().Elem())
	p.Elem().Set(x.Convert(v.Type().Elem()))
	v.Set(p)
	return nil
}

// cborInt returns an integer data item as an int64.
func cborInt(raw any) (int64, bool) {
	switch x := raw.(type) {
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case cborNeg:
		if x <= math.MaxInt64 {
			return -1 - int64(x), true
		}
	}
	return 0, false
}

// Timestamps are taken from years 1 to 9999, as AWS does; beyond, a time
// would not survive the conversion to milliseconds on the way out.
const (
	minEpoch = -62135596800 // 0001-01-01T00:00:00Z
	maxEpoch = 253402300799 // 9999-12-31T23:59:59Z
)

// cborTime reads a timestamp: tag 1 over integer or floating-point epoch
// seconds.
func cborTime(raw any, f *field) (time.Time, error) {
	tag, ok := raw.(cborTag)
	if !ok || tag.Num != cborTagEpoch {
		return time.Time{}, cborTypeError(f, "a timestamp (tag 1)", raw)
	}
	if n, ok := cborInt(tag.Content); ok && n >= minEpoch && n <= maxEpoch {
		return time.Unix(n, 0).UTC(), nil
	}
	if fl, ok := tag.Content.(float64); ok && fl > minEpoch-1 && fl < maxEpoch+1 { // NaN is not
		if t := unixTime(fl); t.Unix() >= minEpoch && t.Unix() <= maxEpoch {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%s: a timestamp must be epoch seconds of a year from 1 to 9999", f.member)
}

func cborTypeError(f *field, want string, raw any) error {
	return fmt.Errorf("%s must be %s, not %s", f.member, want, cborKind(raw))
}

// cborKind names the kind of a decoded data item, for error messages.
func cborKind(raw any) string {
	switch x := raw.(type) {
	case uint64, cborNeg:
		return "an integer"
	case float64:
		return "a floating-point number"
	case []byte:
		return "a byte string"
	case string:
		return "a text string"
	case []any:
		return "an array"
	case cborMap:
		return "a map"
	case cborTag:
		return fmt.Sprintf("a tag %d", x.Num)
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case cborUndefined:
		return "undefined"
	}
	return "a simple value"
}
