package protocol

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/cloudbox/cloudbox/api"
)

// Validate checks a decoded input against the constraints of its model
// (required members, lengths, ranges) and returns the error AWS gives for the
// first violations, in the service protocol's style, or nil.
func Validate(svc *api.Service, in any) *api.Error {
	var problems []problem
	validateStruct(reflect.ValueOf(in).Elem(), "", &problems)
	if len(problems) == 0 {
		return nil
	}
	if svc.Protocol == "ec2" {
		// EC2 names one problem, in its own words.
		p := problems[0]
		if p.missing {
			return api.Errorf("MissingParameter", "The request must contain the parameter %s", p.wireName)
		}
		return api.Errorf("InvalidParameterValue", "Value (%s) for parameter %s is invalid. %s", p.value, p.wireName, p.constraint)
	}
	if svc.ServiceID == "S3" {
		// S3 checks its documents against its schema and names no member.
		return api.Errorf("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
	}
	code := "ValidationException"
	switch {
	case svc.Protocol == "query":
		code = "ValidationError"
	case svc.ServiceID == "Route 53":
		// Route 53 says InvalidInput, with the same message.
		code = "InvalidInput"
	}
	msgs := make([]string, len(problems))
	for i, p := range problems {
		v := "null"
		if !p.missing {
			v = "'" + p.value + "'"
		}
		msgs[i] = fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", v, p.path, p.constraint)
	}
	noun := "error"
	if len(problems) > 1 {
		noun = "errors"
	}
	return api.Errorf(code, "%d validation %s detected: %s", len(problems), noun, strings.Join(msgs, "; "))
}

type problem struct {
	path       string // AWS's member path: "roleArn", "tags.1.member.key"
	wireName   string
	value      string
	constraint string
	missing    bool
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToLower(string(r)) + s[n:]
}

func validateStruct(v reflect.Value, prefix string, out *[]problem) {
	si := info(v.Type())
	for i := range si.fields {
		f := &si.fields[i]
		fv := v.Field(f.index)
		path := prefix + lowerFirst(f.member)
		wire := f.member
		if f.queryName != "" {
			wire = f.queryName
		} else if f.locName != "" {
			wire = upperFirst(f.locName)
		}
		if isNil(fv) {
			if f.required {
				*out = append(*out, problem{path: path, wireName: wire, missing: true, constraint: "Member must not be null"})
			}
			continue
		}
		switch f.typ {
		case "structure":
			validateStruct(fv.Elem(), path+".", out)
		case "list":
			if f.hasMin && int64(fv.Len()) < f.min {
				*out = append(*out, problem{path: path, wireName: wire, value: fmt.Sprint(fv.Len()), constraint: fmt.Sprintf("Member must have length greater than or equal to %d", f.min)})
			}
			if f.hasMax && int64(fv.Len()) > f.max {
				*out = append(*out, problem{path: path, wireName: wire, value: fmt.Sprint(fv.Len()), constraint: fmt.Sprintf("Member must have length less than or equal to %d", f.max)})
			}
			for j := 0; j < fv.Len(); j++ {
				if e := fv.Index(j); e.Kind() == reflect.Pointer && !e.IsNil() && e.Elem().Kind() == reflect.Struct && e.Elem().Type() != timeType {
					validateStruct(e.Elem(), fmt.Sprintf("%s.%d.member.", path, j+1), out)
				}
			}
		case "string":
			s := fv.Elem().String()
			n := int64(utf8.RuneCountInString(s))
			if f.hasMin && n < f.min {
				*out = append(*out, problem{path: path, wireName: wire, value: s, constraint: fmt.Sprintf("Member must have length greater than or equal to %d", f.min)})
			}
			if f.hasMax && n > f.max {
				*out = append(*out, problem{path: path, wireName: wire, value: s, constraint: fmt.Sprintf("Member must have length less than or equal to %d", f.max)})
			}
		case "integer", "long":
			n := fv.Elem().Int()
			if f.hasMin && n < f.min {
				*out = append(*out, problem{path: path, wireName: wire, value: fmt.Sprint(n), constraint: fmt.Sprintf("Member must have value greater than or equal to %d", f.min)})
			}
			if f.hasMax && n > f.max {
				*out = append(*out, problem{path: path, wireName: wire, value: fmt.Sprint(n), constraint: fmt.Sprintf("Member must have value less than or equal to %d", f.max)})
			}
		}
	}
}
