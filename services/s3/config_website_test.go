package s3

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketWebsite(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "site")
	_, err := c.s3.GetBucketWebsite(cfgCtx, &s3sdk.GetBucketWebsiteInput{Bucket: aws.String(b)})
	if e := cfgWantErr(t, err, "NoSuchWebsiteConfiguration", http.StatusNotFound); e.ErrorMessage() != "The specified bucket does not have a website configuration" {
		t.Errorf("message %q", e.ErrorMessage())
	}

	// The aws CLI v1's high-level command, then its low-level read.
	if err := c.cli(t, nil, "s3", "website", "s3://"+b, "--index-document", "index.html", "--error-document", "error.html"); err != nil {
		t.Fatal(err)
	}
	var site struct {
		IndexDocument struct{ Suffix string }
		ErrorDocument struct{ Key string }
	}
	if err := c.cli(t, &site, "s3api", "get-bucket-website", "--bucket", b); err != nil {
		t.Fatal(err)
	}
	if site.IndexDocument.Suffix != "index.html" || site.ErrorDocument.Key != "error.html" {
		t.Errorf("CLI website %+v", site)
	}

	put := func(w *s3types.WebsiteConfiguration) error {
		_, err := c.s3.PutBucketWebsite(cfgCtx, &s3sdk.PutBucketWebsiteInput{Bucket: aws.String(b), WebsiteConfiguration: w})
		return err
	}
	index := &s3types.IndexDocument{Suffix: aws.String("index.html")}
	for _, tc := range []struct {
		name       string
		w          *s3types.WebsiteConfiguration
		code, want string
	}{
		{"nothing", &s3types.WebsiteConfiguration{}, "InvalidArgument", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty"},
		{"slash", &s3types.WebsiteConfiguration{IndexDocument: &s3types.IndexDocument{Suffix: aws.String("a/index.html")}}, "InvalidArgument", "The IndexDocument Suffix is not well formed"},
		{"redirect and index", &s3types.WebsiteConfiguration{IndexDocument: index, RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{HostName: aws.String("example.com")}},
			"InvalidArgument", "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules."},
		{"both replacements", &s3types.WebsiteConfiguration{IndexDocument: index, RoutingRules: []s3types.RoutingRule{{
			Redirect: &s3types.Redirect{ReplaceKeyWith: aws.String("a"), ReplaceKeyPrefixWith: aws.String("b")}}}},
			"InvalidRequest", "You can only define ReplaceKeyPrefix or ReplaceKey but not both."},
		{"empty condition", &s3types.WebsiteConfiguration{IndexDocument: index, RoutingRules: []s3types.RoutingRule{{
			Condition: &s3types.Condition{}, Redirect: &s3types.Redirect{HostName: aws.String("example.com")}}}},
			"InvalidRequest", "Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present."},
		{"redirect code", &s3types.WebsiteConfiguration{IndexDocument: index, RoutingRules: []s3types.RoutingRule{{
			Redirect: &s3types.Redirect{HttpRedirectCode: aws.String("200")}}}},
			"InvalidRequest", "The provided HTTP redirect code (200) is not valid. Valid codes are 3XX except 300."},
	} {
		if e := cfgWantErr(t, put(tc.w), tc.code, http.StatusBadRequest); e.ErrorMessage() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, e.ErrorMessage(), tc.want)
		}
	}

	if err := put(&s3types.WebsiteConfiguration{IndexDocument: index, RoutingRules: []s3types.RoutingRule{{
		Condition: &s3types.Condition{KeyPrefixEquals: aws.String("docs/")},
		Redirect:  &s3types.Redirect{ReplaceKeyPrefixWith: aws.String("documents/"), HttpRedirectCode: aws.String("302")},
	}}}); err != nil {
		t.Fatal(err)
	}
	got := cfgMust(c.s3.GetBucketWebsite(cfgCtx, &s3sdk.GetBucketWebsiteInput{Bucket: aws.String(b)}))(t)
	if len(got.RoutingRules) != 1 || aws.ToString(got.RoutingRules[0].Redirect.ReplaceKeyPrefixWith) != "documents/" || got.ErrorDocument != nil {
		t.Errorf("website %+v", got)
	}
	if err := put(&s3types.WebsiteConfiguration{RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{HostName: aws.String("example.com"), Protocol: s3types.ProtocolHttps}}); err != nil {
		t.Fatal(err)
	}
	got = cfgMust(c.s3.GetBucketWebsite(cfgCtx, &s3sdk.GetBucketWebsiteInput{Bucket: aws.String(b)}))(t)
	if got.RedirectAllRequestsTo == nil || aws.ToString(got.RedirectAllRequestsTo.HostName) != "example.com" || got.IndexDocument != nil {
		t.Errorf("redirecting website %+v", got)
	}

	cfgMust(c.s3.DeleteBucketWebsite(cfgCtx, &s3sdk.DeleteBucketWebsiteInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.GetBucketWebsite(cfgCtx, &s3sdk.GetBucketWebsiteInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchWebsiteConfiguration", http.StatusNotFound)
}
