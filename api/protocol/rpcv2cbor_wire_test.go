package protocol

import (
	"bytes"
	"encoding/hex"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	smithycbor "github.com/aws/smithy-go/encoding/cbor"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// sameCBOR compares decoded trees, NaN equal to NaN and 0.0 unequal to -0.0.
func sameCBOR(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameCBOR(x[i], y[i]) {
				return false
			}
		}
		return true
	case cborMap:
		y, ok := b.(cborMap)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameCBOR(x[i].Key, y[i].Key) || !sameCBOR(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case cborTag:
		y, ok := b.(cborTag)
		return ok && x.Num == y.Num && sameCBOR(x.Content, y.Content)
	}
	return reflect.DeepEqual(a, b)
}

func ints(from, to int) []any {
	var l []any
	for i := from; i <= to; i++ {
		l = append(l, uint64(i))
	}
	return l
}

// rfcVectors are the examples of RFC 8949 Appendix A. reencodes marks those
// our encoder writes back byte for byte (definite lengths, no floats: the
// encoder always writes doubles).
var rfcVectors = []struct {
	hex       string
	want      any
	reencodes bool
}{
	{"00", uint64(0), true},
	{"01", uint64(1), true},
	{"0a", uint64(10), true},
	{"17", uint64(23), true},
	{"1818", uint64(24), true},
	{"1819", uint64(25), true},
	{"1864", uint64(100), true},
	{"1903e8", uint64(1000), true},
	{"1a000f4240", uint64(1000000), true},
	{"1b000000e8d4a51000", uint64(1000000000000), true},
	{"1bffffffffffffffff", uint64(math.MaxUint64), true},
	{"c249010000000000000000", cborTag{2, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}}, true},
	{"3bffffffffffffffff", cborNeg(math.MaxUint64), true},
	{"c349010000000000000000", cborTag{3, []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}}, true},
	{"20", cborNeg(0), true},
	{"29", cborNeg(9), true},
	{"3863", cborNeg(99), true},
	{"3903e7", cborNeg(999), true},
	{"f90000", 0.0, false},
	{"f98000", math.Copysign(0, -1), false},
	{"f93c00", 1.0, false},
	{"fb3ff199999999999a", 1.1, true},
	{"f93e00", 1.5, false},
	{"f97bff", 65504.0, false},
	{"fa47c35000", 100000.0, false},
	{"fa7f7fffff", 3.4028234663852886e+38, false},
	{"fb7e37e43c8800759c", 1.0e+300, true},
	{"f90001", 5.960464477539063e-8, false},
	{"f90400", 0.00006103515625, false},
	{"f9c400", -4.0, false},
	{"fbc010666666666666", -4.1, true},
	{"f97c00", math.Inf(1), false},
	{"f97e00", math.NaN(), false},
	{"f9fc00", math.Inf(-1), false},
	{"fa7f800000", math.Inf(1), false},
	{"fa7fc00000", math.NaN(), false},
	{"faff800000", math.Inf(-1), false},
	{"fb7ff0000000000000", math.Inf(1), true},
	{"fb7ff8000000000000", math.NaN(), true},
	{"fbfff0000000000000", math.Inf(-1), true},
	{"f4", false, true},
	{"f5", true, true},
	{"f6", nil, true},
	{"f7", cborUndefined{}, true},
	{"f0", cborSimple(16), true},
	{"f8ff", cborSimple(255), true},
	{"c074323031332d30332d32315432303a30343a30305a", cborTag{0, "2013-03-21T20:04:00Z"}, true},
	{"c11a514b67b0", cborTag{1, uint64(1363896240)}, true},
	{"c1fb41d452d9ec200000", cborTag{1, 1363896240.5}, true},
	{"d74401020304", cborTag{23, []byte{1, 2, 3, 4}}, true},
	{"d818456449455446", cborTag{24, []byte("dIETF")}, true},
	{"d82076687474703a2f2f7777772e6578616d706c652e636f6d", cborTag{32, "http://www.example.com"}, true},
	{"40", []byte{}, true},
	{"4401020304", []byte{1, 2, 3, 4}, true},
	{"60", "", true},
	{"6161", "a", true},
	{"6449455446", "IETF", true},
	{"62225c", "\"\\", true},
	{"62c3bc", "\u00fc", true},
	{"63e6b0b4", "\u6c34", true},
	{"64f0908591", "\U00010151", true},
	{"80", []any{}, true},
	{"83010203", ints(1, 3), true},
	{"8301820203820405", []any{uint64(1), ints(2, 3), ints(4, 5)}, true},
	{"98190102030405060708090a0b0c0d0e0f101112131415161718181819", ints(1, 25), true},
	{"a0", cborMap{}, true},
	{"a201020304", cborMap{{uint64(1), uint64(2)}, {uint64(3), uint64(4)}}, true},
	{"a26161016162820203", cborMap{{"a", uint64(1)}, {"b", ints(2, 3)}}, true},
	{"826161a161626163", []any{"a", cborMap{{"b", "c"}}}, true},
	{"a56161614161626142616361436164614461656145", cborMap{{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}, {"e", "E"}}, true},
	{"5f42010243030405ff", []byte{1, 2, 3, 4, 5}, false},
	{"7f657374726561646d696e67ff", "streaming", false},
	{"9fff", []any{}, false},
	{"9f018202039f0405ffff", []any{uint64(1), ints(2, 3), ints(4, 5)}, false},
	{"9f01820203820405ff", []any{uint64(1), ints(2, 3), ints(4, 5)}, false},
	{"83018202039f0405ff", []any{uint64(1), ints(2, 3), ints(4, 5)}, false},
	{"83019f0203ff820405", []any{uint64(1), ints(2, 3), ints(4, 5)}, false},
	{"9f0102030405060708090a0b0c0d0e0f101112131415161718181819ff", ints(1, 25), false},
	{"bf61610161629f0203ffff", cborMap{{"a", uint64(1)}, {"b", ints(2, 3)}}, false},
	{"826161bf61626163ff", []any{"a", cborMap{{"b", "c"}}}, false},
	{"bf6346756ef563416d7421ff", cborMap{{"Fun", true}, {"Amt", cborNeg(1)}}, false},
}

func TestCBORAppendixA(t *testing.T) {
	for _, v := range rfcVectors {
		in := unhex(t, v.hex)
		got, err := decodeCBOR(in)
		if err != nil {
			t.Errorf("%s: %v", v.hex, err)
			continue
		}
		if !sameCBOR(got, v.want) {
			t.Errorf("%s: decoded %#v, want %#v", v.hex, got, v.want)
			continue
		}
		var w cborWriter
		if err := encodeCBOR(&w, got); err != nil {
			t.Errorf("%s: encode: %v", v.hex, err)
			continue
		}
		if v.reencodes && !bytes.Equal(w.b, in) {
			t.Errorf("%s: re-encoded as %x", v.hex, w.b)
		}
		back, err := decodeCBOR(w.b)
		if err != nil || !sameCBOR(back, got) {
			t.Errorf("%s: round trip through %x gave %#v, %v", v.hex, w.b, back, err)
		}
	}
}

func TestCBORRoundTrip(t *testing.T) {
	values := []any{
		uint64(0), uint64(23), uint64(24), uint64(255), uint64(256), uint64(65535), uint64(65536),
		uint64(math.MaxUint32), uint64(math.MaxUint32) + 1, uint64(math.MaxUint64),
		cborNeg(0), cborNeg(23), cborNeg(24), cborNeg(math.MaxUint64),
		0.0, -0.0, 1.5, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(),
		true, false, nil, cborUndefined{}, cborSimple(0), cborSimple(19), cborSimple(32), cborSimple(255),
		[]byte{}, []byte{0, 0xff, 0x80}, bytes.Repeat([]byte{7}, 70000),
		"", "héllo, 世界 🌍", strings.Repeat("x", 300),
		[]any{}, []any{uint64(1), "two", []any{3.0, cborMap{{"k", nil}}}},
		cborMap{}, cborMap{{"a", uint64(1)}, {uint64(2), "b"}, {"nested", cborMap{{"list", []any{true}}}}},
		cborTag{1, uint64(1700000000)}, cborTag{1, 1700000000.25}, cborTag{55799, cborMap{}},
		cborTag{math.MaxUint64, "big tag"},
	}
	for _, v := range values {
		var w cborWriter
		if err := encodeCBOR(&w, v); err != nil {
			t.Fatalf("encode %#v: %v", v, err)
		}
		got, err := decodeCBOR(w.b)
		if err != nil {
			t.Errorf("decode %x (%#v): %v", w.b, v, err)
			continue
		}
		if !sameCBOR(got, v) {
			t.Errorf("%#v came back as %#v", v, got)
		}
	}
	// The writer picks the shortest argument.
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "00"}, {23, "17"}, {24, "1818"}, {255, "18ff"}, {256, "190100"}, {65536, "1a00010000"},
		{math.MaxInt64, "1b7fffffffffffffff"}, {-1, "20"}, {-24, "37"}, {-25, "3818"},
		{math.MinInt64, "3b7fffffffffffffff"},
	} {
		var w cborWriter
		w.int(c.n)
		if hex.EncodeToString(w.b) != c.want {
			t.Errorf("int %d written as %x, want %s", c.n, w.b, c.want)
		}
	}
}

// Indefinite lengths, nested and chunked, as clients may send them.
func TestCBORIndefinite(t *testing.T) {
	// {_ "a": (_ "x", "yz"), "b": [_ (_ h'01', h''), [_ ]], "c": {_ }}
	in := unhex(t, "bf 6161 7f 6178 62797a ff 6162 9f 5f 4101 40 ff 9f ff ff 6163 bf ff ff")
	got, err := decodeCBOR(in)
	if err != nil {
		t.Fatal(err)
	}
	want := cborMap{{"a", "xyz"}, {"b", []any{[]byte{1}, []any{}}}, {"c", cborMap{}}}
	if !sameCBOR(got, want) {
		t.Fatalf("got %#v", got)
	}
	// Empty indefinite strings.
	for _, h := range []string{"5fff", "7fff"} {
		if _, err := decodeCBOR(unhex(t, h)); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
}

// Malformed inputs (most from RFC 8949 Appendix F) are rejected, without
// panicking and without allocating from the lengths they claim.
func TestCBORMalformed(t *testing.T) {
	bad := []string{
		"",
		// Truncated heads and contents.
		"18", "19", "1901", "1a010203", "1b01020304050607", "38", "58", "78", "98", "9a01ff00", "b8", "d8", "f8",
		"f900", "fa0000", "fb000000", "41", "61", "5affffffff00", "5bffffffffffffffff010203",
		"7affffffff00", "7b7fffffffffffffff010203",
		// Arrays and maps cut short.
		"81", "818181818181818181", "8200", "a1", "a20102", "a100", "a2000000", "c0",
		// Indefinite items never closed.
		"5f4100", "7f6100", "9f", "9f0102", "bf", "bf01020102", "819f", "9f8000", "9f9f9f9f9fffffffff",
		"9f819f819f9fffffff",
		// Reserved additional information.
		"1c", "1d", "1e", "3c", "3d", "3e", "5c", "5d", "5e", "7c", "7d", "7e", "9c", "9d", "9e",
		"bc", "bd", "be", "dc", "dd", "de", "fc", "fd", "fe",
		// Simple values 0..31 in two bytes.
		"f800", "f801", "f818", "f81f",
		// Chunks of the wrong type, or indefinite chunks.
		"5f00ff", "5f21ff", "5f6100ff", "5f80ff", "5fa0ff", "5fc000ff", "5fe0ff", "7f4100ff",
		"5f5f4100ffff", "7f7f6100ffff",
		// A break where none may be.
		"ff", "81ff", "8200ff", "a1ff", "a1ff00", "a100ff", "a20000ff", "9f81ff", "9f829f819f9fffffffff",
		"bf00ff", "bf000000ff",
		// Indefinite length on integers and tags.
		"1f", "3f", "df",
		// Invalid UTF-8, whole and in a chunk.
		"62c328", "61ff", "7f61c3ff",
		// Trailing bytes.
		"0000", "a0a0",
		// Lengths far beyond the input.
		"9bffffffffffffffff", "bbffffffffffffffff", "9b00000000ffffffff00", "5b00000000ffffffff",
		"7b0000000100000000",
	}
	for _, h := range bad {
		if v, err := decodeCBOR(unhex(t, h)); err == nil {
			t.Errorf("%s: accepted as %#v", h, v)
		}
	}
	// Too deep: arrays, maps and tags.
	for _, open := range []string{"81", "a16161", "c6", "9f"} {
		deep := strings.Repeat(open, cborMaxDepth+1) + "00"
		if _, err := decodeCBOR(unhex(t, deep)); err == nil || !strings.Contains(err.Error(), "nesting") {
			t.Errorf("%s x %d: %v", open, cborMaxDepth+1, err)
		}
	}
	ok := strings.Repeat("81", cborMaxDepth) + "00"
	if _, err := decodeCBOR(unhex(t, ok)); err != nil {
		t.Errorf("depth %d refused: %v", cborMaxDepth, err)
	}
	// Too many items: a long run of small ones.
	many := append(unhex(t, "9f"), append(bytes.Repeat([]byte{0}, cborMaxItems), 0xff)...)
	if _, err := decodeCBOR(many); err == nil {
		t.Error("more than cborMaxItems items accepted")
	}
}

// A claimed length is checked before anything is allocated for it.
func TestCBORNoAllocationFromLength(t *testing.T) {
	for _, h := range []string{"9b00000000ffffffff", "bb00000000ffffffff", "5b00000000ffffffff", "9f9b00000000ffffffff"} {
		in := unhex(t, h)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 100 {
			if _, err := decodeCBOR(in); err == nil {
				t.Fatalf("%s accepted", h)
			}
		}
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("%s: %d bytes allocated by 100 decodes", h, n)
		}
	}
}

// smithy-go's own CBOR package reads what we write, and we read what it
// writes, the same.
func TestCBORAgainstSmithy(t *testing.T) {
	sv := smithycbor.Map{
		"u":  smithycbor.Uint(1 << 40),
		"n":  smithycbor.NegInt(5),
		"s":  smithycbor.String("text"),
		"b":  smithycbor.Slice{1, 2},
		"l":  smithycbor.List{smithycbor.Bool(true), &smithycbor.Nil{}, smithycbor.Float64(1.5), smithycbor.Float64(-2.25)},
		"t":  &smithycbor.Tag{ID: 1, Value: smithycbor.Uint(1700000000)},
		"m":  smithycbor.Map{"x": &smithycbor.Undefined{}},
		"f":  smithycbor.Float64(math.Inf(-1)),
		"ns": smithycbor.NegInt(1 << 63),
	}
	enc := smithycbor.Encode(sv)
	got, err := decodeCBOR(enc)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]any{}
	for _, p := range got.(cborMap) {
		byKey[p.Key.(string)] = p.Value
	}
	want := map[string]any{
		"u": uint64(1 << 40), "n": cborNeg(4), "s": "text", "b": []byte{1, 2},
		"l": []any{true, nil, 1.5, -2.25}, "t": cborTag{1, uint64(1700000000)},
		"m": cborMap{{"x", cborUndefined{}}}, "f": math.Inf(-1), "ns": cborNeg(1<<63 - 1),
	}
	for k, w := range want {
		if !sameCBOR(byKey[k], w) {
			t.Errorf("%s: got %#v, want %#v", k, byKey[k], w)
		}
	}
	var w cborWriter
	if err := encodeCBOR(&w, got); err != nil {
		t.Fatal(err)
	}
	back, err := smithycbor.Decode(w.b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, mustSmithy(t, enc)) {
		t.Errorf("smithy-go reads our %x differently from its own", w.b)
	}
}

func mustSmithy(t *testing.T, p []byte) smithycbor.Value {
	v, err := smithycbor.Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Timestamps come back exact both by rounding (our decoder, most SDKs) and
// by truncation (smithy-go: time.UnixMilli(int64(f * 1e3))).
func TestCBORTimeMillis(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		ms := rng.Int64N(4102444800000) // 1970..2100
		if i%2 == 1 {
			ms = -ms / 2
		}
		f := epochSeconds(ms)
		if got := int64(f * 1e3); got != ms && ms%1000 != 0 {
			t.Fatalf("%d ms: truncated to %d", ms, got)
		}
		if got := unixTime(f).UnixMilli(); got != ms {
			t.Fatalf("%d ms: rounded to %d", ms, got)
		}
	}
	var w cborWriter
	w.time(time.Unix(1700000000, 0))
	if hex.EncodeToString(w.b) != "c11a6553f100" {
		t.Errorf("whole seconds written as %x", w.b)
	}
	w = cborWriter{}
	w.time(time.UnixMilli(1700000000123))
	v, err := decodeCBOR(w.b)
	if err != nil {
		t.Fatal(err)
	}
	if tag, ok := v.(cborTag); !ok || tag.Num != 1 {
		t.Fatalf("timestamp written as %#v", v)
	}
	if tm, err := smithycbor.AsTime(mustSmithy(t, w.b)); err != nil || !tm.Equal(time.UnixMilli(1700000000123)) {
		t.Errorf("smithy-go reads %x as %v, %v", w.b, tm, err)
	}
}

func TestHalfFloat(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float64
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-8},
		{0x03ff, 0.00006097555160522461}, {0x0400, 0.00006103515625}, {0x3555, 0.333251953125},
		{0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	} {
		if got := halfToFloat(c.h); got != c.want {
			t.Errorf("%04x: %v, want %v", c.h, got, c.want)
		}
	}
	if !math.IsNaN(halfToFloat(0x7e00)) || !math.IsNaN(halfToFloat(0xfe01)) {
		t.Error("NaN not decoded")
	}
}
