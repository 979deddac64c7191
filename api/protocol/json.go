package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"time"
)

// jsonNames says how members are named in JSON: rest-json honours
// locationName (Smithy's jsonName); awsJson uses member names alone.
type jsonNames bool

const (
	memberNames   jsonNames = false
	locationNames jsonNames = true
)

func (n jsonNames) of(f *field) string {
	if n == locationNames {
		return f.name()
	}
	return f.member
}

// writeJSONStruct writes the body members of struct v as a JSON object.
func writeJSONStruct(b *bytes.Buffer, v reflect.Value, names jsonNames) {
	si := info(v.Type())
	b.WriteByte('{')
	first := true
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		if (f.location != "" && f.location != "body") || isNil(fv) {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSONString(b, names.of(f))
		b.WriteByte(':')
		writeJSONValue(b, fv, f, names)
	}
	b.WriteByte('}')
}

func writeJSONValue(b *bytes.Buffer, v reflect.Value, f *field, names jsonNames) {
	switch f.typ {
	case "structure":
		writeJSONStruct(b, v.Elem(), names)
		return
	case "list":
		elem := &field{typ: elemType(v.Type()), tsFormat: f.tsFormat}
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if isNil(v.Index(i)) {
				b.WriteString("null")
				continue
			}
			writeJSONValue(b, v.Index(i), elem, names)
		}
		b.WriteByte(']')
		return
	case "map":
		elem := &field{typ: elemType(v.Type()), tsFormat: f.tsFormat}
		b.WriteByte('{')
		for i, k := range sortedKeys(v) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k.String())
			b.WriteByte(':')
			if mv := v.MapIndex(k); isNil(mv) {
				b.WriteString("null")
			} else {
				writeJSONValue(b, mv, elem, names)
			}
		}
		b.WriteByte('}')
		return
	case "jsonvalue":
		js, _ := json.Marshal(v.Interface())
		writeJSONString(b, string(js))
		return
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Slice:
		writeJSONString(b, base64.StdEncoding.EncodeToString(v.Bytes()))
	case reflect.String:
		writeJSONString(b, v.String())
	case reflect.Bool:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case reflect.Int64:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case reflect.Float64:
		fl := v.Float()
		if math.IsNaN(fl) || math.IsInf(fl, 0) {
			writeJSONString(b, formatFloat(fl))
		} else {
			b.WriteString(strconv.FormatFloat(fl, 'g', -1, 64))
		}
	case reflect.Struct:
		t := v.Interface().(time.Time)
		switch f.tsFormat {
		case tsISO8601, tsRFC822:
			writeJSONString(b, formatTime(t, f.tsFormat))
		default:
			b.WriteString(formatUnix(t))
		}
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	js, _ := json.Marshal(s)
	b.Write(js)
}

func sortedKeys(m reflect.Value) []reflect.Value {
	keys := m.MapKeys()
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	return keys
}

// decodeJSONStruct fills struct v from a decoded JSON object.
func decodeJSONStruct(obj map[string]any, v reflect.Value, names jsonNames) error {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		if f.location != "" {
			continue
		}
		raw, ok := obj[names.of(f)]
		if !ok || raw == nil {
			continue
		}
		if err := decodeJSONValue(raw, v.Field(f.index), f, names); err != nil {
			return err
		}
	}
	return nil
}

func decodeJSONValue(raw any, v reflect.Value, f *field, names jsonNames) error {
	if raw == nil {
		return nil
	}
	switch f.typ {
	case "structure":
		obj, ok := raw.(map[string]any)
		if !ok {
			return typeError(f, "an object")
		}
		p := reflect.New(v.Type().Elem())
		if err := decodeJSONStruct(obj, p.Elem(), names); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case "list":
		arr, ok := raw.([]any)
		if !ok {
			return typeError(f, "a list")
		}
		elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
		list := reflect.MakeSlice(v.Type(), len(arr), len(arr))
		for i, x := range arr {
			if err := decodeJSONValue(x, list.Index(i), elem, names); err != nil {
				return err
			}
		}
		v.Set(list)
		return nil
	case "map":
		obj, ok := raw.(map[string]any)
		if !ok {
			return typeError(f, "a map")
		}
		elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
		m := reflect.MakeMapWithSize(v.Type(), len(obj))
		for k, x := range obj {
			ev := reflect.New(v.Type().Elem()).Elem()
			if err := decodeJSONValue(x, ev, elem, names); err != nil {
				return err
			}
			m.SetMapIndex(reflect.ValueOf(k), ev)
		}
		v.Set(m)
		return nil
	case "jsonvalue":
		s, ok := raw.(string)
		if !ok {
			return typeError(f, "a string")
		}
		var jv map[string]any
		if err := json.Unmarshal([]byte(s), &jv); err != nil {
			return typeError(f, "JSON text")
		}
		v.Set(reflect.ValueOf(jv).Convert(v.Type()))
		return nil
	}
	switch x := raw.(type) {
	case string:
		switch f.typ {
		case "string", "character", "blob", "float", "double":
			return setScalar(v, f, x, tsISO8601)
		case "timestamp":
			format := f.tsFormat
			if format == "" || format == tsUnix {
				format = tsISO8601
			}
			return setScalar(v, f, x, format)
		}
		return typeError(f, "a "+f.typ)
	case json.Number:
		if f.typ == "timestamp" {
			fl, err := x.Float64()
			if err != nil {
				return typeError(f, "a timestamp")
			}
			p := reflect.New(timeType)
			p.Elem().Set(reflect.ValueOf(unixTime(fl)))
			v.Set(p)
			return nil
		}
		switch v.Type().Elem().Kind() {
		case reflect.Int64, reflect.Float64:
			return setScalar(v, f, x.String(), tsUnix)
		}
		return typeError(f, "a "+f.typ)
	case bool:
		if v.Type().Elem().Kind() != reflect.Bool {
			return typeError(f, "a "+f.typ)
		}
		v.Set(reflect.ValueOf(&x))
		return nil
	}
	return typeError(f, "a "+f.typ)
}

// typeError is returned for a JSON value of the wrong type; the caller turns
// it into the service's serialization error.
func typeError(f *field, want string) error {
	return fmt.Errorf("%s must be %s", f.member, want)
}

// parseJSONBody decodes a request body, keeping numbers exact.
func parseJSONBody(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		obj = map[string]any{}
	}
	return obj, nil
}

// setJSONValue reads a jsonvalue header: base64 of a JSON document.
func setJSONValue(v reflect.Value, f *field, s string) error {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("invalid base64 for %s", f.member)
	}
	var jv map[string]any
	if err := json.Unmarshal(b, &jv); err != nil {
		return fmt.Errorf("invalid JSON for %s", f.member)
	}
	v.Set(reflect.ValueOf(jv).Convert(v.Type()))
	return nil
}

func jsonValueString(v reflect.Value) string {
	js, _ := json.Marshal(v.Interface())
	return base64.StdEncoding.EncodeToString(js)
}
