package protocol

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/cloudbox/cloudbox/api"
)

// jsonCodec is the JSON RPC protocol (awsJson 1.0 and 1.1): the operation in
// X-Amz-Target, a JSON document in and out.
type jsonCodec struct{}

func (jsonCodec) Operation(r *http.Request, body []byte, svc *api.Service) (*api.Operation, error) {
	target := r.Header.Get("X-Amz-Target")
	i := strings.LastIndexByte(target, '.')
	prefix, name, ok := target[:max(i, 0)], target[i+1:], i > 0
	if !ok || (svc.TargetPrefix != "" && prefix != svc.TargetPrefix) {
		return nil, api.Errorf("UnknownOperationException", "The target %q is not an operation of this service", target)
	}
	op := svc.Operations[name]
	if op == nil {
		return nil, api.Errorf("UnknownOperationException", "Unknown operation %s", name)
	}
	return op, nil
}

func (jsonCodec) Decode(r *http.Request, body []byte, svc *api.Service, op *api.Operation, in any) error {
	obj, err := parseJSONBody(body)
	if err != nil {
		return api.Errorf("SerializationException", "Could not parse the request body as JSON: %v", err)
	}
	if err := decodeJSONStruct(obj, structPtr(in), memberNames); err != nil {
		return api.Errorf("SerializationException", "%v", err)
	}
	return nil
}

func jsonContentType(svc *api.Service) string {
	v := svc.JSONVersion
	if v == "" {
		v = "1.0"
	}
	return "application/x-amz-json-" + v
}

func (jsonCodec) Encode(w http.ResponseWriter, svc *api.Service, op *api.Operation, out any, requestID string) {
	var b bytes.Buffer
	writeJSONStruct(&b, structOf(op, out), memberNames)
	writeBody(w, http.StatusOK, jsonContentType(svc), b.Bytes())
}

func (jsonCodec) EncodeError(w http.ResponseWriter, svc *api.Service, e *api.Error, requestID string) {
	if svc.QueryCompatible {
		// Lets SDKs that still think in query codes report the old code.
		w.Header().Set("X-Amzn-Query-Error", e.Code+";"+faultType(e))
	}
	writeBody(w, statusOf(e), jsonContentType(svc), jsonErrorBody(e))
}

func jsonErrorBody(e *api.Error) []byte {
	var b bytes.Buffer
	b.WriteString(`{"__type":`)
	writeJSONString(&b, e.Code)
	b.WriteString(`,"message":`)
	writeJSONString(&b, e.Message)
	b.WriteByte('}')
	return b.Bytes()
}
