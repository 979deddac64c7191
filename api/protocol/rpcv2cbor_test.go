package protocol

import (
	"bytes"
	"compress/gzip"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/cloudwatch"
)

const cwPath = "/service/GraniteServiceVersion20100801/operation/"

func cborRequest(method, path string, body []byte) *http.Request {
	r := httptest.NewRequest(method, "http://localhost"+path, bytes.NewReader(body))
	r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	r.Header.Set("Accept", "application/cbor")
	if len(body) > 0 {
		r.Header.Set("Content-Type", "application/cbor")
	}
	return r
}

func cborOf(t testing.TB, v any) []byte {
	t.Helper()
	var w cborWriter
	if err := encodeCBOR(&w, v); err != nil {
		t.Fatal(err)
	}
	return w.b
}

func TestRPCv2Path(t *testing.T) {
	for _, c := range []struct {
		path, svc, op string
		ok            bool
	}{
		{"/service/S/operation/Op", "S", "Op", true},
		{"/a/b/service/S/operation/Op", "S", "Op", true},
		{"/service/service/operation/operation", "service", "operation", true},
		{"service/S/operation/Op", "", "", false},
		{"/", "", "", false},
		{"/service/S/operation/", "", "", false},
		{"/service//operation/Op", "", "", false},
		{"/service/S/operation/Op/", "", "", false},
		{"/service/S/operations/Op", "", "", false},
		{"/services/S/operation/Op", "", "", false},
	} {
		svc, op, ok := RPCv2Path(c.path)
		if svc != c.svc || op != c.op || ok != c.ok {
			t.Errorf("%s: %q %q %v", c.path, svc, op, ok)
		}
	}
}

func TestRPCv2Operation(t *testing.T) {
	codec := For("smithy-rpc-v2-cbor")
	for _, c := range []struct {
		method, path string
		op           string
		status       int
	}{
		{"POST", cwPath + "ListMetrics", "ListMetrics", 0},
		{"POST", "/some/prefix" + cwPath + "PutMetricData", "PutMetricData", 0},
		{"POST", cwPath + "NoSuchOperation", "", 404},
		{"POST", "/service/CertificateManager/operation/ListMetrics", "", 404},
		{"POST", "/", "", 404},
		{"GET", cwPath + "ListMetrics", "", 405},
	} {
		op, err := codec.Operation(cborRequest(c.method, c.path, nil), nil, cloudwatch.Service)
		if c.status != 0 {
			e, ok := err.(*api.Error)
			if !ok || e.Status != c.status || e.Code != "UnknownOperationException" {
				t.Errorf("%s %s: %v, want status %d", c.method, c.path, err, c.status)
			}
			continue
		}
		if err != nil || op.Name != c.op {
			t.Errorf("%s %s: %v, %v", c.method, c.path, op, err)
		}
	}
}

func decodeCW(t *testing.T, op string, r *http.Request, body []byte) (any, error) {
	t.Helper()
	codec := For("smithy-rpc-v2-cbor")
	o, err := codec.Operation(r, body, cloudwatch.Service)
	if err != nil {
		t.Fatalf("operation: %v", err)
	}
	if o.Name != op {
		t.Fatalf("operation %s, want %s", o.Name, op)
	}
	in := o.NewInput()
	return in, codec.Decode(r, body, cloudwatch.Service, o, in)
}

func TestRPCv2Decode(t *testing.T) {
	body := cborOf(t, cborMap{
		{"Namespace", "App/Web"},
		{"Unknown", cborMap{{"ignored", []any{uint64(1)}}}},
		{"MetricData", []any{
			cborMap{
				{"MetricName", "Latency"},
				{"Dimensions", []any{cborMap{{"Name", "Host"}, {"Value", "a"}}}},
				{"Timestamp", cborTag{1, uint64(1700000000)}},
				{"Value", uint64(7)}, // an integer where a double is expected
				{"Values", []any{1.5, cborNeg(2), uint64(0)}},
				{"Counts", []any{uint64(1), 2.0, nil}},
				{"StorageResolution", uint64(1)},
				{"Unit", "Milliseconds"},
				{"StatisticValues", cborMap{{"Maximum", 3.25}, {"Minimum", cborNeg(0)}, {"SampleCount", 2.0}, {"Sum", 1e300}}},
			},
			cborMap{
				{"MetricName", "Errors"},
				{"Timestamp", cborTag{1, 1700000000.125}},
				{"Value", nil},
				{"Unit", cborUndefined{}},
			},
		}},
	})
	got, err := decodeCW(t, "PutMetricData", cborRequest("POST", cwPath+"PutMetricData", body), body)
	if err != nil {
		t.Fatal(err)
	}
	s, f, i := ptr[string], ptr[float64], ptr[int64]
	ts := func(ms int64) *time.Time { t := time.UnixMilli(ms).UTC(); return &t }
	want := &cloudwatch.PutMetricDataInput{
		Namespace: s("App/Web"),
		MetricData: []*cloudwatch.MetricDatum{
			{
				MetricName:        s("Latency"),
				Dimensions:        []*cloudwatch.Dimension{{Name: s("Host"), Value: s("a")}},
				Timestamp:         ts(1700000000000),
				Value:             f(7),
				Values:            []*float64{f(1.5), f(-3), f(0)},
				Counts:            []*float64{f(1), f(2), nil},
				StorageResolution: i(1),
				Unit:              s("Milliseconds"),
				StatisticValues:   &cloudwatch.StatisticSet{Maximum: f(3.25), Minimum: f(-1), SampleCount: f(2), Sum: f(1e300)},
			},
			{MetricName: s("Errors"), Timestamp: ts(1700000000125)},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%s\nwant\n%s", dump(got), dump(want))
	}
}

func ptr[T any](v T) *T { return &v }

func dump(v any) string {
	var b bytes.Buffer
	writeJSONStruct(&b, reflect.ValueOf(v).Elem(), memberNames)
	return b.String()
}

// Bodies as smithy-go writes them: indefinite-length maps, float timestamps.
func TestRPCv2DecodeIndefinite(t *testing.T) {
	// {_ "Namespace": (_ "Ap", "p"), "MetricData": [_ {_ "MetricName": "m",
	//   "Timestamp": 1(1700000000.5)} ]}
	body := unhex(t, "bf 694e616d657370616365 7f 624170 6170 ff"+
		" 6a4d657472696344617461 9f bf 6a4d65747269634e616d65 616d"+
		" 6954696d657374616d70 c1 fb41d954fc40200000 ff ff ff")
	got, err := decodeCW(t, "PutMetricData", cborRequest("POST", cwPath+"PutMetricData", body), body)
	if err != nil {
		t.Fatal(err)
	}
	in := got.(*cloudwatch.PutMetricDataInput)
	if *in.Namespace != "App" || len(in.MetricData) != 1 || *in.MetricData[0].MetricName != "m" ||
		!in.MetricData[0].Timestamp.Equal(time.UnixMilli(1700000000500)) {
		t.Errorf("decoded %s", dump(in))
	}
}

func TestRPCv2DecodeEmpty(t *testing.T) {
	for _, body := range [][]byte{nil, {0xa0}, {0xbf, 0xff}, {0xf6}} {
		got, err := decodeCW(t, "ListMetrics", cborRequest("POST", cwPath+"ListMetrics", body), body)
		if err != nil || !reflect.DeepEqual(got, &cloudwatch.ListMetricsInput{}) {
			t.Errorf("%x: %v, %v", body, dump(got), err)
		}
	}
}

func TestRPCv2DecodeGzip(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(cborOf(t, cborMap{{"Namespace", "Zipped"}}))
	zw.Close()
	r := cborRequest("POST", cwPath+"ListMetrics", z.Bytes())
	r.Header.Set("Content-Encoding", "gzip")
	body, err := Inflate(r, z.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeCW(t, "ListMetrics", r, body)
	if err != nil || *got.(*cloudwatch.ListMetricsInput).Namespace != "Zipped" {
		t.Errorf("%v, %v", dump(got), err)
	}
	if _, err := Inflate(r, []byte("not gzip")); err == nil {
		t.Error("a body that is not gzip was accepted")
	}
}

func TestRPCv2DecodeRejects(t *testing.T) {
	datum := func(k string, v any) []byte {
		return cborOf(t, cborMap{{"Namespace", "n"}, {"MetricData", []any{cborMap{{"MetricName", "m"}, {k, v}}}}})
	}
	cases := map[string][]byte{
		"int for string":        cborOf(t, cborMap{{"Namespace", uint64(5)}}),
		"bytes for string":      cborOf(t, cborMap{{"Namespace", []byte("n")}}),
		"float for integer":     datum("StorageResolution", 1.5),
		"integer out of range":  datum("StorageResolution", uint64(1<<31)),
		"negative out of range": datum("StorageResolution", cborNeg(1<<31)),
		"uint64 beyond int64":   datum("StorageResolution", uint64(math.MaxUint64)),
		"string for double":     datum("Value", "1.5"),
		"bool for double":       datum("Value", true),
		"untagged timestamp":    datum("Timestamp", uint64(1700000000)),
		"tag 0 timestamp":       datum("Timestamp", cborTag{0, "2023-11-14T22:13:20Z"}),
		"NaN timestamp":         datum("Timestamp", cborTag{1, math.NaN()}),
		"infinite timestamp":    datum("Timestamp", cborTag{1, math.Inf(1)}),
		"year 10000":            datum("Timestamp", cborTag{1, uint64(253402300800)}),
		"year 10000, rounded":   datum("Timestamp", cborTag{1, 253402300799.9996}),
		"year 0":                datum("Timestamp", cborTag{1, -62135596800.5}),
		"huge timestamp":        datum("Timestamp", cborTag{1, uint64(math.MaxInt64)}),
		"string timestamp":      datum("Timestamp", cborTag{1, "1700000000"}),
		"map for list":          datum("Values", cborMap{}),
		"list for structure":    datum("StatisticValues", []any{}),
		"tagged string":         datum("MetricName", cborTag{32, "m"}),
		"top-level array":       cborOf(t, []any{}),
		"top-level string":      cborOf(t, "Namespace"),
		"duplicate member":      cborOf(t, cborMap{{"Namespace", "a"}, {"Namespace", "b"}}),
		"integer key":           cborOf(t, cborMap{{uint64(1), "a"}}),
		"truncated":             cborOf(t, cborMap{{"Namespace", "abc"}})[:8],
		"trailing bytes":        append(cborOf(t, cborMap{}), 0),
		"invalid UTF-8":         {0xa1, 0x69, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e', 0x61, 0xff},
	}
	for name, body := range cases {
		_, err := decodeCW(t, "PutMetricData", cborRequest("POST", cwPath+"PutMetricData", body), body)
		e, ok := err.(*api.Error)
		if !ok || e.Code != "SerializationException" || e.Status != 400 {
			t.Errorf("%s (%x): %v", name, body, err)
		}
	}
	// Unknown members are skipped whatever they hold.
	body := cborOf(t, cborMap{{"MetricDataQueries", []any{}}, {"StartTime", cborTag{1, uint64(0)}},
		{"EndTime", cborTag{1, uint64(1)}}, {"X", cborMap{{uint64(1), cborTag{99, []any{nil}}}}}})
	if _, err := decodeCW(t, "GetMetricData", cborRequest("POST", cwPath+"GetMetricData", body), body); err != nil {
		t.Errorf("GetMetricData with an unknown member: %v", err)
	}
	r := cborRequest("POST", cwPath+"ListMetrics", []byte{0xa0})
	r.Header.Set("Content-Type", "application/json")
	if _, err := decodeCW(t, "ListMetrics", r, []byte{0xa0}); err == nil || err.(*api.Error).Status != 415 {
		t.Errorf("JSON content type: %v", err)
	}
}

// Maps, blobs and nested lists (CloudWatch inputs have no map member).
func TestRPCv2DecodeMap(t *testing.T) {
	type withMap struct {
		_ struct{}            `type:"structure"`
		M map[string]*float64 `type:"map"`
		B []byte              `type:"blob"`
		L [][]*string         `type:"list"`
	}
	var v withMap
	err := cborToStruct(decodeOrFail(t, cborOf(t, cborMap{
		{"M", cborMap{{"p99", 1.5}, {"p50", uint64(1)}, {"none", nil}}},
		{"B", []byte{0, 1, 0xff}},
		{"L", []any{[]any{"a", nil}, []any{}}},
	})), reflect.ValueOf(&v).Elem())
	if err != nil {
		t.Fatal(err)
	}
	if len(v.M) != 3 || *v.M["p99"] != 1.5 || *v.M["p50"] != 1 || v.M["none"] != nil ||
		!bytes.Equal(v.B, []byte{0, 1, 0xff}) || len(v.L) != 2 || *v.L[0][0] != "a" || v.L[0][1] != nil || len(v.L[1]) != 0 {
		t.Errorf("decoded %#v", v)
	}
	for _, m := range []cborMap{
		{{"M", cborMap{{"k", 1.0}, {"k", 2.0}}}},
		{{"M", cborMap{{uint64(1), 1.0}}}},
		{{"B", "text"}},
	} {
		var v withMap
		if err := cborToStruct(decodeOrFail(t, cborOf(t, m)), reflect.ValueOf(&v).Elem()); err == nil {
			t.Errorf("%#v accepted", m)
		}
	}
}

func decodeOrFail(t *testing.T, b []byte) any {
	t.Helper()
	v, err := decodeCBOR(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRPCv2Encode(t *testing.T) {
	codec := For("smithy-rpc-v2-cbor")
	op := cloudwatch.Service.Operations["GetMetricStatistics"]
	ts := time.UnixMilli(1700000000250)
	out := &cloudwatch.GetMetricStatisticsOutput{
		Label: ptr("Latency"),
		Datapoints: []*cloudwatch.Datapoint{{
			Timestamp:          &ts,
			Average:            ptr(1.25),
			ExtendedStatistics: map[string]*float64{"p99": ptr(9.5), "nil": nil},
			Unit:               ptr("Seconds"),
		}},
	}
	w := httptest.NewRecorder()
	codec.Encode(w, cloudwatch.Service, op, out, "rid")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/cbor" || w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" {
		t.Errorf("status %d, headers %v", w.Code, w.Header())
	}
	got := decodeOrFail(t, w.Body.Bytes())
	want := cborMap{
		{"Datapoints", []any{cborMap{
			{"Average", 1.25},
			{"ExtendedStatistics", cborMap{{"p99", 9.5}}},
			{"Timestamp", cborTag{1, epochSeconds(1700000000250)}},
			{"Unit", "Seconds"},
		}}},
		{"Label", "Latency"},
	}
	if !sameCBOR(got, want) {
		t.Errorf("encoded %#v", got)
	}
	// No output members: an empty map.
	w = httptest.NewRecorder()
	codec.Encode(w, cloudwatch.Service, cloudwatch.Service.Operations["PutMetricData"], nil, "rid")
	if !bytes.Equal(w.Body.Bytes(), []byte{0xa0}) {
		t.Errorf("empty output written as %x", w.Body.Bytes())
	}
}

func TestRPCv2EncodeError(t *testing.T) {
	codec := For("smithy-rpc-v2-cbor")
	for _, c := range []struct {
		svc    *api.Service
		err    *api.Error
		status int
		query  string
	}{
		{cloudwatch.Service, api.Errorf("InvalidParameterValue", "bad value"), 400, "InvalidParameterValue;Sender"},
		{cloudwatch.Service, api.NewError(501, "NotImplemented", "no"), 501, "NotImplemented;Receiver"},
		{&api.Service{Protocol: "json", TargetPrefix: "X"}, &api.Error{Code: "Oops", Message: "m"}, 400, ""},
	} {
		w := httptest.NewRecorder()
		codec.EncodeError(w, c.svc, c.err, "rid")
		if w.Code != c.status || w.Header().Get("X-Amzn-Query-Error") != c.query ||
			w.Header().Get("Smithy-Protocol") != "rpc-v2-cbor" || w.Header().Get("Content-Type") != "application/cbor" {
			t.Errorf("%v: status %d, headers %v", c.err, w.Code, w.Header())
		}
		want := cborMap{{"__type", c.err.Code}, {"message", c.err.Message}, {"Message", c.err.Message}}
		if got := decodeOrFail(t, w.Body.Bytes()); !sameCBOR(got, want) {
			t.Errorf("%v: body %#v", c.err, got)
		}
	}
}

// FuzzRPCv2CBOR feeds arbitrary bodies to the RPC v2 CBOR decoder with the
// CloudWatch model. Whatever the bytes, the answer is an input or an
// *api.Error; a decoded input, encoded, decodes again and encodes to the same
// bytes; and any CBOR the generic decoder accepts re-encodes to a tree it
// reads back the same.
func FuzzRPCv2CBOR(f *testing.F) {
	ops := cloudwatch.Service.OperationNames()
	index := map[string]uint8{}
	for i, n := range ops {
		index[n] = uint8(i)
	}
	f.Add(index["PutMetricData"], unhex(f, "bf694e616d657370616365634170706a4d65747269634461746181bf6a4d65747269634e616d65616d6954696d657374616d70c1fb41d954fc402000006556616c7565fb3ff8000000000000ffff"))
	f.Add(index["ListMetrics"], []byte{})
	f.Add(index["GetMetricData"], cborOf(f, cborMap{
		{"StartTime", cborTag{1, uint64(1700000000)}}, {"EndTime", cborTag{1, 1700000100.5}},
		{"MetricDataQueries", []any{cborMap{{"Id", "q"}, {"MetricStat", cborMap{{"Metric", cborMap{{"Namespace", "n"},
			{"Dimensions", []any{cborMap{{"Name", "a"}, {"Value", "b"}}}}}}, {"Period", uint64(60)}, {"Stat", "Sum"}}}}}},
		{"MaxDatapoints", uint64(100)}, {"LabelOptions", cborMap{{"Timezone", "+0100"}}},
	}))
	f.Add(index["PutMetricAlarm"], cborOf(f, cborMap{{"AlarmName", "a"}, {"Threshold", cborNeg(4)},
		{"EvaluationPeriods", uint64(1)}, {"ActionsEnabled", true}, {"Tags", []any{cborMap{{"Key", "k"}, {"Value", "v"}}}}}))
	f.Add(index["PutDashboard"], unhex(f, "a26d44617368626f6172644e616d657f6164ff6d44617368626f617264426f6479f6"))
	codec := For("smithy-rpc-v2-cbor")
	svc := cloudwatch.Service
	f.Fuzz(func(t *testing.T, opIndex uint8, body []byte) {
		name := ops[int(opIndex)%len(ops)]
		r := cborRequest("POST", cwPath+name, body)
		op, err := codec.Operation(r, body, svc)
		if err != nil {
			t.Fatalf("operation %s: %v", name, err)
		}
		in := op.NewInput()
		if err := codec.Decode(r, body, svc, op, in); err != nil {
			if _, ok := err.(*api.Error); !ok {
				t.Fatalf("decoder returned %T (%v), not *api.Error", err, err)
			}
		} else {
			Validate(svc, in)
			first := httptest.NewRecorder()
			codec.Encode(first, svc, op, in, "fuzz")
			again := op.NewInput()
			if err := codec.Decode(r, first.Body.Bytes(), svc, op, again); err != nil {
				t.Fatalf("our own encoding %x of %x does not decode: %v", first.Body.Bytes(), body, err)
			}
			second := httptest.NewRecorder()
			codec.Encode(second, svc, op, again, "fuzz")
			if !bytes.Equal(first.Body.Bytes(), second.Body.Bytes()) {
				t.Fatalf("re-encoding differs:\n%x\n%x", first.Body.Bytes(), second.Body.Bytes())
			}
		}
		if v, err := decodeCBOR(body); err == nil {
			var w cborWriter
			if err := encodeCBOR(&w, v); err != nil {
				t.Fatalf("encode %#v: %v", v, err)
			}
			back, err := decodeCBOR(w.b)
			if err != nil || !sameCBOR(back, v) {
				t.Fatalf("generic round trip of %x through %x: %v", body, w.b, err)
			}
		}
	})
}

// Every CloudWatch input and output, with every member set, survives an
// encode and decode unchanged.
func TestRPCv2EveryCloudWatchShape(t *testing.T) {
	codec := For("smithy-rpc-v2-cbor")
	for _, name := range cloudwatch.Service.OperationNames() {
		op := cloudwatch.Service.Operations[name]
		for _, v := range []any{op.NewInput(), op.NewOutput()} {
			fill(reflect.ValueOf(v).Elem(), 0)
			w := httptest.NewRecorder()
			codec.Encode(w, cloudwatch.Service, op, v, "x")
			back := reflect.New(reflect.TypeOf(v).Elem())
			if err := cborToStruct(decodeOrFail(t, w.Body.Bytes()), back.Elem()); err != nil {
				t.Errorf("%s %T: %v", name, v, err)
				continue
			}
			if !reflect.DeepEqual(back.Interface(), v) {
				t.Errorf("%s %T: round trip\n%s\n%s", name, v, dump(back.Interface()), dump(v))
			}
		}
	}
}

// fill sets every member of struct v, to a depth of 3 structures.
func fill(v reflect.Value, depth int) {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		if x, ok := sample(fv.Type(), f.typ, depth); ok {
			fv.Set(x)
		}
	}
}

func sample(t reflect.Type, typ string, depth int) (reflect.Value, bool) {
	switch typ {
	case "structure":
		if depth > 3 {
			return reflect.Value{}, false
		}
		p := reflect.New(t.Elem())
		fill(p.Elem(), depth+1)
		return p, true
	case "list":
		e, ok := sample(t.Elem(), elemType(t), depth)
		if !ok {
			return reflect.Value{}, false
		}
		return reflect.Append(reflect.MakeSlice(t, 0, 1), e), true
	case "map":
		e, ok := sample(t.Elem(), elemType(t), depth)
		if !ok {
			return reflect.Value{}, false
		}
		m := reflect.MakeMap(t)
		m.SetMapIndex(reflect.ValueOf("key").Convert(t.Key()), e)
		return m, true
	case "blob":
		return reflect.ValueOf([]byte{0, 1, 2}), true
	case "jsonvalue":
		return reflect.Value{}, false
	}
	p := reflect.New(t.Elem())
	switch e := p.Elem(); e.Kind() {
	case reflect.String:
		e.SetString("s")
	case reflect.Bool:
		e.SetBool(true)
	case reflect.Int64:
		e.SetInt(-42)
	case reflect.Float64:
		e.SetFloat(-0.5)
	case reflect.Struct:
		e.Set(reflect.ValueOf(time.UnixMilli(1700000000999).UTC()))
	}
	return p, true
}

func TestRPCv2TimestampBounds(t *testing.T) {
	f := &field{member: "T"}
	for _, c := range []struct {
		in   any
		want string
	}{
		{cborTag{1, cborNeg(62135596799)}, "0001-01-01T00:00:00Z"},
		{cborTag{1, uint64(253402300799)}, "9999-12-31T23:59:59Z"},
		{cborTag{1, -62135596799.9996}, "0001-01-01T00:00:00Z"},
		{cborTag{1, 253402300799.999}, "9999-12-31T23:59:59.999Z"},
		{cborTag{1, -0.5}, "1969-12-31T23:59:59.5Z"},
		{cborTag{1, 1.001}, "1970-01-01T00:00:01.001Z"},
	} {
		got, err := cborTime(c.in, f)
		if err != nil || got.Format(time.RFC3339Nano) != c.want {
			t.Errorf("%#v: %v, %v; want %s", c.in, got, err, c.want)
		}
	}
}
