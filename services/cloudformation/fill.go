package cloudformation

import (
	"reflect"
	"strconv"

	"github.com/cloudbox/cloudbox/services/cloudformation/template"
)

// fill sets the fields of an API input struct from the properties of the
// same names (most resource types' properties are their API's members),
// turning the template's scalars into the fields' types as CloudFormation
// does ("80" and 80 are both a port). rename maps a field to the
// property that feeds it when the names differ; a field mapped to "" is
// left alone.
func fill(dst any, p props, rename map[string]string) {
	fillValue(reflect.ValueOf(dst).Elem(), map[string]any(p), rename)
}

func fillValue(v reflect.Value, m map[string]any, rename map[string]string) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		key := f.Name
		if r, ok := rename[key]; ok {
			if r == "" {
				continue
			}
			key = r
		}
		x, ok := m[key]
		if !ok {
			continue
		}
		if val, ok := convert(x, f.Type); ok {
			v.Field(i).Set(val)
		}
	}
}

// convert makes a template value into typ (pointers to scalars, structs
// and slices of them).
func convert(x any, typ reflect.Type) (reflect.Value, bool) {
	switch typ.Kind() {
	case reflect.Pointer:
		elem := typ.Elem()
		switch elem.Kind() {
		case reflect.String:
			s := template.String(x)
			return reflect.ValueOf(&s), true
		case reflect.Int64:
			n, err := strconv.ParseInt(template.String(x), 10, 64)
			if err != nil {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(&n), true
		case reflect.Float64:
			f, err := strconv.ParseFloat(template.String(x), 64)
			if err != nil {
				return reflect.Value{}, false
			}
			return reflect.ValueOf(&f), true
		case reflect.Bool:
			b := template.String(x) == "true"
			return reflect.ValueOf(&b), true
		case reflect.Struct:
			m, ok := x.(map[string]any)
			if !ok {
				return reflect.Value{}, false
			}
			p := reflect.New(elem)
			fillValue(p.Elem(), m, nil)
			return p, true
		}
	case reflect.Slice:
		l, ok := x.([]any)
		if !ok {
			return reflect.Value{}, false
		}
		out := reflect.MakeSlice(typ, 0, len(l))
		for _, e := range l {
			if v, ok := convert(e, typ.Elem()); ok {
				out = reflect.Append(out, v)
			}
		}
		return out, true
	}
	return reflect.Value{}, false
}
