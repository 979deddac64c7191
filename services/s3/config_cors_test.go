package s3

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketCors(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "cors")
	_, err := c.s3.GetBucketCors(cfgCtx, &s3sdk.GetBucketCorsInput{Bucket: aws.String(b)})
	if e := cfgWantErr(t, err, "NoSuchCORSConfiguration", http.StatusNotFound); e.ErrorMessage() != "The CORS configuration does not exist" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	put := func(rules ...s3types.CORSRule) error {
		_, err := c.s3.PutBucketCors(cfgCtx, &s3sdk.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &s3types.CORSConfiguration{CORSRules: rules}})
		return err
	}
	err = put(s3types.CORSRule{AllowedMethods: []string{"GET", "OPTIONS"}, AllowedOrigins: []string{"*"}})
	if e := cfgWantErr(t, err, "InvalidRequest", http.StatusBadRequest); e.ErrorMessage() != "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	err = put(s3types.CORSRule{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"http://*.*.example.com"}})
	cfgWantErr(t, err, "InvalidRequest", http.StatusBadRequest)

	rule := s3types.CORSRule{ID: aws.String("web"), AllowedMethods: []string{"GET", "PUT"}, AllowedOrigins: []string{"https://app.example.com", "http://test.com:80"},
		AllowedHeaders: []string{"x-amz-*", "Content-Type"}, ExposeHeaders: []string{"ETag"}, MaxAgeSeconds: aws.Int32(3000)}
	if err := put(rule, s3types.CORSRule{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	got := cfgMust(c.s3.GetBucketCors(cfgCtx, &s3sdk.GetBucketCorsInput{Bucket: aws.String(b)}))(t)
	if len(got.CORSRules) != 2 {
		t.Fatalf("rules %+v", got.CORSRules)
	}
	r := got.CORSRules[0]
	if aws.ToString(r.ID) != "web" || len(r.AllowedOrigins) != 2 || r.AllowedOrigins[1] != "http://test.com:80" || r.AllowedHeaders[1] != "Content-Type" ||
		aws.ToInt32(r.MaxAgeSeconds) != 3000 || r.ExposeHeaders[0] != "ETag" {
		t.Errorf("rule %+v", r)
	}
	if got.CORSRules[1].MaxAgeSeconds != nil || got.CORSRules[1].ID != nil {
		t.Errorf("members not set came back: %+v", got.CORSRules[1])
	}

	// The aws CLI v1 puts a configuration from JSON.
	if err := c.cli(t, nil, "s3api", "put-bucket-cors", "--bucket", b, "--cors-configuration",
		`{"CORSRules":[{"AllowedOrigins":["http://localhost:3000"],"AllowedMethods":["GET","POST"],"MaxAgeSeconds":60}]}`); err != nil {
		t.Fatal(err)
	}
	var cli struct {
		CORSRules []struct{ AllowedOrigins []string }
	}
	if err := c.cli(t, &cli, "s3api", "get-bucket-cors", "--bucket", b); err != nil {
		t.Fatal(err)
	}
	if len(cli.CORSRules) != 1 || cli.CORSRules[0].AllowedOrigins[0] != "http://localhost:3000" {
		t.Errorf("CLI rules %+v", cli.CORSRules)
	}

	cfgMust(c.s3.DeleteBucketCors(cfgCtx, &s3sdk.DeleteBucketCorsInput{Bucket: aws.String(b)}))(t)
	cfgMust(c.s3.DeleteBucketCors(cfgCtx, &s3sdk.DeleteBucketCorsInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.GetBucketCors(cfgCtx, &s3sdk.GetBucketCorsInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchCORSConfiguration", http.StatusNotFound)
}
