package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// A small, strict CBOR (RFC 8949) decoder and encoder, for the Smithy RPC v2
// CBOR protocol.
//
// The decoder reads one data item into a tree of Go values:
//
//	major 0  unsigned integer      uint64
//	major 1  negative integer      cborNeg (the value -1-n)
//	major 2  byte string           []byte (a copy; indefinite strings joined)
//	major 3  text string           string (valid UTF-8; indefinite joined)
//	major 4  array                 []any
//	major 5  map                   cborMap (pairs in wire order)
//	major 6  tag                   cborTag
//	major 7  false, true, null     bool, nil
//	         undefined             cborUndefined
//	         other simple values   cborSimple
//	         half, single, double  float64
//
// It rejects what is not well-formed (reserved additional information,
// indefinite lengths where none is allowed, a break outside an indefinite
// item, chunks of the wrong type, truncated input, trailing bytes), invalid
// UTF-8 in text strings, nesting deeper than cborMaxDepth and more than
// cborMaxItems data items. No length read from the input is used to allocate
// before it has been checked against the bytes that remain.

const (
	cborMaxDepth = 64
	// cborMaxItems bounds the data items of one message, and so the memory
	// its tree takes (AWS bounds CloudWatch requests to 1 MB).
	cborMaxItems = 1 << 21
)

// CBOR major types.
const (
	cborUint    = 0
	cborNegInt  = 1
	cborBytes   = 2
	cborText    = 3
	cborArray   = 4
	cborMapT    = 5
	cborTagT    = 6
	cborSimpleT = 7
)

const (
	cborIndefinite = 31
	cborBreak      = 0xff
	cborTagEpoch   = 1 // tag 1: epoch-based date/time
)

type (
	// cborNeg is the negative integer -1-n for n = cborNeg(n).
	cborNeg uint64
	// cborUndefined is the simple value undefined (0xf7).
	cborUndefined struct{}
	// cborSimple is a simple value without a meaning here (0..19, 32..255).
	cborSimple uint8
	// cborTag is a tagged data item.
	cborTag struct {
		Num     uint64
		Content any
	}
	// cborPair is one entry of a map.
	cborPair struct{ Key, Value any }
	// cborMap is a map, its entries in the order they came.
	cborMap []cborPair
)

var errCBORTruncated = errors.New("cbor: unexpected end of data")

// decodeCBOR decodes p, which must hold exactly one data item.
func decodeCBOR(p []byte) (any, error) {
	d := cborDecoder{p: p}
	v, err := d.item(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(p) {
		return nil, fmt.Errorf("cbor: %d bytes after the data item", len(p)-d.off)
	}
	return v, nil
}

type cborDecoder struct {
	p     []byte
	off   int
	items int
}

func (d *cborDecoder) remaining() uint64 { return uint64(len(d.p) - d.off) }

// head reads an initial byte and its argument. For additional information
// 31 (indefinite length, or break) arg is 0 and ai is 31.
func (d *cborDecoder) head() (major, ai byte, arg uint64, err error) {
	if d.off >= len(d.p) {
		return 0, 0, 0, errCBORTruncated
	}
	b := d.p[d.off]
	d.off++
	major, ai = b>>5, b&0x1f
	var n int
	switch {
	case ai < 24:
		return major, ai, uint64(ai), nil
	case ai == 24:
		n = 1
	case ai == 25:
		n = 2
	case ai == 26:
		n = 4
	case ai == 27:
		n = 8
	case ai == cborIndefinite:
		return major, ai, 0, nil
	default:
		return 0, 0, 0, fmt.Errorf("cbor: reserved additional information %d at offset %d", ai, d.off-1)
	}
	if len(d.p)-d.off < n {
		return 0, 0, 0, errCBORTruncated
	}
	b8 := d.p[d.off : d.off+n]
	d.off += n
	switch n {
	case 1:
		arg = uint64(b8[0])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(b8))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(b8))
	default:
		arg = binary.BigEndian.Uint64(b8)
	}
	return major, ai, arg, nil
}

// atBreak reports whether the next byte is the break that ends an
// indefinite-length item, and consumes it if so.
func (d *cborDecoder) atBreak() (bool, error) {
	if d.off >= len(d.p) {
		return false, errCBORTruncated
	}
	if d.p[d.off] == cborBreak {
		d.off++
		return true, nil
	}
	return false, nil
}

// count checks a definite array or map length (per entries of size
// itemsPer) against the input left and the item budget.
func (d *cborDecoder) count(n uint64, itemsPer uint64) error {
	if n > d.remaining()/itemsPer || n > uint64(cborMaxItems-d.items) {
		return fmt.Errorf("cbor: length %d exceeds the data left", n)
	}
	return nil
}

func (d *cborDecoder) item(depth int) (any, error) {
	if depth > cborMaxDepth {
		return nil, fmt.Errorf("cbor: nesting deeper than %d", cborMaxDepth)
	}
	if d.items++; d.items > cborMaxItems {
		return nil, fmt.Errorf("cbor: more than %d data items", cborMaxItems)
	}
	start := d.off
	major, ai, arg, err := d.head()
	if err != nil {
		return nil, err
	}
	if ai == cborIndefinite {
		switch major {
		case cborUint, cborNegInt, cborTagT:
			return nil, fmt.Errorf("cbor: indefinite length not allowed for major type %d at offset %d", major, start)
		case cborSimpleT:
			return nil, fmt.Errorf("cbor: unexpected break at offset %d", start)
		}
	}
	switch major {
	case cborUint:
		return arg, nil
	case cborNegInt:
		return cborNeg(arg), nil
	case cborBytes, cborText:
		b, err := d.str(major, ai, arg)
		if err != nil {
			return nil, err
		}
		if major == cborText {
			return string(b), nil
		}
		return b, nil
	case cborArray:
		if ai == cborIndefinite {
			list := []any{}
			for {
				end, err := d.atBreak()
				if err != nil {
					return nil, err
				}
				if end {
					return list, nil
				}
				v, err := d.item(depth + 1)
				if err != nil {
					return nil, err
				}
				list = append(list, v)
			}
		}
		if err := d.count(arg, 1); err != nil {
			return nil, err
		}
		list := make([]any, 0, min(arg, 1024))
		for range arg {
			v, err := d.item(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		return list, nil
	case cborMapT:
		if ai == cborIndefinite {
			m := cborMap{}
			for {
				end, err := d.atBreak()
				if err != nil {
					return nil, err
				}
				if end {
					return m, nil
				}
				pair, err := d.pair(depth)
				if err != nil {
					return nil, err
				}
				m = append(m, pair)
			}
		}
		if err := d.count(arg, 2); err != nil {
			return nil, err
		}
		m := make(cborMap, 0, min(arg, 1024))
		for range arg {
			pair, err := d.pair(depth)
			if err != nil {
				return nil, err
			}
			m = append(m, pair)
		}
		return m, nil
	case cborTagT:
		v, err := d.item(depth + 1)
		if err != nil {
			return nil, err
		}
		return cborTag{Num: arg, Content: v}, nil
	}
	// Major type 7.
	switch ai {
	case 20:
		return false, nil
	case 21:
		return true, nil
	case 22:
		return nil, nil
	case 23:
		return cborUndefined{}, nil
	case 24:
		if arg < 32 {
			return nil, fmt.Errorf("cbor: simple value %d in two bytes at offset %d", arg, start)
		}
		return cborSimple(arg), nil
	case 25:
		return halfToFloat(uint16(arg)), nil
	case 26:
		return float64(math.Float32frombits(uint32(arg))), nil
	case 27:
		return math.Float64frombits(arg), nil
	}
	return cborSimple(ai), nil // 0..19
}

func (d *cborDecoder) pair(depth int) (cborPair, error) {
	k, err := d.item(depth + 1)
	if err != nil {
		return cborPair{}, err
	}
	v, err := d.item(depth + 1)
	if err != nil {
		return cborPair{}, err
	}
	return cborPair{k, v}, nil
}

// str reads the content of a byte or text string whose head was read. The
// result never aliases the input.
func (d *cborDecoder) str(major, ai byte, arg uint64) ([]byte, error) {
	if ai != cborIndefinite {
		b, err := d.take(arg)
		if err != nil {
			return nil, err
		}
		if major == cborText && !utf8.Valid(b) {
			return nil, errors.New("cbor: text string is not valid UTF-8")
		}
		return append([]byte{}, b...), nil
	}
	// Indefinite length: definite-length chunks of the same major type,
	// up to a break.
	out := []byte{}
	for {
		end, err := d.atBreak()
		if err != nil {
			return nil, err
		}
		if end {
			return out, nil
		}
		if d.items++; d.items > cborMaxItems {
			return nil, fmt.Errorf("cbor: more than %d data items", cborMaxItems)
		}
		at := d.off
		cmajor, cai, n, err := d.head()
		if err != nil {
			return nil, err
		}
		if cmajor != major || cai == cborIndefinite {
			return nil, fmt.Errorf("cbor: invalid chunk in an indefinite-length string at offset %d", at)
		}
		b, err := d.take(n)
		if err != nil {
			return nil, err
		}
		if major == cborText && !utf8.Valid(b) {
			return nil, errors.New("cbor: text string chunk is not valid UTF-8")
		}
		out = append(out, b...)
	}
}

func (d *cborDecoder) take(n uint64) ([]byte, error) {
	if n > d.remaining() {
		return nil, errCBORTruncated
	}
	b := d.p[d.off : d.off+int(n)]
	d.off += int(n)
	return b, nil
}

// halfToFloat converts an IEEE 754 half-precision number (RFC 8949
// Appendix D).
func halfToFloat(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	var v float64
	switch exp {
	case 0:
		v = math.Ldexp(mant, -24)
	case 31:
		if mant == 0 {
			v = math.Inf(1)
		} else {
			v = math.NaN()
		}
	default:
		v = math.Ldexp(mant+1024, exp-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return v
}

// cborWriter encodes data items, always with the shortest argument and
// definite lengths.
type cborWriter struct{ b []byte }

func (w *cborWriter) head(major byte, arg uint64) {
	m := major << 5
	switch {
	case arg < 24:
		w.b = append(w.b, m|byte(arg))
	case arg <= math.MaxUint8:
		w.b = append(w.b, m|24, byte(arg))
	case arg <= math.MaxUint16:
		w.b = binary.BigEndian.AppendUint16(append(w.b, m|25), uint16(arg))
	case arg <= math.MaxUint32:
		w.b = binary.BigEndian.AppendUint32(append(w.b, m|26), uint32(arg))
	default:
		w.b = binary.BigEndian.AppendUint64(append(w.b, m|27), arg)
	}
}

func (w *cborWriter) int(v int64) {
	if v < 0 {
		w.head(cborNegInt, uint64(-1-v))
		return
	}
	w.head(cborUint, uint64(v))
}

func (w *cborWriter) text(s string) {
	w.head(cborText, uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *cborWriter) bytes(b []byte) {
	w.head(cborBytes, uint64(len(b)))
	w.b = append(w.b, b...)
}

func (w *cborWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 0xf5)
	} else {
		w.b = append(w.b, 0xf4)
	}
}

func (w *cborWriter) null() { w.b = append(w.b, 0xf6) }

// float64 writes a double: exact for every value, and read by every client.
func (w *cborWriter) float64(f float64) {
	w.b = binary.BigEndian.AppendUint64(append(w.b, 0xfb), math.Float64bits(f))
}

// time writes a timestamp as tag 1 over epoch seconds, at millisecond
// precision: an integer for whole seconds, else a double.
func (w *cborWriter) time(t time.Time) {
	w.head(cborTagT, cborTagEpoch)
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		w.int(ms / 1000)
		return
	}
	w.float64(epochSeconds(ms))
}

// epochSeconds returns a double of ms/1000 that reads back as exactly ms
// both when rounded and when truncated after multiplying by 1000 (smithy-go
// truncates: time.UnixMilli(int64(f * 1e3))), moving a few ulps if needed.
func epochSeconds(ms int64) float64 {
	f := float64(ms) / 1e3
	for range 4 {
		switch got := int64(f * 1e3); {
		case got < ms:
			f = math.Nextafter(f, math.Inf(1))
		case got > ms:
			f = math.Nextafter(f, math.Inf(-1))
		default:
			return f
		}
	}
	return float64(ms) / 1e3
}

// encodeCBOR writes a tree of the decoder's types (and int, int64, float32
// for convenience) with definite lengths.
func encodeCBOR(w *cborWriter, v any) error {
	switch x := v.(type) {
	case nil:
		w.null()
	case bool:
		w.bool(x)
	case uint64:
		w.head(cborUint, x)
	case int:
		w.int(int64(x))
	case int64:
		w.int(x)
	case cborNeg:
		w.head(cborNegInt, uint64(x))
	case float64:
		w.float64(x)
	case float32:
		w.b = binary.BigEndian.AppendUint32(append(w.b, 0xfa), math.Float32bits(x))
	case []byte:
		w.bytes(x)
	case string:
		w.text(x)
	case []any:
		w.head(cborArray, uint64(len(x)))
		for _, e := range x {
			if err := encodeCBOR(w, e); err != nil {
				return err
			}
		}
	case cborMap:
		w.head(cborMapT, uint64(len(x)))
		for _, p := range x {
			if err := encodeCBOR(w, p.Key); err != nil {
				return err
			}
			if err := encodeCBOR(w, p.Value); err != nil {
				return err
			}
		}
	case cborTag:
		w.head(cborTagT, x.Num)
		return encodeCBOR(w, x.Content)
	case cborUndefined:
		w.b = append(w.b, 0xf7)
	case cborSimple:
		if x < 24 {
			w.b = append(w.b, 0xe0|byte(x))
		} else {
			w.b = append(w.b, 0xf8, byte(x))
		}
	case time.Time:
		w.time(x)
	default:
		return fmt.Errorf("cbor: cannot encode %T", v)
	}
	return nil
}
