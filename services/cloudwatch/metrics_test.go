package cloudwatch_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/cloudbox/cloudbox/metric"
)

func dims(kv ...string) []types.Dimension {
	var out []types.Dimension
	for i := 0; i < len(kv); i += 2 {
		out = append(out, types.Dimension{Name: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func TestPutAndGetStatistics(t *testing.T) {
	c := newCloud(t, 1)
	m0 := minute(c.clock.Now(), -10)
	at := func(s int) *time.Time { v := m0.Add(time.Duration(s) * time.Second); return &v }
	must[*cwsdk.PutMetricDataOutput](t)(c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{
		Namespace: aws.String("App"),
		MetricData: []types.MetricDatum{
			{MetricName: aws.String("Latency"), Dimensions: dims("Service", "api"), Timestamp: at(5), Value: aws.Float64(10), Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: dims("Service", "api"), Timestamp: at(20), Values: []float64{20, 40}, Counts: []float64{1, 2}, Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: dims("Service", "api"), Timestamp: at(70), StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(4), Sum: aws.Float64(100), Minimum: aws.Float64(5), Maximum: aws.Float64(50)}, Unit: types.StandardUnitMilliseconds},
			{MetricName: aws.String("Latency"), Dimensions: dims("Service", "web"), Timestamp: at(5), Value: aws.Float64(1000)},
		},
	}))
	out := must[*cwsdk.GetMetricStatisticsOutput](t)(c.cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "api"),
		StartTime: &m0, EndTime: aws.Time(m0.Add(3 * time.Minute)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSampleCount, types.StatisticSum, types.StatisticAverage, types.StatisticMinimum, types.StatisticMaximum},
	}))
	if len(out.Datapoints) != 2 {
		t.Fatalf("got %d datapoints, want 2: %+v", len(out.Datapoints), out.Datapoints)
	}
	slices.SortFunc(out.Datapoints, func(a, b types.Datapoint) int { return a.Timestamp.Compare(*b.Timestamp) })
	first, second := out.Datapoints[0], out.Datapoints[1]
	// 10, 20, 40, 40 in the first minute.
	if !first.Timestamp.Equal(m0) || *first.SampleCount != 4 || *first.Sum != 110 || *first.Average != 27.5 || *first.Minimum != 10 || *first.Maximum != 40 || first.Unit != types.StandardUnitMilliseconds {
		t.Fatalf("first datapoint %+v", first)
	}
	if !second.Timestamp.Equal(m0.Add(time.Minute)) || *second.SampleCount != 4 || *second.Sum != 100 || *second.Average != 25 || *second.Minimum != 5 || *second.Maximum != 50 {
		t.Fatalf("second datapoint %+v", second)
	}
	if aws.ToString(out.Label) != "Latency" {
		t.Fatalf("label %q", aws.ToString(out.Label))
	}

	// Percentiles and a period of 5 minutes covering both.
	ext := must[*cwsdk.GetMetricStatisticsOutput](t)(c.cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "api"),
		StartTime: &m0, EndTime: aws.Time(m0.Add(3 * time.Minute)), Period: aws.Int32(60),
		ExtendedStatistics: []string{"p50", "p100"},
	}))
	for _, dp := range ext.Datapoints {
		if dp.Timestamp.Equal(m0) && (dp.ExtendedStatistics["p50"] != 20 || dp.ExtendedStatistics["p100"] != 40) {
			t.Fatalf("percentiles of 10,20,40,40: %v", dp.ExtendedStatistics)
		}
	}
	// A unit filter that matches nothing.
	none := must[*cwsdk.GetMetricStatisticsOutput](t)(c.cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: dims("Service", "api"),
		StartTime: &m0, EndTime: aws.Time(m0.Add(3 * time.Minute)), Period: aws.Int32(60),
		Statistics: []types.Statistic{types.StatisticSum}, Unit: types.StandardUnitSeconds,
	}))
	if len(none.Datapoints) != 0 {
		t.Fatalf("unit Seconds matched %+v", none.Datapoints)
	}
}

func TestGetMetricDataMath(t *testing.T) {
	c := newCloud(t, 1)
	m0 := minute(c.clock.Now(), -10)
	var data []types.MetricDatum
	for i, v := range [][2]float64{{10, 40}, {20, 80}, {30, 20}} {
		at := m0.Add(time.Duration(i) * time.Minute)
		data = append(data,
			types.MetricDatum{MetricName: aws.String("Errors"), Timestamp: &at, Value: aws.Float64(v[0])},
			types.MetricDatum{MetricName: aws.String("Requests"), Timestamp: &at, Value: aws.Float64(v[1])})
	}
	must[*cwsdk.PutMetricDataOutput](t)(c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Shop"), MetricData: data}))
	stat := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("Shop"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	expr := func(id, e string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), Expression: aws.String(e), Label: aws.String(id)}
	}
	out := must[*cwsdk.GetMetricDataOutput](t)(c.cw.GetMetricData(ctx, &cwsdk.GetMetricDataInput{
		StartTime: &m0, EndTime: aws.Time(m0.Add(3 * time.Minute)), ScanBy: types.ScanByTimestampAscending,
		MetricDataQueries: []types.MetricDataQuery{
			stat("m1", "Errors"), stat("m2", "Requests"),
			expr("total", "m1+m2"),
			expr("rate", "m1/m2*100"),
			expr("all", "SUM(METRICS())"),
			expr("avg", "AVG([m1, m2])"),
			expr("norm", "m1/MAX(m1)"),
			expr("neg", "-(m2 - 2*m1)"),
		},
	}))
	want := map[string][]float64{
		"total": {50, 100, 50},
		"rate":  {25, 25, 150},
		"all":   {50, 100, 50},
		"avg":   {25, 50, 25},
		"norm":  {10.0 / 30, 20.0 / 30, 1},
		"neg":   {-20, -40, 40},
	}
	if len(out.MetricDataResults) != len(want) {
		t.Fatalf("got %d results, want %d (ReturnData false hides m1 and m2)", len(out.MetricDataResults), len(want))
	}
	for _, r := range out.MetricDataResults {
		id := aws.ToString(r.Id)
		if !slices.Equal(r.Values, want[id]) || r.StatusCode != types.StatusCodeComplete || aws.ToString(r.Label) != id {
			t.Errorf("%s: values %v status %s label %q, want %v", id, r.Values, r.StatusCode, aws.ToString(r.Label), want[id])
		}
		if len(r.Timestamps) != 3 || !r.Timestamps[0].Equal(m0) || !r.Timestamps[2].Equal(m0.Add(2*time.Minute)) {
			t.Errorf("%s: timestamps %v", id, r.Timestamps)
		}
	}

	// Descending by default; pages of MaxDatapoints.
	q := []types.MetricDataQuery{{Id: aws.String("e"), MetricStat: &types.MetricStat{
		Metric: &types.Metric{Namespace: aws.String("Shop"), MetricName: aws.String("Errors")}, Period: aws.Int32(60), Stat: aws.String("Maximum")}}}
	var got []float64
	var token *string
	for page := 0; ; page++ {
		p := must[*cwsdk.GetMetricDataOutput](t)(c.cw.GetMetricData(ctx, &cwsdk.GetMetricDataInput{
			StartTime: &m0, EndTime: aws.Time(m0.Add(3 * time.Minute)), MetricDataQueries: q, MaxDatapoints: aws.Int32(2), NextToken: token,
		}))
		for _, r := range p.MetricDataResults {
			got = append(got, r.Values...)
		}
		if token = p.NextToken; token == nil {
			break
		}
		if page > 3 {
			t.Fatal("pagination does not end")
		}
	}
	if !slices.Equal(got, []float64{30, 20, 10}) {
		t.Fatalf("paged descending values %v", got)
	}

	_, err := c.cw.GetMetricData(ctx, &cwsdk.GetMetricDataInput{StartTime: &m0, EndTime: aws.Time(m0.Add(time.Hour)),
		MetricDataQueries: []types.MetricDataQuery{expr("bad", "m9 +")}})
	wantCode(t, err, "ValidationError")
	_, err = c.cw.GetMetricData(ctx, &cwsdk.GetMetricDataInput{StartTime: &m0, EndTime: aws.Time(m0.Add(time.Hour)),
		MetricDataQueries: []types.MetricDataQuery{expr("Upper", "1")}})
	wantCode(t, err, "InvalidParameterValue")
}

func TestListMetricsFilters(t *testing.T) {
	c := newCloud(t, 1)
	for _, d := range [][]types.Dimension{dims("Host", "a", "Env", "prod"), dims("Host", "b", "Env", "dev"), dims("Host", "a"), nil} {
		must[*cwsdk.PutMetricDataOutput](t)(c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Fleet"),
			MetricData: []types.MetricDatum{{MetricName: aws.String("Load"), Dimensions: d, Value: aws.Float64(1)}}}))
	}
	must[*cwsdk.PutMetricDataOutput](t)(c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Other"),
		MetricData: []types.MetricDatum{{MetricName: aws.String("Load"), Value: aws.Float64(1)}}}))
	if err := c.svc.Publish("000000000000", region, "AWS/EC2", []metric.Datum{{Name: "CPUUtilization", Dimensions: map[string]string{"InstanceId": "i-1"}, Value: 50, Unit: "Percent"}}); err != nil {
		t.Fatal(err)
	}
	count := func(in *cwsdk.ListMetricsInput) int {
		t.Helper()
		return len(must[*cwsdk.ListMetricsOutput](t)(c.cw.ListMetrics(ctx, in)).Metrics)
	}
	f := func(name string, value ...string) types.DimensionFilter {
		df := types.DimensionFilter{Name: aws.String(name)}
		if len(value) > 0 {
			df.Value = aws.String(value[0])
		}
		return df
	}
	for _, tc := range []struct {
		in   cwsdk.ListMetricsInput
		want int
	}{
		{cwsdk.ListMetricsInput{}, 6},
		{cwsdk.ListMetricsInput{Namespace: aws.String("Fleet")}, 4},
		{cwsdk.ListMetricsInput{Namespace: aws.String("Fleet"), Dimensions: []types.DimensionFilter{f("Host")}}, 3},
		{cwsdk.ListMetricsInput{Namespace: aws.String("Fleet"), Dimensions: []types.DimensionFilter{f("Host", "a")}}, 2},
		{cwsdk.ListMetricsInput{Dimensions: []types.DimensionFilter{f("Host", "a"), f("Env")}}, 1},
		{cwsdk.ListMetricsInput{MetricName: aws.String("Load")}, 5},
		{cwsdk.ListMetricsInput{Namespace: aws.String("AWS/EC2"), Dimensions: []types.DimensionFilter{f("InstanceId", "i-1")}}, 1},
		{cwsdk.ListMetricsInput{RecentlyActive: types.RecentlyActivePt3h}, 6},
	} {
		if got := count(&tc.in); got != tc.want {
			t.Errorf("ListMetrics(ns %v, name %v, %d filters): %d metrics, want %d", aws.ToString(tc.in.Namespace), aws.ToString(tc.in.MetricName), len(tc.in.Dimensions), got, tc.want)
		}
	}
}

func TestMetricErrors(t *testing.T) {
	c := newCloud(t, 1)
	put := func(ns string, d types.MetricDatum) error {
		_, err := c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String(ns), MetricData: []types.MetricDatum{d}})
		return err
	}
	name := aws.String("M")
	wantCode(t, put("AWS/EC2", types.MetricDatum{MetricName: name, Value: aws.Float64(1)}), "InvalidParameterValue")
	wantCode(t, put("App", types.MetricDatum{MetricName: name}), "MissingParameter")
	wantCode(t, put("App", types.MetricDatum{MetricName: name, Value: aws.Float64(1), StatisticValues: &types.StatisticSet{SampleCount: aws.Float64(1), Sum: aws.Float64(1), Minimum: aws.Float64(1), Maximum: aws.Float64(1)}}), "InvalidParameterCombination")
	wantCode(t, put("App", types.MetricDatum{MetricName: name, Values: []float64{1, 2}, Counts: []float64{1}}), "InvalidParameterValue")
	wantCode(t, put("App", types.MetricDatum{MetricName: name, Value: aws.Float64(1e200)}), "InvalidParameterValue")
	wantCode(t, put("App", types.MetricDatum{MetricName: name, Value: aws.Float64(1), StorageResolution: aws.Int32(5)}), "InvalidParameterValue")
	wantCode(t, put("App", types.MetricDatum{MetricName: name, Value: aws.Float64(1), Timestamp: aws.Time(c.clock.Now().Add(-15 * 24 * time.Hour))}), "InvalidParameterValue")
	many := make([]types.MetricDatum, 1001)
	for i := range many {
		many[i] = types.MetricDatum{MetricName: name, Value: aws.Float64(1)}
	}
	_, err := c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("App"), MetricData: many})
	wantCode(t, err, "InvalidParameterValue")

	now := c.clock.Now()
	get := func(period int32, span time.Duration, stats ...types.Statistic) error {
		_, err := c.cw.GetMetricStatistics(ctx, &cwsdk.GetMetricStatisticsInput{Namespace: aws.String("App"), MetricName: name,
			StartTime: aws.Time(now.Add(-span)), EndTime: &now, Period: aws.Int32(period), Statistics: stats})
		return err
	}
	err = get(60, 25*time.Hour, types.StatisticSum)
	wantCode(t, err, "InvalidParameterCombination")
	if want := "You have requested up to 1,500 datapoints, which exceeds the limit of 1,440."; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("message %v, want %q", err, want)
	}
	wantCode(t, get(45, time.Hour, types.StatisticSum), "InvalidParameterValue")
	wantCode(t, get(60, time.Hour), "MissingParameter")
	if err := get(60, 24*time.Hour, types.StatisticSum); err != nil {
		t.Fatalf("1,440 datapoints refused: %v", err)
	}
}
