package s3

import (
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketLifecycleConfiguration(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "lifecycle")
	_, err := c.s3.GetBucketLifecycleConfiguration(cfgCtx, &s3sdk.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	if e := cfgWantErr(t, err, "NoSuchLifecycleConfiguration", http.StatusNotFound); e.ErrorMessage() != "The lifecycle configuration does not exist" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	put := func(rules ...s3types.LifecycleRule) error {
		_, err := c.s3.PutBucketLifecycleConfiguration(cfgCtx, &s3sdk.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b),
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}})
		return err
	}
	all := &s3types.LifecycleRuleFilter{Prefix: aws.String("")}
	days := func(n int32) *s3types.LifecycleExpiration { return &s3types.LifecycleExpiration{Days: aws.Int32(n)} }
	tagged := &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("tmp"), Value: aws.String("yes")}}
	for _, tc := range []struct {
		name       string
		rules      []s3types.LifecycleRule
		code, want string
	}{
		{"no action", []s3types.LifecycleRule{{Status: "Enabled", Filter: all}}, "InvalidRequest", "At least one action needs to be specified in a rule"},
		{"zero days", []s3types.LifecycleRule{{Status: "Enabled", Filter: all, Expiration: days(0)}}, "InvalidArgument", "'Days' for Expiration action must be a positive integer"},
		{"date not at midnight", []s3types.LifecycleRule{{Status: "Enabled", Filter: all,
			Expiration: &s3types.LifecycleExpiration{Date: aws.Time(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))}}}, "InvalidArgument", "'Date' must be at midnight GMT"},
		{"bad status", []s3types.LifecycleRule{{Status: "On", Filter: all, Expiration: days(1)}}, "MalformedXML", ""},
		{"duplicate ids", []s3types.LifecycleRule{{ID: aws.String("r"), Status: "Enabled", Filter: all, Expiration: days(1)},
			{ID: aws.String("r"), Status: "Enabled", Filter: all, Expiration: days(2)}}, "InvalidArgument", "Rule ID must be unique. Found same ID for more than one rule"},
		{"days and marker", []s3types.LifecycleRule{{Status: "Enabled", Filter: all,
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1), ExpiredObjectDeleteMarker: aws.Bool(true)}}}, "MalformedXML", ""},
		{"abort with tags", []s3types.LifecycleRule{{Status: "Enabled", Filter: tagged,
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}}}, "InvalidRequest", "AbortIncompleteMultipartUpload cannot be specified with Tags."},
		{"noncurrent zero", []s3types.LifecycleRule{{Status: "Enabled", Filter: all,
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(0)}}}, "InvalidArgument", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer"},
		{"sizes", []s3types.LifecycleRule{{Status: "Enabled", Expiration: days(1), Filter: &s3types.LifecycleRuleFilter{
			And: &s3types.LifecycleRuleAndOperator{ObjectSizeGreaterThan: aws.Int64(100), ObjectSizeLessThan: aws.Int64(10)}}}}, "InvalidArgument", "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'"},
		{"no filter", []s3types.LifecycleRule{{Status: "Enabled", Expiration: days(1)}}, "MalformedXML", ""},
	} {
		err := put(tc.rules...)
		if e := cfgWantErr(t, err, tc.code, http.StatusBadRequest); tc.want != "" && e.ErrorMessage() != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, e.ErrorMessage(), tc.want)
		}
	}

	if err := put(
		s3types.LifecycleRule{ID: aws.String("logs"), Status: "Enabled", Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")}, Expiration: days(30),
			NoncurrentVersionExpiration:    &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(7), NewerNoncurrentVersions: aws.Int32(2)},
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(3)}},
		s3types.LifecycleRule{Status: "Disabled", Filter: &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{Prefix: aws.String("tmp/"),
			Tags: []s3types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}, ObjectSizeGreaterThan: aws.Int64(10)}},
			Expiration: &s3types.LifecycleExpiration{Date: aws.Time(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))}},
		s3types.LifecycleRule{ID: aws.String("markers"), Status: "Enabled", Filter: all, Expiration: &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
	); err != nil {
		t.Fatal(err)
	}
	got := cfgMust(c.s3.GetBucketLifecycleConfiguration(cfgCtx, &s3sdk.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)}))(t)
	if len(got.Rules) != 3 {
		t.Fatalf("rules %+v", got.Rules)
	}
	r0, r1 := got.Rules[0], got.Rules[1]
	if aws.ToString(r0.ID) != "logs" || aws.ToString(r0.Filter.Prefix) != "logs/" || aws.ToInt32(r0.Expiration.Days) != 30 ||
		aws.ToInt32(r0.NoncurrentVersionExpiration.NewerNoncurrentVersions) != 2 || aws.ToInt32(r0.AbortIncompleteMultipartUpload.DaysAfterInitiation) != 3 {
		t.Errorf("rule 0 %+v", r0)
	}
	if aws.ToString(r1.ID) == "" || r1.Status != "Disabled" || aws.ToString(r1.Filter.And.Tags[0].Key) != "a" ||
		!aws.ToTime(r1.Expiration.Date).Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("rule 1 %+v (an ID is given to a rule without one)", r1)
	}

	// The aws CLI v1's JSON form.
	if err := c.cli(t, nil, "s3api", "put-bucket-lifecycle-configuration", "--bucket", b, "--lifecycle-configuration",
		`{"Rules":[{"ID":"cli","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":1}}]}`); err != nil {
		t.Fatal(err)
	}
	var cli struct{ Rules []struct{ ID string } }
	if err := c.cli(t, &cli, "s3api", "get-bucket-lifecycle-configuration", "--bucket", b); err != nil {
		t.Fatal(err)
	}
	if len(cli.Rules) != 1 || cli.Rules[0].ID != "cli" {
		t.Errorf("CLI rules %+v", cli.Rules)
	}

	cfgMust(c.s3.DeleteBucketLifecycle(cfgCtx, &s3sdk.DeleteBucketLifecycleInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.GetBucketLifecycleConfiguration(cfgCtx, &s3sdk.GetBucketLifecycleConfigurationInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchLifecycleConfiguration", http.StatusNotFound)
}
