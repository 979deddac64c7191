package protocol

import (
	"io"
	"net/http"
	"reflect"

	"github.com/cloudbox/cloudbox/api"
)

// readerType is the type of streaming payloads (S3's object bodies), which
// the server neither buffers nor the codecs hold: a request's is the
// (verified) request body, a response's is copied to the client.
var readerType = reflect.TypeFor[io.Reader]()

// streamField is the streaming payload field of a generated struct type,
// or nil.
func streamField(t reflect.Type) *field {
	si := info(t)
	if si.payload < 0 {
		return nil
	}
	f := &si.fields[si.payload]
	if t.Field(f.index).Type != readerType {
		return nil
	}
	return f
}

// Streams reports whether op's input has a streaming payload: the server
// then hands the request body to the operation as it arrives instead of
// reading it first, and decodes the rest of the input without it.
func Streams(op *api.Operation) bool {
	return streamField(reflect.TypeOf(op.NewInput()).Elem()) != nil
}

// SetStream sets in's streaming payload to body (in must be the input of an
// operation that Streams).
func SetStream(in any, body io.Reader) {
	v := structPtr(in)
	if f := streamField(v.Type()); f != nil {
		v.Field(f.index).Set(reflect.ValueOf(&body).Elem())
	}
}

// writeStream answers with a streaming payload, closing it when it is an
// io.Closer. A Content-Length header the output set stays, so the client
// knows the size; what the copy fails on (a client gone) ends the answer.
func writeStream(w http.ResponseWriter, status int, body io.Reader) {
	if c, ok := body.(io.Closer); ok {
		defer c.Close()
	}
	w.WriteHeader(status)
	if body != nil {
		io.Copy(w, body)
	}
}
