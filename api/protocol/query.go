package protocol

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// form is a decoded query-protocol request body: every key, and every
// dot-separated prefix of a key, so that "does Foo.member.3 exist" is one
// lookup.
type form struct {
	values   url.Values
	prefixes map[string]bool
	ec2      bool
}

func newForm(values url.Values, ec2 bool) *form {
	f := &form{values: values, prefixes: make(map[string]bool, len(values)*2), ec2: ec2}
	for k := range values {
		for i := 0; i < len(k); i++ {
			if k[i] == '.' {
				f.prefixes[k[:i]] = true
			}
		}
		f.prefixes[k] = true
	}
	return f
}

func (q *form) has(key string) bool { return q.prefixes[key] }

func (q *form) get(key string) (string, bool) {
	v, ok := q.values[key]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// memberName is the key of a struct member in the form.
func (q *form) memberName(f *field) string {
	if !q.ec2 {
		return f.name()
	}
	// EC2 query keys: queryName, else locationName with its first letter
	// upper-cased, else the member name.
	if f.queryName != "" {
		return f.queryName
	}
	if f.locName != "" {
		return upperFirst(f.locName)
	}
	return f.member
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// decodeStruct fills the struct v (not a pointer) from keys under prefix.
func (q *form) decodeStruct(prefix string, v reflect.Value) error {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		key := prefix + q.memberName(f)
		if err := q.decodeValue(key, v.Field(f.index), f); err != nil {
			return err
		}
	}
	return nil
}

func (q *form) decodeValue(key string, v reflect.Value, f *field) error {
	switch f.typ {
	case "structure":
		if !q.has(key) {
			return nil
		}
		p := reflect.New(v.Type().Elem())
		if err := q.decodeStruct(key+".", p.Elem()); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case "list":
		return q.decodeList(key, v, f)
	case "map":
		return q.decodeMap(key, v, f)
	}
	s, ok := q.get(key)
	if !ok {
		return nil
	}
	return setScalar(v, f, s, tsISO8601)
}

func (q *form) decodeList(key string, v reflect.Value, f *field) error {
	if !q.has(key) {
		return nil
	}
	// "Key=" with no index is how clients send an empty list.
	if s, ok := q.get(key); ok && s == "" && !q.hasIndexed(key) {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
		return nil
	}
	base := key + "."
	if !q.ec2 && !f.flattened {
		name := f.listName
		if name == "" {
			name = "member"
		}
		base = key + "." + name + "."
	}
	elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
	list := reflect.MakeSlice(v.Type(), 0, 4)
	for i := 1; ; i++ {
		k := base + strconv.Itoa(i)
		if !q.has(k) {
			break
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		if err := q.decodeValue(k, ev, elem); err != nil {
			return err
		}
		list = reflect.Append(list, ev)
	}
	v.Set(list)
	return nil
}

func (q *form) hasIndexed(key string) bool {
	for k := range q.values {
		if len(k) > len(key) && strings.HasPrefix(k, key) && k[len(key)] == '.' {
			return true
		}
	}
	return false
}

func (q *form) decodeMap(key string, v reflect.Value, f *field) error {
	if !q.has(key) {
		return nil
	}
	base := key + ".entry."
	if f.flattened || q.ec2 {
		base = key + "."
	}
	kn, vn := f.keyName, f.valueName
	if kn == "" {
		kn = "key"
	}
	if vn == "" {
		vn = "value"
	}
	elem := &field{typ: elemType(v.Type()), member: f.member, tsFormat: f.tsFormat}
	m := reflect.MakeMap(v.Type())
	for i := 1; ; i++ {
		k := base + strconv.Itoa(i)
		if !q.has(k) {
			break
		}
		mk, ok := q.get(k + "." + kn)
		if !ok {
			continue
		}
		ev := reflect.New(v.Type().Elem()).Elem()
		if err := q.decodeValue(k+"."+vn, ev, elem); err != nil {
			return err
		}
		m.SetMapIndex(reflect.ValueOf(mk), ev)
	}
	v.Set(m)
	return nil
}
