package cloudwatch_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/cloudwatch"
	"github.com/cloudbox/cloudbox/store"
)

// openPersistent serves CloudWatch over the persistent store in dir and
// returns its client and a stop function that shuts it down as the
// daemon does: flush, then close the store.
func openPersistent(t *testing.T, dir string, now func() time.Time) (*cwsdk.Client, func()) {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc := cloudwatch.New(st, now, nil, 1)
	srv := httptest.NewServer(server.New(server.Config{
		Services: []server.Service{{API: cwapi.Service, Invoker: cwapi.Bind(svc.Handlers())}},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	}))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close()
		if err := svc.Flush(); err != nil {
			t.Error(err)
		}
		st.Close()
	}
	t.Cleanup(stop)
	return cwsdk.New(cwsdk.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "secret", "")}), stop
}

// TestDatapointsSurviveRestart: what PutMetricData recorded is answered
// by GetMetricStatistics after the service and its store are reopened,
// and roll-ups keep the sums as the data ages past 15 and 63 days.
func TestDatapointsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := t0
	now := func() time.Time { return clock }
	cw, stop := openPersistent(t, dir, now)
	var data []types.MetricDatum
	for i := range 10 {
		data = append(data, types.MetricDatum{MetricName: aws.String("Orders"), Value: aws.Float64(float64(i + 1)),
			Timestamp: aws.Time(t0.Add(-time.Duration(i) * time.Minute)), Unit: types.StandardUnitCount,
			Dimensions: []types.Dimension{{Name: aws.String("Shop"), Value: aws.String("east")}}})
	}
	must[*cwsdk.PutMetricDataOutput](t)(cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Shop"), MetricData: data}))
	stop()

	// sums asks for the hour's data in periods of p seconds and returns
	// the total sum and sample count.
	sums := func(cw *cwsdk.Client, p int32) (sum, count float64) {
		t.Helper()
		out := must[*cwsdk.GetMetricStatisticsOutput](t)(cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{
			Namespace: aws.String("Shop"), MetricName: aws.String("Orders"),
			Dimensions: []types.Dimension{{Name: aws.String("Shop"), Value: aws.String("east")}},
			StartTime:  aws.Time(t0.Add(-time.Hour)), EndTime: aws.Time(t0.Add(time.Hour)), Period: aws.Int32(p),
			Statistics: []types.Statistic{types.StatisticSum, types.StatisticSampleCount},
		}))
		for _, dp := range out.Datapoints {
			sum += *dp.Sum
			count += *dp.SampleCount
		}
		return sum, count
	}
	for _, step := range []struct {
		name   string
		at     time.Time
		period int32
		sum    float64
		count  float64
	}{
		{"after a restart", t0.Add(time.Minute), 60, 55, 10},
		{"rolled up to 5 minutes after 15 days", t0.Add(16 * 24 * time.Hour), 300, 55, 10},
		{"rolled up to 1 hour after 63 days", t0.Add(64 * 24 * time.Hour), 3600, 55, 10},
		{"expired after 455 days", t0.Add(456 * 24 * time.Hour), 3600, 0, 0},
	} {
		clock = step.at
		// Each step reopens the store twice: the first service rolls the
		// aged data up as it stops, the second reads only what is stored.
		_, stop := openPersistent(t, dir, now)
		stop()
		cw, stop := openPersistent(t, dir, now)
		if sum, count := sums(cw, step.period); sum != step.sum || count != step.count {
			t.Errorf("%s: sum %v count %v, want %v and %v", step.name, sum, count, step.sum, step.count)
		}
		stop()
	}
}
