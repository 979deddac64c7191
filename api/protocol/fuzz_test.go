package protocol_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/api/protocol"
	"github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/api/sts"
)

// The fuzz targets feed arbitrary requests to each protocol's decoder, with
// real service models, and require that it never panics: whatever the bytes,
// the answer is an operation and input, or an *api.Error.
//
// Run each for a minute with, e.g.:
//
//	go test ./api/protocol -run '^$' -fuzz '^FuzzQuery$' -fuzztime 1m
//
// (scripts/fuzz.sh runs them all).

// decodeAny runs the server's decode path on r and checks the error type.
func decodeAny(t *testing.T, svc *api.Service, r *http.Request, body []byte) {
	codec := protocol.For(svc.Protocol)
	op, err := codec.Operation(r, body, svc)
	if err != nil {
		mustBeAPIError(t, err)
		return
	}
	in := op.NewInput()
	if err := codec.Decode(r, body, svc, op, in); err != nil {
		mustBeAPIError(t, err)
		return
	}
	protocol.Validate(svc, in)
	// Encoding the decoded input as an output of the same shapes exercises
	// the encoder on arbitrary values too.
	codec.Encode(httptest.NewRecorder(), svc, op, nil, "fuzz")
}

func mustBeAPIError(t *testing.T, err error) {
	if _, ok := err.(*api.Error); !ok {
		t.Fatalf("decoder returned %T (%v), not *api.Error", err, err)
	}
}

func formRequest(body []byte) *http.Request {
	r := httptest.NewRequest("POST", "http://localhost/", strings.NewReader(string(body)))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func FuzzQuery(f *testing.F) {
	f.Add([]byte("Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s&PolicyArns.member.1.arn=x&Tags.member.1.Key=k&Tags.member.1.Value=v&DurationSeconds=900"))
	f.Add([]byte("Action=GetCallerIdentity&Version=2011-06-15"))
	f.Add([]byte("Action=AssumeRole&TransitiveTagKeys=&Tags.member.2.Key=%ZZ&DurationSeconds=1e9"))
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeAny(t, sts.Service, formRequest(body), body)
	})
}

func FuzzEC2(f *testing.F) {
	f.Add([]byte("Action=RunInstances&Version=2016-11-15&ImageId=ami-1&MinCount=1&MaxCount=2&SecurityGroupId.1=sg-1&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web&BlockDeviceMapping.1.Ebs.VolumeSize=8"))
	f.Add([]byte("Action=DescribeInstances&Filter.1.Name=tag%3AName&Filter.1.Value.1=web&MaxResults=5"))
	f.Add([]byte("Action=AuthorizeSecurityGroupIngress&GroupId=sg-1&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0"))
	f.Fuzz(func(t *testing.T, body []byte) {
		decodeAny(t, ec2.Service, formRequest(body), body)
	})
}

func FuzzJSON(f *testing.F) {
	f.Add("CertificateManager.RequestCertificate", []byte(`{"DomainName":"example.com","SubjectAlternativeNames":["a.example.com"],"ValidationMethod":"DNS","Tags":[{"Key":"k","Value":"v"}]}`))
	f.Add("CertificateManager.ImportCertificate", []byte(`{"Certificate":"AAAA","PrivateKey":"!!","Tags":null}`))
	f.Add("CertificateManager.ListCertificates", []byte(`{"MaxItems":1e400,"Includes":{"keyTypes":[1,2]}}`))
	f.Fuzz(func(t *testing.T, target string, body []byte) {
		r := httptest.NewRequest("POST", "http://localhost/", strings.NewReader(string(body)))
		r.Header.Set("X-Amz-Target", target)
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		decodeAny(t, acm.Service, r, body)
	})
}

// restRequest builds a request from fuzzed parts; a part the URL parser
// rejects is skipped, as no HTTP server would hand it over.
func restRequest(method, target, headers string, body []byte) *http.Request {
	if method == "" || strings.ContainsAny(method, " \r\n\t") {
		return nil
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil
	}
	r := httptest.NewRequest("GET", "http://localhost/", strings.NewReader(string(body)))
	r.Method = method
	r.URL = u
	r.RequestURI = target
	for _, line := range strings.Split(headers, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return r
}

func FuzzRestXML(f *testing.F) {
	f.Add("POST", "/2013-04-01/hostedzone", "", []byte(`<CreateHostedZoneRequest xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Name>example.com</Name><CallerReference>x</CallerReference><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>vpc-1</VPCId></VPC></CreateHostedZoneRequest>`))
	f.Add("PUT", "/bucket/key%2Fwith/slash?x-id=PutObject", "x-amz-meta-a: b\nContent-Length: 3\nx-amz-acl: private", []byte("abc"))
	f.Add("GET", "/bucket?list-type=2&max-keys=10&prefix=a", "If-Modified-Since: Tue, 29 Apr 2014 18:30:38 GMT", []byte(nil))
	f.Add("POST", "/bucket?delete", "", []byte(`<Delete><Object><Key>a</Key></Object><Quiet>true</Quiet></Delete>`))
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		r := restRequest(method, target, headers, body)
		if r == nil {
			return
		}
		decodeAny(t, route53.Service, r, body)
		decodeAny(t, s3.Service, r, body)
	})
}

// FuzzRestJSON uses the rest-json models of the SDK's protocol tests: no
// service cloudbox registers speaks rest-json yet.
func FuzzRestJSON(f *testing.F) {
	var svcs []*api.Service
	for key, pc := range protocolCases {
		if strings.HasPrefix(key, "input/rest-json/") {
			svcs = append(svcs, serviceWith(pc))
		}
	}
	f.Add("POST", "/path?Ascending=true&PageToken=x&item=a&item=b", "x-amz-foo: 1\nx-amz-time: Tue, 29 Apr 2014 18:30:38 GMT", []byte(`{"Config":{"A":"one","B":[1,2]},"TimeArg":1422172800}`))
	f.Add("GET", "/2014-01-01/jobsByPipeline/foo?PageToken=bar", "", []byte(nil))
	f.Add("POST", "/", "X-Amz-Foo: eyJGb28iOiJCYXIifQ==", []byte(`{"BodyField":"{\"Foo\":\"Bar\"}","RecursiveStruct":{"RecursiveList":[{"NoRecurse":"x"}]}}`))
	f.Fuzz(func(t *testing.T, method, target, headers string, body []byte) {
		r := restRequest(method, target, headers, body)
		if r == nil {
			return
		}
		for _, svc := range svcs {
			decodeAny(t, svc, r, body)
		}
	})
}
