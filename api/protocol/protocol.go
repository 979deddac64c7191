// Package protocol speaks the five AWS wire protocols in the server's
// direction: it finds the operation a request asks for, decodes the request
// into the operation's generated input struct, and encodes outputs and errors
// the way AWS does, so that the SDKs read them as they read AWS.
//
// One codec per protocol walks the generated structs by reflection, guided by
// their struct tags (parsed once per type and cached).
package protocol

import (
	"net/http"
	"reflect"

	"github.com/cloudbox/cloudbox/api"
)

// Codec reads requests and writes responses of one protocol.
type Codec interface {
	// Operation finds the operation a request names. body is the whole
	// request body.
	Operation(r *http.Request, body []byte, svc *api.Service) (*api.Operation, error)
	// Decode fills in, a pointer to the operation's input struct.
	Decode(r *http.Request, body []byte, svc *api.Service, op *api.Operation, in any) error
	// Encode writes a successful response carrying out (nil means empty).
	Encode(w http.ResponseWriter, svc *api.Service, op *api.Operation, out any, requestID string)
	// EncodeError writes err in the protocol's error envelope.
	EncodeError(w http.ResponseWriter, svc *api.Service, err *api.Error, requestID string)
}

// For returns the codec of a protocol as the models name it, or nil.
func For(protocol string) Codec {
	switch protocol {
	case "query":
		return queryCodec{}
	case "ec2":
		return queryCodec{ec2: true}
	case "json":
		return jsonCodec{}
	case "rest-json":
		return restCodec{json: true}
	case "rest-xml":
		return restCodec{}
	case "smithy-rpc-v2-cbor":
		return rpcv2CBORCodec{}
	}
	return nil
}

// structOf returns the struct value behind out, allocating an empty output
// for a nil result.
func structOf(op *api.Operation, out any) reflect.Value {
	if out == nil || reflect.ValueOf(out).IsNil() {
		out = op.NewOutput()
	}
	return reflect.ValueOf(out).Elem()
}

func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	w.WriteHeader(status)
	w.Write(body)
}

// structPtr returns the struct that in, a pointer to a generated struct, points to.
func structPtr(in any) reflect.Value { return reflect.ValueOf(in).Elem() }
