package s3

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketNotificationConfiguration(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "notify")
	got := cfgMust(c.s3.GetBucketNotificationConfiguration(cfgCtx, &s3sdk.GetBucketNotificationConfigurationInput{Bucket: aws.String(b)}))(t)
	if len(got.QueueConfigurations)+len(got.TopicConfigurations)+len(got.LambdaFunctionConfigurations) != 0 || got.EventBridgeConfiguration != nil {
		t.Errorf("a new bucket's notifications %+v", got)
	}
	put := func(c3 *s3types.NotificationConfiguration) error {
		_, err := c.s3.PutBucketNotificationConfiguration(cfgCtx, &s3sdk.PutBucketNotificationConfigurationInput{Bucket: aws.String(b), NotificationConfiguration: c3})
		return err
	}
	err := put(&s3types.NotificationConfiguration{QueueConfigurations: []s3types.QueueConfiguration{{
		QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"), Events: []s3types.Event{"s3:ObjectMade:*"}}}})
	cfgWantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	if err := put(&s3types.NotificationConfiguration{
		QueueConfigurations: []s3types.QueueConfiguration{{QueueArn: aws.String("arn:aws:sqs:us-east-1:000000000000:q"),
			Events: []s3types.Event{s3types.EventS3ObjectCreated},
			Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{{Name: s3types.FilterRuleNameSuffix, Value: aws.String(".jpg")}}}}}},
		TopicConfigurations:      []s3types.TopicConfiguration{{Id: aws.String("mine"), TopicArn: aws.String("arn:aws:sns:us-east-1:000000000000:t"), Events: []s3types.Event{s3types.EventS3ObjectRemoved}}},
		EventBridgeConfiguration: &s3types.EventBridgeConfiguration{},
	}); err != nil {
		t.Fatal(err)
	}
	got = cfgMust(c.s3.GetBucketNotificationConfiguration(cfgCtx, &s3sdk.GetBucketNotificationConfigurationInput{Bucket: aws.String(b)}))(t)
	if len(got.QueueConfigurations) != 1 || aws.ToString(got.QueueConfigurations[0].Id) == "" ||
		aws.ToString(got.QueueConfigurations[0].Filter.Key.FilterRules[0].Value) != ".jpg" ||
		len(got.TopicConfigurations) != 1 || aws.ToString(got.TopicConfigurations[0].Id) != "mine" || got.EventBridgeConfiguration == nil {
		t.Errorf("notifications %+v", got)
	}
	// An empty document removes them.
	if err := put(&s3types.NotificationConfiguration{}); err != nil {
		t.Fatal(err)
	}
	got = cfgMust(c.s3.GetBucketNotificationConfiguration(cfgCtx, &s3sdk.GetBucketNotificationConfigurationInput{Bucket: aws.String(b)}))(t)
	if len(got.QueueConfigurations)+len(got.TopicConfigurations) != 0 || got.EventBridgeConfiguration != nil {
		t.Errorf("after an empty put %+v", got)
	}
}

func TestBucketTransferAndBilling(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "transfer")
	acc := cfgMust(c.s3.GetBucketAccelerateConfiguration(cfgCtx, &s3sdk.GetBucketAccelerateConfigurationInput{Bucket: aws.String(b)}))(t)
	if acc.Status != "" {
		t.Errorf("a new bucket's acceleration %q", acc.Status)
	}
	cfgMust(c.s3.PutBucketAccelerateConfiguration(cfgCtx, &s3sdk.PutBucketAccelerateConfigurationInput{Bucket: aws.String(b),
		AccelerateConfiguration: &s3types.AccelerateConfiguration{Status: s3types.BucketAccelerateStatusEnabled}}))(t)
	acc = cfgMust(c.s3.GetBucketAccelerateConfiguration(cfgCtx, &s3sdk.GetBucketAccelerateConfigurationInput{Bucket: aws.String(b)}))(t)
	if acc.Status != s3types.BucketAccelerateStatusEnabled {
		t.Errorf("acceleration %q", acc.Status)
	}
	dotted := c.bucket(t, "with.dots")
	_, err := c.s3.PutBucketAccelerateConfiguration(cfgCtx, &s3sdk.PutBucketAccelerateConfigurationInput{Bucket: aws.String(dotted),
		AccelerateConfiguration: &s3types.AccelerateConfiguration{Status: s3types.BucketAccelerateStatusEnabled}})
	cfgWantErr(t, err, "InvalidRequest", http.StatusBadRequest)

	pay := cfgMust(c.s3.GetBucketRequestPayment(cfgCtx, &s3sdk.GetBucketRequestPaymentInput{Bucket: aws.String(b)}))(t)
	if pay.Payer != s3types.PayerBucketOwner {
		t.Errorf("payer %q", pay.Payer)
	}
	cfgMust(c.s3.PutBucketRequestPayment(cfgCtx, &s3sdk.PutBucketRequestPaymentInput{Bucket: aws.String(b),
		RequestPaymentConfiguration: &s3types.RequestPaymentConfiguration{Payer: s3types.PayerRequester}}))(t)
	pay = cfgMust(c.s3.GetBucketRequestPayment(cfgCtx, &s3sdk.GetBucketRequestPaymentInput{Bucket: aws.String(b)}))(t)
	if pay.Payer != s3types.PayerRequester {
		t.Errorf("payer %q", pay.Payer)
	}
}

func TestBucketLogging(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "logged")
	got := cfgMust(c.s3.GetBucketLogging(cfgCtx, &s3sdk.GetBucketLoggingInput{Bucket: aws.String(b)}))(t)
	if got.LoggingEnabled != nil {
		t.Errorf("a new bucket logs: %+v", got.LoggingEnabled)
	}
	put := func(target string) error {
		_, err := c.s3.PutBucketLogging(cfgCtx, &s3sdk.PutBucketLoggingInput{Bucket: aws.String(b), BucketLoggingStatus: &s3types.BucketLoggingStatus{
			LoggingEnabled: &s3types.LoggingEnabled{TargetBucket: aws.String(target), TargetPrefix: aws.String("logs/")}}})
		return err
	}
	if e := cfgWantErr(t, put("no-such-target"), "InvalidTargetBucketForLogging", http.StatusBadRequest); e.ErrorMessage() != "The target bucket for logging does not exist" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	eu := c.client("test", "test", "eu-west-1")
	cfgMust(eu.CreateBucket(cfgCtx, &s3sdk.CreateBucketInput{Bucket: aws.String("logs-eu"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}))(t)
	cfgWantErr(t, put("logs-eu"), "CrossLocationLoggingProhibitted", http.StatusBadRequest)
	c.bucket(t, "logs-here")
	if err := put("logs-here"); err != nil {
		t.Fatal(err)
	}
	got = cfgMust(c.s3.GetBucketLogging(cfgCtx, &s3sdk.GetBucketLoggingInput{Bucket: aws.String(b)}))(t)
	if got.LoggingEnabled == nil || aws.ToString(got.LoggingEnabled.TargetBucket) != "logs-here" || aws.ToString(got.LoggingEnabled.TargetPrefix) != "logs/" {
		t.Errorf("logging %+v", got.LoggingEnabled)
	}
	cfgMust(c.s3.PutBucketLogging(cfgCtx, &s3sdk.PutBucketLoggingInput{Bucket: aws.String(b), BucketLoggingStatus: &s3types.BucketLoggingStatus{}}))(t)
	if got = cfgMust(c.s3.GetBucketLogging(cfgCtx, &s3sdk.GetBucketLoggingInput{Bucket: aws.String(b)}))(t); got.LoggingEnabled != nil {
		t.Errorf("logging after it was turned off: %+v", got.LoggingEnabled)
	}
}

func TestBucketReplication(t *testing.T) {
	c := cfgNewCloud(t, false)
	src, dst := c.bucket(t, "source"), c.bucket(t, "replica")
	_, err := c.s3.GetBucketReplication(cfgCtx, &s3sdk.GetBucketReplicationInput{Bucket: aws.String(src)})
	cfgWantErr(t, err, "ReplicationConfigurationNotFoundError", http.StatusNotFound)
	put := func() error {
		_, err := c.s3.PutBucketReplication(cfgCtx, &s3sdk.PutBucketReplicationInput{Bucket: aws.String(src), ReplicationConfiguration: &s3types.ReplicationConfiguration{
			Role: aws.String("arn:aws:iam::000000000000:role/replication"),
			Rules: []s3types.ReplicationRule{{Status: s3types.ReplicationRuleStatusEnabled, Priority: aws.Int32(1), Filter: &s3types.ReplicationRuleFilter{Prefix: aws.String("")},
				DeleteMarkerReplication: &s3types.DeleteMarkerReplication{Status: s3types.DeleteMarkerReplicationStatusDisabled},
				Destination:             &s3types.Destination{Bucket: aws.String("arn:aws:s3:::" + dst)}}},
		}})
		return err
	}
	versioning := func(b string) {
		cfgMust(c.s3.PutBucketVersioning(cfgCtx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))(t)
	}
	if e := cfgWantErr(t, put(), "InvalidRequest", http.StatusBadRequest); e.ErrorMessage() != "Versioning must be 'Enabled' on the bucket to apply a replication configuration" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	versioning(src)
	if e := cfgWantErr(t, put(), "InvalidRequest", http.StatusBadRequest); e.ErrorMessage() != "Destination bucket must have versioning enabled." {
		t.Errorf("message %q", e.ErrorMessage())
	}
	versioning(dst)
	if err := put(); err != nil {
		t.Fatal(err)
	}
	got := cfgMust(c.s3.GetBucketReplication(cfgCtx, &s3sdk.GetBucketReplicationInput{Bucket: aws.String(src)}))(t)
	if r := got.ReplicationConfiguration.Rules; len(r) != 1 || aws.ToString(r[0].ID) == "" || aws.ToString(r[0].Destination.Bucket) != "arn:aws:s3:::replica" {
		t.Errorf("replication %+v", got.ReplicationConfiguration)
	}
	cfgMust(c.s3.DeleteBucketReplication(cfgCtx, &s3sdk.DeleteBucketReplicationInput{Bucket: aws.String(src)}))(t)
	_, err = c.s3.GetBucketReplication(cfgCtx, &s3sdk.GetBucketReplicationInput{Bucket: aws.String(src)})
	cfgWantErr(t, err, "ReplicationConfigurationNotFoundError", http.StatusNotFound)
}
