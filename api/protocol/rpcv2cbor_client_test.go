package protocol_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkcw "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
	smithycbor "github.com/aws/smithy-go/encoding/cbor"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/store"
)

// The real aws-sdk-go-v2 CloudWatch client speaks Smithy RPC v2 CBOR; these
// tests have it talk to cloudbox.

func cwClient(url string) *sdkcw.Client {
	return sdkcw.New(sdkcw.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

func startDaemon(t *testing.T) string {
	t.Helper()
	d, err := daemon.New(daemon.Config{Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + ln.Addr().String()
}

// apiError checks that err is the API error code with the HTTP status.
func apiError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Errorf("%s: got %v, want API error %s", what, err, code)
		return
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Errorf("%s: status of %v is not %d", what, err, status)
	}
	if ae.ErrorMessage() == "" {
		t.Errorf("%s: no message in %v", what, err)
	}
}

func TestRPCv2CBORDaemon(t *testing.T) {
	url := startDaemon(t)
	cw := cwClient(url)
	ctx := context.Background()

	_, err := cw.PutMetricData(ctx, &sdkcw.PutMetricDataInput{
		Namespace:  aws.String("App"),
		MetricData: []types.MetricDatum{{MetricName: aws.String("m"), Value: aws.Float64(1), Timestamp: aws.Time(time.Now())}},
	})
	if err != nil {
		t.Fatalf("PutMetricData: %v", err)
	}
	// The datum comes back through the CBOR encoder.
	lm, err := cw.ListMetrics(ctx, &sdkcw.ListMetricsInput{Namespace: aws.String("App")})
	if err != nil || len(lm.Metrics) != 1 || aws.ToString(lm.Metrics[0].MetricName) != "m" {
		t.Errorf("ListMetrics: %+v, %v", lm, err)
	}
	da, err := cw.DescribeAlarms(ctx, &sdkcw.DescribeAlarmsInput{})
	if err != nil || len(da.MetricAlarms) != 0 {
		t.Errorf("DescribeAlarms: %+v, %v", da, err)
	}
	// An error comes back in CBOR too: an operation not implemented yet.
	_, err = cw.ListDashboards(ctx, &sdkcw.ListDashboardsInput{})
	apiError(t, "ListDashboards", err, "NotImplemented", 501)
	if err != nil && !strings.Contains(err.Error(), "ListDashboards") {
		t.Errorf("ListDashboards: the message does not name the operation: %v", err)
	}

	// Unsigned raw requests are routed by the path. The SDK checks required
	// members itself, so a request without Namespace is sent by hand.
	body := smithycbor.Encode(smithycbor.Map{
		"MetricData": smithycbor.List{smithycbor.Map{"MetricName": smithycbor.String("m")}},
	})
	resp, got := rawCBOR(t, url+"/service/GraniteServiceVersion20100801/operation/PutMetricData", body)
	if resp.StatusCode != 400 || got["__type"] != "ValidationError" ||
		resp.Header.Get("X-Amzn-Query-Error") != "ValidationError;Sender" ||
		!strings.Contains(got["message"], "'namespace' failed to satisfy constraint: Member must not be null") {
		t.Errorf("PutMetricData without Namespace: %d %v %v", resp.StatusCode, resp.Header, got)
	}
	// A malformed body.
	resp, got = rawCBOR(t, url+"/service/GraniteServiceVersion20100801/operation/PutMetricData", []byte{0xbf, 0x61})
	if resp.StatusCode != 400 || got["__type"] != "SerializationException" {
		t.Errorf("malformed body: %d %v", resp.StatusCode, got)
	}
	// An unknown operation, and an unknown service, answered in CBOR.
	resp, got = rawCBOR(t, url+"/service/GraniteServiceVersion20100801/operation/Nope", nil)
	if resp.StatusCode != 404 || got["__type"] != "UnknownOperationException" {
		t.Errorf("unknown operation: %d %v", resp.StatusCode, got)
	}
	resp, got = rawCBOR(t, url+"/service/NoSuchService/operation/Nope", nil)
	if resp.StatusCode != 400 || got["__type"] != "UnknownService" {
		t.Errorf("unknown service: %d %v", resp.StatusCode, got)
	}
}

// rawCBOR posts an unsigned RPC v2 CBOR request and returns the response
// and the text members of its CBOR body.
func rawCBOR(t *testing.T, url string, body []byte) (*http.Response, map[string]string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
	req.Header.Set("Accept", "application/cbor")
	if body != nil {
		req.Header.Set("Content-Type", "application/cbor")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" || resp.Header.Get("Content-Type") != "application/cbor" {
		t.Errorf("%s: response headers %v", url, resp.Header)
	}
	v, err := smithycbor.Decode(b)
	if err != nil {
		t.Fatalf("%s: body %x: %v", url, b, err)
	}
	out := map[string]string{}
	if m, ok := v.(smithycbor.Map); ok {
		for k, x := range m {
			if s, ok := x.(smithycbor.String); ok {
				out[k] = string(s)
			}
		}
	}
	return resp, out
}

// cwFixture is a CloudWatch service with a few operations that answer
// outputs carrying every kind of member, served behind httptest.
type cwFixture struct {
	mu      sync.Mutex
	puts    []*cloudwatch.PutMetricDataInput
	headers []http.Header
}

var (
	t0   = time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	t1ms = time.Date(2024, 2, 29, 12, 0, 1, 123e6, time.UTC)
	blob = []byte{0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 'P', 'N', 'G'}
)

func (fx *cwFixture) handlers() *cloudwatch.Handlers {
	s, f, i := ptr[string], ptr[float64], ptr[int64]
	tm := func(t time.Time) *time.Time { return &t }
	return &cloudwatch.Handlers{
		ListMetrics: func(ctx context.Context, in *cloudwatch.ListMetricsInput) (*cloudwatch.ListMetricsOutput, error) {
			if in.Namespace != nil && *in.Namespace == "missing" {
				return nil, api.NewError(404, "ResourceNotFound", "no namespace %s", *in.Namespace)
			}
			if in.Namespace != nil && *in.Namespace == "missing2" {
				return nil, api.NewError(404, "ResourceNotFoundException", "no such namespace")
			}
			if in.Namespace != nil && *in.Namespace == "bad" {
				return nil, api.Errorf("InvalidParameterValue", "bad namespace")
			}
			return &cloudwatch.ListMetricsOutput{
				Metrics: []*cloudwatch.Metric{
					{Namespace: s("App"), MetricName: s("Latency"), Dimensions: []*cloudwatch.Dimension{
						{Name: s("Host"), Value: s("a")}, {Name: s("Zone"), Value: s("üñî")}}},
					{Namespace: s("App"), MetricName: s("Errors"), Dimensions: []*cloudwatch.Dimension{}},
				},
				NextToken:      s("next"),
				OwningAccounts: []*string{s("123456789012")},
			}, nil
		},
		GetMetricStatistics: func(ctx context.Context, in *cloudwatch.GetMetricStatisticsInput) (*cloudwatch.GetMetricStatisticsOutput, error) {
			return &cloudwatch.GetMetricStatisticsOutput{
				Label: s(*in.MetricName),
				Datapoints: []*cloudwatch.Datapoint{
					{Timestamp: tm(t0), Average: f(1.5), Maximum: f(1e300), Minimum: f(-0.25), SampleCount: f(3), Sum: f(4.5),
						Unit: s("Milliseconds"), ExtendedStatistics: map[string]*float64{"p99": f(9.75), "p50": f(1)}},
					{Timestamp: tm(in.EndTime.Add(0)), Sum: f(math.MaxFloat64)},
				},
			}, nil
		},
		DescribeAlarms: func(ctx context.Context, in *cloudwatch.DescribeAlarmsInput) (*cloudwatch.DescribeAlarmsOutput, error) {
			return &cloudwatch.DescribeAlarmsOutput{MetricAlarms: []*cloudwatch.MetricAlarm{{
				AlarmName:                          s("high"),
				ActionsEnabled:                     ptr(false),
				AlarmActions:                       []*string{s("arn:a"), s("arn:b")},
				AlarmConfigurationUpdatedTimestamp: tm(t1ms),
				ComparisonOperator:                 s("GreaterThanThreshold"),
				DatapointsToAlarm:                  i(2),
				EvaluationPeriods:                  i(math.MaxInt32),
				Threshold:                          f(-1.25e-7),
				StateValue:                         s("ALARM"),
				StateUpdatedTimestamp:              tm(t0.Add(-50 * 365 * 24 * time.Hour)),
				Metrics: []*cloudwatch.MetricDataQuery{{
					Id: s("q1"), ReturnData: ptr(true),
					MetricStat: &cloudwatch.MetricStat{Period: i(60), Stat: s("p99"),
						Metric: &cloudwatch.Metric{Namespace: s("App"), MetricName: s("Latency"),
							Dimensions: []*cloudwatch.Dimension{{Name: s("Host"), Value: s("a")}}}},
				}},
			}}, NextToken: s("t")}, nil
		},
		GetMetricWidgetImage: func(ctx context.Context, in *cloudwatch.GetMetricWidgetImageInput) (*cloudwatch.GetMetricWidgetImageOutput, error) {
			return &cloudwatch.GetMetricWidgetImageOutput{MetricWidgetImage: blob}, nil
		},
		GetInsightRuleReport: func(ctx context.Context, in *cloudwatch.GetInsightRuleReportInput) (*cloudwatch.GetInsightRuleReportOutput, error) {
			return &cloudwatch.GetInsightRuleReportOutput{
				ApproximateUniqueCount: i(math.MaxInt64),
				AggregateValue:         f(2.5),
				KeyLabels:              []*string{s("k")},
				MetricDatapoints:       []*cloudwatch.InsightRuleMetricDatapoint{{Timestamp: tm(t1ms), UniqueContributors: f(7)}},
			}, nil
		},
		ListDashboards: func(ctx context.Context, in *cloudwatch.ListDashboardsInput) (*cloudwatch.ListDashboardsOutput, error) {
			return &cloudwatch.ListDashboardsOutput{DashboardEntries: []*cloudwatch.DashboardEntry{
				{DashboardName: s("d"), Size: i(-1 << 40), LastModified: tm(t1ms)},
			}}, nil
		},
		GetMetricData: func(ctx context.Context, in *cloudwatch.GetMetricDataInput) (*cloudwatch.GetMetricDataOutput, error) {
			return &cloudwatch.GetMetricDataOutput{MetricDataResults: []*cloudwatch.MetricDataResult{{
				Id: s(*in.MetricDataQueries[0].Id), StatusCode: s("Complete"),
				Timestamps: []*time.Time{tm(t0), tm(t1ms), tm(*in.StartTime)},
				Values:     []*float64{f(1), f(math.Inf(1)), f(math.NaN())},
				Messages:   []*cloudwatch.MessageData{{Code: s("c"), Value: s("v")}},
			}}}, nil
		},
		PutMetricData: func(ctx context.Context, in *cloudwatch.PutMetricDataInput) (*cloudwatch.PutMetricDataOutput, error) {
			fx.mu.Lock()
			fx.puts = append(fx.puts, in)
			fx.mu.Unlock()
			return nil, nil
		},
	}
}

func ptr[T any](v T) *T { return &v }

func startFixture(t *testing.T) (*cwFixture, *sdkcw.Client) {
	fx := &cwFixture{}
	srv := server.New(server.Config{
		Services: []server.Service{{API: cloudwatch.Service, Invoker: cloudwatch.Bind(fx.handlers())}},
		Identity: identity.New(store.OpenMemory(), identity.DefaultKeys),
	})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fx.mu.Lock()
		fx.headers = append(fx.headers, r.Header.Clone())
		fx.mu.Unlock()
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return fx, cwClient(hs.URL)
}

// same compares an SDK value with the expected one: times by instant, NaN
// equal to NaN, unexported fields (SDK bookkeeping) skipped.
func same(path string, got, want reflect.Value, diffs *[]string) {
	if got.Type() == reflect.TypeOf(time.Time{}) {
		if !got.Interface().(time.Time).Equal(want.Interface().(time.Time)) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v, want %v", path, got.Interface(), want.Interface()))
		}
		return
	}
	switch got.Kind() {
	case reflect.Pointer:
		if got.IsNil() || want.IsNil() {
			if got.IsNil() != want.IsNil() {
				*diffs = append(*diffs, fmt.Sprintf("%s: nil mismatch", path))
			}
			return
		}
		same(path, got.Elem(), want.Elem(), diffs)
	case reflect.Struct:
		for i := 0; i < got.NumField(); i++ {
			if got.Type().Field(i).IsExported() {
				same(path+"."+got.Type().Field(i).Name, got.Field(i), want.Field(i), diffs)
			}
		}
	case reflect.Slice:
		if got.Type().Elem().Kind() == reflect.Uint8 {
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				*diffs = append(*diffs, fmt.Sprintf("%s: %x, want %x", path, got.Bytes(), want.Bytes()))
			}
			return
		}
		if got.Len() != want.Len() {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d elements, want %d", path, got.Len(), want.Len()))
			return
		}
		for i := 0; i < got.Len(); i++ {
			same(fmt.Sprintf("%s[%d]", path, i), got.Index(i), want.Index(i), diffs)
		}
	case reflect.Map:
		if got.Len() != want.Len() {
			*diffs = append(*diffs, fmt.Sprintf("%s: %d entries, want %d", path, got.Len(), want.Len()))
			return
		}
		for _, k := range want.MapKeys() {
			if !got.MapIndex(k).IsValid() {
				*diffs = append(*diffs, fmt.Sprintf("%s[%v] missing", path, k))
				continue
			}
			same(fmt.Sprintf("%s[%v]", path, k), got.MapIndex(k), want.MapIndex(k), diffs)
		}
	case reflect.Float32, reflect.Float64:
		g, w := got.Float(), want.Float()
		if g != w && !(math.IsNaN(g) && math.IsNaN(w)) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v, want %v", path, g, w))
		}
	default:
		if !reflect.DeepEqual(got.Interface(), want.Interface()) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %#v, want %#v", path, got.Interface(), want.Interface()))
		}
	}
}

func expect[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	var diffs []string
	same(what, reflect.ValueOf(got), reflect.ValueOf(want), &diffs)
	for _, d := range diffs {
		t.Error(d)
	}
}

func TestRPCv2CBORClientReadsOutputs(t *testing.T) {
	fx, cw := startFixture(t)
	ctx := context.Background()

	lm, err := cw.ListMetrics(ctx, &sdkcw.ListMetricsInput{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "ListMetrics", lm.Metrics, []types.Metric{
		{Namespace: aws.String("App"), MetricName: aws.String("Latency"), Dimensions: []types.Dimension{
			{Name: aws.String("Host"), Value: aws.String("a")}, {Name: aws.String("Zone"), Value: aws.String("üñî")}}},
		{Namespace: aws.String("App"), MetricName: aws.String("Errors"), Dimensions: []types.Dimension{}},
	})
	expect(t, "ListMetrics.NextToken", lm.NextToken, aws.String("next"))
	expect(t, "ListMetrics.OwningAccounts", lm.OwningAccounts, []string{"123456789012"})

	end := time.Date(2024, 3, 1, 0, 0, 0, 999e6, time.UTC)
	gs, err := cw.GetMetricStatistics(ctx, &sdkcw.GetMetricStatisticsInput{
		Namespace: aws.String("App"), MetricName: aws.String("Latency"), Period: aws.Int32(60),
		StartTime: aws.Time(t0), EndTime: aws.Time(end), Statistics: []types.Statistic{types.StatisticSum},
	})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "GetMetricStatistics.Label", gs.Label, aws.String("Latency"))
	expect(t, "GetMetricStatistics", gs.Datapoints, []types.Datapoint{
		{Timestamp: aws.Time(t0), Average: aws.Float64(1.5), Maximum: aws.Float64(1e300), Minimum: aws.Float64(-0.25),
			SampleCount: aws.Float64(3), Sum: aws.Float64(4.5), Unit: types.StandardUnitMilliseconds,
			ExtendedStatistics: map[string]float64{"p99": 9.75, "p50": 1}},
		{Timestamp: aws.Time(end), Sum: aws.Float64(math.MaxFloat64)},
	})

	da, err := cw.DescribeAlarms(ctx, &sdkcw.DescribeAlarmsInput{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "DescribeAlarms", da.MetricAlarms, []types.MetricAlarm{{
		AlarmName:                          aws.String("high"),
		ActionsEnabled:                     aws.Bool(false),
		AlarmActions:                       []string{"arn:a", "arn:b"},
		AlarmConfigurationUpdatedTimestamp: aws.Time(t1ms),
		ComparisonOperator:                 types.ComparisonOperatorGreaterThanThreshold,
		DatapointsToAlarm:                  aws.Int32(2),
		EvaluationPeriods:                  aws.Int32(math.MaxInt32),
		Threshold:                          aws.Float64(-1.25e-7),
		StateValue:                         types.StateValueAlarm,
		StateUpdatedTimestamp:              aws.Time(t0.Add(-50 * 365 * 24 * time.Hour)),
		Metrics: []types.MetricDataQuery{{
			Id: aws.String("q1"), ReturnData: aws.Bool(true),
			MetricStat: &types.MetricStat{Period: aws.Int32(60), Stat: aws.String("p99"),
				Metric: &types.Metric{Namespace: aws.String("App"), MetricName: aws.String("Latency"),
					Dimensions: []types.Dimension{{Name: aws.String("Host"), Value: aws.String("a")}}}},
		}},
	}})
	expect(t, "DescribeAlarms.NextToken", da.NextToken, aws.String("t"))

	img, err := cw.GetMetricWidgetImage(ctx, &sdkcw.GetMetricWidgetImageInput{MetricWidget: aws.String("{}")})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "GetMetricWidgetImage", img.MetricWidgetImage, blob)

	ir, err := cw.GetInsightRuleReport(ctx, &sdkcw.GetInsightRuleReportInput{
		RuleName: aws.String("r"), StartTime: aws.Time(t0), EndTime: aws.Time(end), Period: aws.Int32(60)})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "GetInsightRuleReport.ApproximateUniqueCount", ir.ApproximateUniqueCount, aws.Int64(math.MaxInt64))
	expect(t, "GetInsightRuleReport.AggregateValue", ir.AggregateValue, aws.Float64(2.5))
	expect(t, "GetInsightRuleReport.KeyLabels", ir.KeyLabels, []string{"k"})
	expect(t, "GetInsightRuleReport.MetricDatapoints", ir.MetricDatapoints,
		[]types.InsightRuleMetricDatapoint{{Timestamp: aws.Time(t1ms), UniqueContributors: aws.Float64(7)}})

	ld, err := cw.ListDashboards(ctx, &sdkcw.ListDashboardsInput{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "ListDashboards", ld.DashboardEntries,
		[]types.DashboardEntry{{DashboardName: aws.String("d"), Size: aws.Int64(-1 << 40), LastModified: aws.Time(t1ms)}})

	start := time.Date(2023, 12, 31, 23, 59, 59, 1e6, time.UTC)
	md, err := cw.GetMetricData(ctx, &sdkcw.GetMetricDataInput{
		StartTime: aws.Time(start), EndTime: aws.Time(end),
		MetricDataQueries: []types.MetricDataQuery{{Id: aws.String("q9"), Expression: aws.String("SUM(METRICS())")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "GetMetricData", md.MetricDataResults, []types.MetricDataResult{{
		Id: aws.String("q9"), StatusCode: types.StatusCodeComplete,
		Timestamps: []time.Time{t0, t1ms, start},
		Values:     []float64{1, math.Inf(1), math.NaN()},
		Messages:   []types.MessageData{{Code: aws.String("c"), Value: aws.String("v")}},
	}})

	for _, h := range fx.headers {
		if h.Get("Smithy-Protocol") != "rpc-v2-cbor" || !strings.HasPrefix(h.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=test/") ||
			!strings.Contains(h.Get("Authorization"), "/monitoring/aws4_request") {
			t.Errorf("request headers %v", h)
		}
	}
}

// What the SDK client sends decodes to what it was given, compressed or
// not.
func TestRPCv2CBORClientInputs(t *testing.T) {
	fx, cw := startFixture(t)
	ctx := context.Background()
	ts := time.Date(2024, 5, 6, 7, 8, 9, 321e6, time.UTC)
	in := &sdkcw.PutMetricDataInput{
		Namespace: aws.String("App/Web"),
		MetricData: []types.MetricDatum{
			{
				MetricName: aws.String("Latency"), Timestamp: aws.Time(ts), Unit: types.StandardUnitMilliseconds,
				Dimensions:        []types.Dimension{{Name: aws.String("Host"), Value: aws.String("web-1")}},
				Values:            []float64{0.5, -2, 1e-300},
				Counts:            []float64{1, 2, 3},
				StorageResolution: aws.Int32(1),
			},
			{
				MetricName: aws.String("Bytes"), Value: aws.Float64(12345678901234),
				StatisticValues: &types.StatisticSet{Maximum: aws.Float64(3), Minimum: aws.Float64(0), SampleCount: aws.Float64(2), Sum: aws.Float64(3)},
			},
		},
	}
	if _, err := cw.PutMetricData(ctx, in); err != nil {
		t.Fatal(err)
	}
	s, f, i := ptr[string], ptr[float64], ptr[int64]
	want := &cloudwatch.PutMetricDataInput{
		Namespace: s("App/Web"),
		MetricData: []*cloudwatch.MetricDatum{
			{
				MetricName: s("Latency"), Timestamp: &ts, Unit: s("Milliseconds"),
				Dimensions:        []*cloudwatch.Dimension{{Name: s("Host"), Value: s("web-1")}},
				Values:            []*float64{f(0.5), f(-2), f(1e-300)},
				Counts:            []*float64{f(1), f(2), f(3)},
				StorageResolution: i(1),
			},
			{
				MetricName: s("Bytes"), Value: f(12345678901234),
				StatisticValues: &cloudwatch.StatisticSet{Maximum: f(3), Minimum: f(0), SampleCount: f(2), Sum: f(3)},
			},
		},
	}
	if len(fx.puts) != 1 {
		t.Fatalf("%d PutMetricData calls", len(fx.puts))
	}
	expect(t, "PutMetricData", fx.puts[0], want)

	// Past 10 KiB the SDK gzips PutMetricData.
	big := &sdkcw.PutMetricDataInput{Namespace: aws.String("Big")}
	for n := 0; n < 1000; n++ {
		big.MetricData = append(big.MetricData, types.MetricDatum{
			MetricName: aws.String(fmt.Sprintf("metric-%04d", n)), Value: aws.Float64(float64(n)), Timestamp: aws.Time(ts)})
	}
	if _, err := cw.PutMetricData(ctx, big); err != nil {
		t.Fatal(err)
	}
	last := fx.headers[len(fx.headers)-1]
	if last.Get("Content-Encoding") != "gzip" {
		t.Errorf("the large PutMetricData was not compressed: %v", last)
	}
	if len(fx.puts) != 2 || len(fx.puts[1].MetricData) != 1000 || *fx.puts[1].MetricData[999].MetricName != "metric-0999" ||
		!fx.puts[1].MetricData[999].Timestamp.Equal(ts) {
		t.Errorf("the compressed PutMetricData decoded wrong")
	}
}

func TestRPCv2CBORClientErrors(t *testing.T) {
	_, cw := startFixture(t)
	ctx := context.Background()

	// A modeled error whose shape name is the code: the typed error, with
	// its message (member "message").
	_, err := cw.ListMetrics(ctx, &sdkcw.ListMetricsInput{Namespace: aws.String("missing")})
	var rnf *types.ResourceNotFound
	if !errors.As(err, &rnf) || rnf.ErrorMessage() != "no namespace missing" {
		t.Errorf("ResourceNotFound: %T %v", err, err)
	}
	apiError(t, "ResourceNotFound", err, "ResourceNotFound", 404)
	// Its sibling names the member "Message".
	_, err = cw.ListMetrics(ctx, &sdkcw.ListMetricsInput{Namespace: aws.String("missing2")})
	var rnfe *types.ResourceNotFoundException
	if !errors.As(err, &rnfe) || rnfe.ErrorMessage() != "no such namespace" {
		t.Errorf("ResourceNotFoundException: %T %v", err, err)
	}
	// A query code whose shape is named otherwise (InvalidParameterValueException):
	// the code still comes through, from x-amzn-query-error.
	_, err = cw.ListMetrics(ctx, &sdkcw.ListMetricsInput{Namespace: aws.String("bad")})
	apiError(t, "InvalidParameterValue", err, "InvalidParameterValue", 400)
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorMessage() != "bad namespace" || ae.ErrorFault() != smithy.FaultClient) {
		t.Errorf("InvalidParameterValue: message %q, fault %v", ae.ErrorMessage(), ae.ErrorFault())
	}
	// Not implemented.
	_, err = cw.DeleteAlarms(ctx, &sdkcw.DeleteAlarmsInput{AlarmNames: []string{"a"}})
	apiError(t, "DeleteAlarms", err, "NotImplemented", 501)
	if errors.As(err, &ae) && ae.ErrorFault() != smithy.FaultServer {
		t.Errorf("NotImplemented: fault %v", ae.ErrorFault())
	}
	// Validation by cloudbox of what the SDK does not check (lengths).
	_, err = cw.ListMetrics(ctx, &sdkcw.ListMetricsInput{Namespace: aws.String(strings.Repeat("n", 256))})
	apiError(t, "ListMetrics with a long namespace", err, "ValidationError", 400)
}
