package protocol_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/client/metadata"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/private/protocol/ec2query"
	"github.com/aws/aws-sdk-go/private/protocol/jsonrpc"
	"github.com/aws/aws-sdk-go/private/protocol/query"
	"github.com/aws/aws-sdk-go/private/protocol/restjson"
	"github.com/aws/aws-sdk-go/private/protocol/restxml"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/protocol"
)

// protocolCase ties a case of the SDK's protocol tests to the generated
// types of its model (cases_gen_test.go).
type protocolCase struct {
	Service *api.Service
	Op      *api.Operation
}

// skipped lists the cases that do not apply in the server's direction.
var skipped = map[string]string{
	"output/rest-json/9/0": "a map bound to all response headers also sees the headers every real HTTP response carries (Content-Type); the case's response has none",
	"input/rest-xml/26/0":  "header names and values with surrounding white space cannot reach a server: HTTP forbids white space in field names and strips it around values (RFC 9110, 5.5)",
}

type testFile []struct {
	Description string `json:"description"`
	Cases       []struct {
		Params     map[string]any `json:"params"`
		Serialized struct {
			Method  string            `json:"method"`
			URI     string            `json:"uri"`
			Body    string            `json:"body"`
			Headers map[string]string `json:"headers"`
			Host    string            `json:"host"`
		} `json:"serialized"`
		Result   map[string]any `json:"result"`
		Response struct {
			StatusCode int               `json:"status_code"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		} `json:"response"`
	} `json:"cases"`
}

func protocolTestsDir(t *testing.T) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go").Output()
	if err != nil {
		t.Fatalf("locating aws-sdk-go: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "models", "protocol_tests")
}

func loadTests(t *testing.T, dir, kind, proto string) testFile {
	b, err := os.ReadFile(filepath.Join(dir, kind, proto+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f testFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

var protocols = []string{"ec2", "query", "json", "rest-json", "rest-xml"}

// TestProtocolInput decodes every serialized request of the SDK's input
// protocol tests and compares what we read with the parameters the SDK
// serialized.
func TestProtocolInput(t *testing.T) {
	dir := protocolTestsDir(t)
	for _, proto := range protocols {
		passed, total := 0, 0
		for i, suite := range loadTests(t, dir, "input", proto) {
			for j, c := range suite.Cases {
				key := fmt.Sprintf("input/%s/%d/%d", proto, i, j)
				if why, ok := skipped[key]; ok {
					t.Logf("skipped %s: %s", key, why)
					continue
				}
				total++
				pc := protocolCases[key]
				name := fmt.Sprintf("%s/%s", key, suite.Description)
				ok := t.Run(name, func(t *testing.T) {
					method := c.Serialized.Method
					if method == "" {
						method = pc.Op.Method
					}
					if method == "" {
						method = "POST"
					}
					r := httptest.NewRequest(method, "http://example.com"+c.Serialized.URI, strings.NewReader(c.Serialized.Body))
					if c.Serialized.Host != "" {
						r.Host = c.Serialized.Host
					}
					for k, v := range c.Serialized.Headers {
						r.Header.Set(k, v)
					}
					if pc.Service.Protocol == "json" && r.Header.Get("X-Amz-Target") == "" {
						// A few cases leave out the header every real request has.
						r.Header.Set("X-Amz-Target", "Service."+pc.Op.Name)
					}
					codec := protocol.For(pc.Service.Protocol)
					body := []byte(c.Serialized.Body)
					op, err := codec.Operation(r, body, serviceWith(pc))
					if err != nil {
						t.Fatalf("routing: %v", err)
					}
					if op != pc.Op {
						t.Fatalf("routing: got %s", op.Name)
					}
					in := pc.Op.NewInput()
					if err := codec.Decode(r, body, pc.Service, pc.Op, in); err != nil {
						t.Fatalf("decode: %v", err)
					}
					got := toGeneric(reflect.ValueOf(in), c.Params)
					want := normalize(c.Params)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("decoded\n got %s\nwant %s", dump(got), dump(want))
					}
				})
				if ok {
					passed++
				}
			}
		}
		fmt.Printf("protocol input  %-9s %3d/%d cases pass\n", proto, passed, total)
	}
}

// TestProtocolOutput encodes the result of every output protocol test and
// has aws-sdk-go's own unmarshalers read our bytes back.
func TestProtocolOutput(t *testing.T) {
	dir := protocolTestsDir(t)
	for _, proto := range protocols {
		passed, total := 0, 0
		for i, suite := range loadTests(t, dir, "output", proto) {
			for j, c := range suite.Cases {
				key := fmt.Sprintf("output/%s/%d/%d", proto, i, j)
				if why, ok := skipped[key]; ok {
					t.Logf("skipped %s: %s", key, why)
					continue
				}
				total++
				pc := protocolCases[key]
				name := fmt.Sprintf("%s/%s", key, suite.Description)
				ok := t.Run(name, func(t *testing.T) {
					out := pc.Op.NewOutput()
					fromGeneric(c.Result, reflect.ValueOf(out).Elem())
					rec := httptest.NewRecorder()
					protocol.For(pc.Service.Protocol).Encode(rec, pc.Service, pc.Op, out, "req-1")
					back := pc.Op.NewOutput()
					if err := sdkUnmarshal(pc, rec, back); err != nil {
						t.Fatalf("the SDK could not read our response: %v\n%s", err, rec.Body.String())
					}
					got := toGeneric(reflect.ValueOf(back), c.Result)
					want := normalize(c.Result)
					if !reflect.DeepEqual(got, want) && !sameJSON(rec.Body.Bytes(), c.Response.Body) {
						t.Fatalf("SDK read back\n got %s\nwant %s\nbody %s", dump(got), dump(want), rec.Body.String())
					}
				})
				if ok {
					passed++
				}
			}
		}
		fmt.Printf("protocol output %-9s %3d/%d cases pass\n", proto, passed, total)
	}
}

// TestProtocolErrors checks that the SDK reads our error envelope of every
// protocol as the code, message, status and request id we sent.
func TestProtocolErrors(t *testing.T) {
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			svc := &api.Service{Protocol: proto, ServiceID: "Test", APIVersion: "2020-01-01", TargetPrefix: "Test", JSONVersion: "1.1", XMLNamespace: "https://example.com/doc/"}
			op := &api.Operation{Name: "Op", NewOutput: func() any { return &struct{}{} }}
			rec := httptest.NewRecorder()
			e := api.NewError(http.StatusConflict, "ThingInUse", "The thing <x> & \"y\" is in use")
			protocol.For(proto).EncodeError(rec, svc, e, "req-42")
			pc := protocolCase{Service: svc, Op: op}
			err := sdkUnmarshal(pc, rec, &struct{}{})
			rf, ok := err.(awserr.RequestFailure)
			if !ok {
				t.Fatalf("SDK did not read an error: %v\n%s", err, rec.Body.String())
			}
			if rf.Code() != e.Code || rf.Message() != e.Message || rf.StatusCode() != e.Status {
				t.Fatalf("SDK read %q %q %d, want %q %q %d", rf.Code(), rf.Message(), rf.StatusCode(), e.Code, e.Message, e.Status)
			}
			if proto != "json" && proto != "rest-json" && rf.RequestID() != "req-42" {
				t.Fatalf("request id %q", rf.RequestID())
			}
		})
	}
}

// serviceWith returns a copy of the case's service whose only operation is
// the case's, so routing is exercised.
func serviceWith(pc protocolCase) *api.Service {
	s := *pc.Service
	s.Operations = map[string]*api.Operation{pc.Op.Name: pc.Op}
	return &s
}

// sdkUnmarshal reads rec with aws-sdk-go v1's unmarshaler for the protocol.
func sdkUnmarshal(pc protocolCase, rec *httptest.ResponseRecorder, out any) error {
	var h request.Handlers
	switch pc.Service.Protocol {
	case "ec2":
		h.UnmarshalMeta.PushBackNamed(ec2query.UnmarshalMetaHandler)
		h.Unmarshal.PushBackNamed(ec2query.UnmarshalHandler)
		h.UnmarshalError.PushBackNamed(ec2query.UnmarshalErrorHandler)
	case "query":
		h.UnmarshalMeta.PushBackNamed(query.UnmarshalMetaHandler)
		h.Unmarshal.PushBackNamed(query.UnmarshalHandler)
		h.UnmarshalError.PushBackNamed(query.UnmarshalErrorHandler)
	case "json":
		h.UnmarshalMeta.PushBackNamed(jsonrpc.UnmarshalMetaHandler)
		h.Unmarshal.PushBackNamed(jsonrpc.UnmarshalHandler)
		h.UnmarshalError.PushBackNamed(jsonrpc.UnmarshalErrorHandler)
	case "rest-json":
		h.UnmarshalMeta.PushBackNamed(restjson.UnmarshalMetaHandler)
		h.Unmarshal.PushBackNamed(restjson.UnmarshalHandler)
		h.UnmarshalError.PushBackNamed(restjson.UnmarshalErrorHandler)
	case "rest-xml":
		h.UnmarshalMeta.PushBackNamed(restxml.UnmarshalMetaHandler)
		h.Unmarshal.PushBackNamed(restxml.UnmarshalHandler)
		h.UnmarshalError.PushBackNamed(restxml.UnmarshalErrorHandler)
	}
	r := request.New(aws.Config{}, metadata.ClientInfo{ServiceName: "test", APIVersion: pc.Service.APIVersion}, h, nil,
		&request.Operation{Name: pc.Op.Name}, nil, out)
	res := rec.Result()
	r.HTTPResponse = &http.Response{StatusCode: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes()))}
	r.Handlers.UnmarshalMeta.Run(r)
	if res.StatusCode >= 300 {
		r.Handlers.UnmarshalError.Run(r)
		return r.Error
	}
	r.Handlers.Unmarshal.Run(r)
	return r.Error
}

// toGeneric turns a generated struct into the JSON-like value the test files
// use, keeping only what like names.
func toGeneric(v reflect.Value, like any) any {
	if v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		return toGeneric(v.Elem(), like)
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		if v.Type().Elem().Kind() != reflect.Struct || v.Type().Elem() == reflect.TypeOf(time.Time{}) {
			return toGeneric(v.Elem(), like)
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			return float64(t.UnixMilli()) / 1e3
		}
		m := map[string]any{}
		likeM, _ := like.(map[string]any)
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			if sf.Name == "_" {
				continue
			}
			name := sf.Name
			if mn := sf.Tag.Get("member"); mn != "" {
				name = mn
			}
			fv := v.Field(i)
			if (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.IsNil() {
				continue
			}
			sub, present := likeM[name]
			if !present && sf.Tag.Get("idempotencyToken") == "true" {
				continue // the SDK filled in a token the parameters never had
			}
			m[name] = toGeneric(fv, sub)
		}
		return m
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return string(v.Bytes())
		}
		l := make([]any, v.Len())
		likeL, _ := like.([]any)
		for i := range l {
			var sub any
			if i < len(likeL) {
				sub = likeL[i]
			}
			l[i] = toGeneric(v.Index(i), sub)
		}
		return l
	case reflect.Map:
		m := map[string]any{}
		likeM, _ := like.(map[string]any)
		for _, k := range v.MapKeys() {
			m[k.String()] = toGeneric(v.MapIndex(k), likeM[k.String()])
		}
		if v.Type() == reflect.TypeOf(aws.JSONValue{}) {
			return normalize(m)
		}
		return m
	case reflect.String:
		return v.String()
	case reflect.Int64:
		return float64(v.Int())
	case reflect.Float64:
		f := v.Float()
		if math.IsNaN(f) {
			return "NaN"
		}
		return f
	case reflect.Bool:
		return v.Bool()
	}
	return v.Interface()
}

// normalize makes the test file's values comparable with toGeneric's.
func normalize(x any) any {
	switch v := x.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range v {
			if e == nil {
				continue
			}
			m[k] = normalize(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = normalize(e)
		}
		return l
	}
	return x
}

// fromGeneric fills a generated struct from a test file's value.
func fromGeneric(x any, v reflect.Value) {
	if x == nil {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fromGeneric(x, p.Elem())
		v.Set(p)
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			f, _ := x.(float64)
			sec, frac := math.Modf(f)
			v.Set(reflect.ValueOf(time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6).UTC()))
			return
		}
		m, _ := x.(map[string]any)
		for i := 0; i < v.NumField(); i++ {
			sf := v.Type().Field(i)
			name := sf.Name
			if mn := sf.Tag.Get("member"); mn != "" {
				name = mn
			}
			if e, ok := m[name]; ok {
				fromGeneric(e, v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			s, _ := x.(string)
			v.SetBytes([]byte(s))
			return
		}
		l, _ := x.([]any)
		s := reflect.MakeSlice(v.Type(), len(l), len(l))
		for i, e := range l {
			fromGeneric(e, s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m, _ := x.(map[string]any)
		if v.Type() == reflect.TypeOf(aws.JSONValue{}) {
			v.Set(reflect.ValueOf(aws.JSONValue(m)))
			return
		}
		mv := reflect.MakeMap(v.Type())
		for k, e := range m {
			ev := reflect.New(v.Type().Elem()).Elem()
			fromGeneric(e, ev)
			mv.SetMapIndex(reflect.ValueOf(k), ev)
		}
		v.Set(mv)
	case reflect.String:
		s, _ := x.(string)
		v.SetString(s)
	case reflect.Int64:
		f, _ := x.(float64)
		v.SetInt(int64(f))
	case reflect.Float64:
		switch f := x.(type) {
		case float64:
			v.SetFloat(f)
		case string:
			switch f {
			case "NaN":
				v.SetFloat(math.NaN())
			case "Infinity":
				v.SetFloat(math.Inf(1))
			case "-Infinity":
				v.SetFloat(math.Inf(-1))
			}
		}
	case reflect.Bool:
		b, _ := x.(bool)
		v.SetBool(b)
	}
}

// sameJSON reports whether our body is the case's serialized body as JSON:
// then the SDK reads ours exactly as it reads the one its test feeds it, even
// where its reading differs from the case's result.
func sameJSON(ours []byte, theirs string) bool {
	var a, b any
	if json.Unmarshal(ours, &a) != nil || json.Unmarshal([]byte(theirs), &b) != nil {
		return false
	}
	return reflect.DeepEqual(a, b)
}

func dump(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}
