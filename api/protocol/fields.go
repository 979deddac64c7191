package protocol

import (
	"reflect"
	"strconv"
	"sync"
)

// field is one member of a generated struct, with the wire details its tags
// carry. Tags are parsed once per type.
type field struct {
	index     int
	member    string // model member name
	typ       string // structure, list, map, string, integer, ... jsonvalue
	location  string // header, headers, querystring, uri, statusCode, "" (body)
	locName   string // locationName
	queryName string // ec2 only
	listName  string // locationNameList
	keyName   string // locationNameKey
	valueName string // locationNameValue
	flattened bool
	xmlAttr   bool
	xmlPrefix string
	xmlURI    string
	tsFormat  string
	required  bool
	idemToken bool
	min, max  int64
	hasMin    bool
	hasMax    bool
}

// name is the member's name on the wire when the protocol honours locationName.
func (f *field) name() string {
	if f.locName != "" {
		return f.locName
	}
	return f.member
}

type structInfo struct {
	fields    []field
	payload   int // index into fields of the payload member, or -1
	locName   string
	xmlURI    string
	xmlPrefix string
}

var infos sync.Map // reflect.Type -> *structInfo

func info(t reflect.Type) *structInfo {
	if v, ok := infos.Load(t); ok {
		return v.(*structInfo)
	}
	si := &structInfo{payload: -1}
	var payloadName string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tg := sf.Tag
		if sf.Name == "_" {
			payloadName = tg.Get("payload")
			si.locName = tg.Get("locationName")
			si.xmlURI = tg.Get("xmlURI")
			si.xmlPrefix = tg.Get("xmlPrefix")
			continue
		}
		f := field{
			index:     i,
			member:    sf.Name,
			typ:       tg.Get("type"),
			location:  tg.Get("location"),
			locName:   tg.Get("locationName"),
			queryName: tg.Get("queryName"),
			listName:  tg.Get("locationNameList"),
			keyName:   tg.Get("locationNameKey"),
			valueName: tg.Get("locationNameValue"),
			flattened: tg.Get("flattened") == "true",
			xmlAttr:   tg.Get("xmlAttribute") == "true",
			xmlPrefix: tg.Get("xmlPrefix"),
			xmlURI:    tg.Get("xmlURI"),
			tsFormat:  tg.Get("timestampFormat"),
			required:  tg.Get("required") == "true",
			idemToken: tg.Get("idempotencyToken") == "true",
		}
		if m := tg.Get("member"); m != "" {
			f.member = m
		}
		if v := tg.Get("min"); v != "" {
			f.min, _ = strconv.ParseInt(v, 10, 64)
			f.hasMin = true
		}
		if v := tg.Get("max"); v != "" {
			f.max, _ = strconv.ParseInt(v, 10, 64)
			f.hasMax = true
		}
		if f.typ == "" {
			f.typ = kindType(sf.Type)
		}
		si.fields = append(si.fields, f)
	}
	if payloadName != "" {
		for i := range si.fields {
			if t.Field(si.fields[i].index).Name == payloadName {
				si.payload = i
			}
		}
	}
	v, _ := infos.LoadOrStore(t, si)
	return v.(*structInfo)
}

// kindType infers the model type of an untagged field from its Go type.
func kindType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			return "timestamp"
		}
		return "structure"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "blob"
		}
		return "list"
	case reflect.Map:
		if t.Elem().Kind() == reflect.Interface {
			return "jsonvalue"
		}
		return "map"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int64, reflect.Int:
		return "long"
	case reflect.Float64:
		return "double"
	}
	return ""
}

// elemType returns the model type of the elements of a list or the values of
// a map field, from the Go element type.
func elemType(t reflect.Type) string {
	return kindType(t.Elem())
}
