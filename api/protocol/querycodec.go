package protocol

import (
	"net/http"
	"net/url"

	"github.com/cloudbox/cloudbox/api"
)

// queryCodec is the query protocol (STS, IAM, ELB, Auto Scaling, ...) and,
// with ec2 set, EC2's variant of it: form-encoded parameters in, XML out.
type queryCodec struct{ ec2 bool }

// Params returns the query parameters of a request: the form body merged
// over the URL's query string (GET requests and presigned URLs).
func Params(r *http.Request, body []byte) (url.Values, error) {
	values, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		bv, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, v := range bv {
			values[k] = v
		}
	}
	return values, nil
}

func (c queryCodec) Operation(r *http.Request, body []byte, svc *api.Service) (*api.Operation, error) {
	values, err := Params(r, body)
	if err != nil {
		return nil, api.Errorf("MalformedQueryString", "The query string is malformed: %v", err)
	}
	action := values.Get("Action")
	if action == "" {
		return nil, api.Errorf("MissingAction", "Missing Action")
	}
	op := svc.Operations[action]
	if op == nil {
		return nil, api.Errorf("InvalidAction", "The action %s is not valid for this web service.", action)
	}
	return op, nil
}

func (c queryCodec) Decode(r *http.Request, body []byte, svc *api.Service, op *api.Operation, in any) error {
	values, err := Params(r, body)
	if err != nil {
		return api.Errorf("MalformedQueryString", "The query string is malformed: %v", err)
	}
	if err := newForm(values, c.ec2).decodeStruct("", structPtr(in)); err != nil {
		return api.Errorf("InvalidParameterValue", "%v", err)
	}
	return nil
}

func (c queryCodec) namespace(svc *api.Service) string {
	if svc.XMLNamespace != "" {
		return svc.XMLNamespace
	}
	if c.ec2 {
		return "http://ec2.amazonaws.com/doc/" + svc.APIVersion + "/"
	}
	return ""
}

func (c queryCodec) Encode(w http.ResponseWriter, svc *api.Service, op *api.Operation, out any, requestID string) {
	v := structOf(op, out)
	var x xmlWriter
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	root := op.Name + "Response"
	x.WriteByte('<')
	x.WriteString(root)
	if ns := c.namespace(svc); ns != "" {
		x.attr("xmlns", ns)
	}
	x.WriteByte('>')
	if c.ec2 {
		x.open("requestId")
		x.text(requestID)
		x.close("requestId")
		x.resultMembers(v)
	} else {
		// The models name the result element; AWS writes it for every
		// operation with an output.
		wrapper := op.OutputWrapper
		if wrapper == "" && hasBodyMembers(v) {
			wrapper = op.Name + "Result"
		}
		if wrapper != "" {
			x.open(wrapper)
			x.resultMembers(v)
			x.close(wrapper)
		}
		x.WriteString("<ResponseMetadata><RequestId>")
		x.text(requestID)
		x.WriteString("</RequestId></ResponseMetadata>")
	}
	x.close(root)
	writeBody(w, http.StatusOK, "text/xml", x.Bytes())
}

func (c queryCodec) EncodeError(w http.ResponseWriter, svc *api.Service, e *api.Error, requestID string) {
	var x xmlWriter
	x.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	if c.ec2 {
		x.WriteString("<Response><Errors><Error><Code>")
		x.text(e.Code)
		x.WriteString("</Code><Message>")
		x.text(e.Message)
		x.WriteString("</Message></Error></Errors><RequestID>")
		x.text(requestID)
		x.WriteString("</RequestID></Response>")
	} else {
		x.WriteString("<ErrorResponse")
		if ns := c.namespace(svc); ns != "" {
			x.attr("xmlns", ns)
		}
		x.WriteString("><Error><Type>")
		x.text(faultType(e))
		x.WriteString("</Type><Code>")
		x.text(e.Code)
		x.WriteString("</Code><Message>")
		x.text(e.Message)
		x.WriteString("</Message></Error><RequestId>")
		x.text(requestID)
		x.WriteString("</RequestId></ErrorResponse>")
	}
	writeBody(w, statusOf(e), "text/xml", x.Bytes())
}

func faultType(e *api.Error) string {
	if e.Receiver {
		return "Receiver"
	}
	return "Sender"
}

func statusOf(e *api.Error) int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}
