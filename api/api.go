// Package api holds what the generated service packages (api/<service>) share:
// the description of a service and its operations as the AWS models give them,
// and the AWS error type every layer returns.
//
// The generated packages carry typed input and output structs whose struct tags
// record the wire details of the model (locationName, flattened, timestamp
// format, ...); package api/protocol reads those tags to decode requests and
// encode responses in each of the five AWS protocols.
package api

import (
	"context"
	"sort"
)

// Service describes one AWS service as its model's metadata does.
type Service struct {
	// Package is the Go package name of the generated code (e.g. "ec2").
	Package        string
	ServiceID      string // "EC2"
	EndpointPrefix string // host prefix, e.g. "elasticloadbalancing"
	SigningName    string // SigV4 credential-scope service name
	Protocol       string // ec2, query, json, rest-json, rest-xml
	APIVersion     string
	TargetPrefix   string // json: X-Amz-Target prefix
	JSONVersion    string // json: 1.0 or 1.1
	XMLNamespace   string // query/ec2/rest-xml response namespace
	// QueryCompatible marks json services that once spoke query; their
	// errors carry the x-amzn-query-error header.
	QueryCompatible bool

	Operations map[string]*Operation
	// Errors are the modeled exceptions, by error code.
	Errors map[string]*ErrorShape
}

// Operation describes one operation.
type Operation struct {
	Name       string
	Method     string // HTTP method (rest protocols)
	RequestURI string // URI template, e.g. "/{Bucket}/{Key+}"
	// ResponseCode is the success status (200 when the model says nothing).
	ResponseCode int
	// InputLocationName and InputXMLNamespace name the root element of a
	// rest-xml request body.
	InputLocationName string
	InputXMLNamespace string
	// OutputWrapper is the query-protocol result element ("AssumeRoleResult").
	OutputWrapper string
	HostPrefix    string
	// Deprecated operations lose to current ones that share their URI
	// (S3's GetBucketLifecycle to GetBucketLifecycleConfiguration).
	Deprecated bool
	NewInput   func() any
	NewOutput  func() any
}

// ErrorShape is a modeled exception.
type ErrorShape struct {
	Code   string
	Status int
	Sender bool
}

// OperationNames returns the service's operations in order.
func (s *Service) OperationNames() []string {
	names := make([]string, 0, len(s.Operations))
	for n := range s.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Invoker runs an operation with a decoded input. The generated Handlers type
// of each service package implements it.
type Invoker interface {
	Invoke(ctx context.Context, op string, in any) (any, error)
	// Implemented lists the operations with a handler, in order.
	Implemented() []string
}

// JSONValue is a member the model marks jsonvalue: arbitrary JSON carried
// in a header or string.
type JSONValue map[string]any
