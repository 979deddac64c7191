package daemon_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cloudbox/cloudbox/daemon"
)

// CloudWatch's datapoints outlive the daemon: it flushes them before its
// store closes, and the next daemon on the data directory answers them.
func TestDatapointsOutliveTheDaemon(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	at := time.Now().Add(-5 * time.Minute).Truncate(time.Minute)
	open := func() (*daemon.Daemon, *cwsdk.Client, func()) {
		d, err := daemon.New(daemon.Config{DataDir: dir, Dataplane: "off"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(d.Handler())
		cw := cwsdk.New(cwsdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
		return d, cw, srv.Close
	}
	d, cw, stop := open()
	if _, err := cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("App"), MetricData: []types.MetricDatum{
		{MetricName: aws.String("Jobs"), Value: aws.Float64(7), Timestamp: aws.Time(at)},
		{MetricName: aws.String("Jobs"), Value: aws.Float64(5), Timestamp: aws.Time(at)},
	}}); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	d, cw, stop = open()
	defer func() {
		stop()
		d.Close()
	}()
	out, err := cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: aws.String("Jobs"),
		StartTime: aws.Time(at.Add(-time.Hour)), EndTime: aws.Time(at.Add(time.Hour)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSum, types.StatisticSampleCount}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Datapoints) != 1 || *out.Datapoints[0].Sum != 12 || *out.Datapoints[0].SampleCount != 2 {
		t.Fatalf("after a restart: %+v, want one datapoint of sum 12 over 2 samples", out.Datapoints)
	}
}
