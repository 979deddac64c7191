package api

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error as AWS reports it: a code, a message and an HTTP status.
// Every layer returns *Error for failures a client should see; anything else
// reaching the server is answered as InternalFailure.
type Error struct {
	Code    string
	Message string
	Status  int
	// Receiver marks a server-side fault (the query protocols' <Type>).
	Receiver bool
	// Fields are more elements of the error, after its message, as S3
	// gives them (<Key>, <BucketName>, <Endpoint>...), in order.
	Fields [][2]string
	// Header is set on the response (S3's x-amz-bucket-region on a
	// redirect).
	Header map[string]string
}

// With returns e with the field name set to value, after those it has.
func (e *Error) With(name, value string) *Error {
	e.Fields = append(e.Fields, [2]string{name, value})
	return e
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a client error (HTTP 400) with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// NewError returns an error with an explicit status.
func NewError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Receiver: status >= 500}
}

// NotImplemented is the answer for an operation cloudbox does not implement.
func NotImplemented(service, op string) *Error {
	return NewError(http.StatusNotImplemented, "NotImplemented",
		"The operation %s of service %s is not implemented by cloudbox", op, service)
}

// As returns err as an *Error, wrapping unknown errors as InternalFailure so
// that nothing but an AWS-shaped error ever reaches a client.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError, Receiver: true}
}
