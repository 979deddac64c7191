package cloudwatch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

const (
	maxPastPut      = 14 * 24 * time.Hour // PutMetricData refuses older timestamps
	maxFuturePut    = 2 * time.Hour
	maxValues       = 1000 // raw values kept per statistic set, for percentiles
	maxMetricData   = 1000
	maxValuesPerPut = 150
	recentlyActive  = 3 * time.Hour
	listMetricsPage = 500
)

// dim is a dimension of a metric.
type dim struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// metricRef names one metric: a namespace, a name and a dimension set
// (sorted by name, so equal sets compare equal).
type metricRef struct {
	Namespace  string `json:"Namespace"`
	MetricName string `json:"MetricName"`
	Dimensions []dim  `json:"Dimensions,omitempty"`
}

func newRef(namespace, name string, dims []*cwapi.Dimension) metricRef {
	r := metricRef{Namespace: namespace, MetricName: name}
	for _, d := range dims {
		r.Dimensions = append(r.Dimensions, dim{deref(d.Name), deref(d.Value)})
	}
	sort.Slice(r.Dimensions, func(i, j int) bool { return r.Dimensions[i].Name < r.Dimensions[j].Name })
	return r
}

// id is the metric's key in the catalogue and in memory.
func (r metricRef) id() string {
	b, _ := json.Marshal(r)
	return string(b)
}

func (r metricRef) apiDimensions() []*cwapi.Dimension {
	var out []*cwapi.Dimension
	for _, d := range r.Dimensions {
		out = append(out, &cwapi.Dimension{Name: str(d.Name), Value: str(d.Value)})
	}
	return out
}

func (r metricRef) api() *cwapi.Metric {
	return &cwapi.Metric{Namespace: str(r.Namespace), MetricName: str(r.MetricName), Dimensions: r.apiDimensions()}
}

// statSet is the aggregate of the values of one metric in one second or
// minute, for one unit.
type statSet struct {
	count, sum, min, max float64
	values               []float64 // up to maxValues, for percentiles
}

func (a *statSet) add(v, n float64) {
	if a.count == 0 {
		a.min, a.max = v, v
	}
	a.count += n
	a.sum += v * n
	a.min, a.max = math.Min(a.min, v), math.Max(a.max, v)
	for i := 0; i < int(n) && len(a.values) < maxValues; i++ {
		a.values = append(a.values, v)
	}
}

func (a *statSet) merge(b *statSet) {
	if b.count == 0 {
		return
	}
	if a.count == 0 {
		a.min, a.max = b.min, b.max
	}
	a.count += b.count
	a.sum += b.sum
	a.min, a.max = math.Min(a.min, b.min), math.Max(a.max, b.max)
	room := maxValues - len(a.values)
	a.values = append(a.values, b.values[:min(room, len(b.values))]...)
}

type bucketKey struct {
	at   int64 // unix seconds of the bucket's start
	unit string
	res  int64 // seconds the bucket spans: 1, 60, 300 or 3600 (tiers)
}

// chunkID names the span of time one stored record of a series covers
// (chunkSpan of its buckets' resolution), so a flush rewrites only the
// spans that changed and a query reads only the spans it overlaps.
type chunkID struct{ span, start int64 }

func chunkOf(bk bucketKey) chunkID {
	span := chunkSpan(bk.res)
	return chunkID{span, bk.at - mod(bk.at, span)}
}

// chunkSpan: an hour of 1-second or 1-minute buckets, a day of 5-minute
// ones, thirty days of hourly ones.
func chunkSpan(res int64) int64 {
	switch res {
	case 1, 60:
		return 3600
	case 300:
		return 24 * 3600
	}
	return 30 * 24 * 3600
}

type chunk struct {
	buckets map[bucketKey]*statSet
}

type series struct {
	chunks  map[chunkID]*chunk
	lastPut time.Time // virtual time of the last put, for RecentlyActive
	pruned  time.Time // when the tiers last ran over this series
}

type seriesKey struct {
	sc scope
	id string
}

// chunkRef names one chunk of one series: what a flush writes.
type chunkRef struct {
	series seriesKey
	chunk  chunkID
}

// metricStore holds every metric's datapoints in memory; what changed is
// written to the store by flush (persist.go).
type metricStore struct {
	mu     sync.Mutex
	series map[seriesKey]*series
	dirty  map[chunkRef]bool
}

func newMetricStore() *metricStore {
	return &metricStore{series: map[seriesKey]*series{}, dirty: map[chunkRef]bool{}}
}

// sample is one value (or statistic set) to record.
type sample struct {
	ref        metricRef
	at         time.Time
	unit       string
	resolution int64 // 1 or 60
	set        statSet
}

// record adds samples and returns the metrics that were not in memory
// yet (the catalogue may not know them).
func (m *metricStore) record(sc scope, samples []sample, now time.Time) []metricRef {
	m.mu.Lock()
	defer m.mu.Unlock()
	var fresh []metricRef
	for i := range samples {
		smp := &samples[i]
		k := seriesKey{sc, smp.ref.id()}
		ser := m.series[k]
		if ser == nil {
			ser = &series{chunks: map[chunkID]*chunk{}, pruned: now}
			m.series[k] = ser
			fresh = append(fresh, smp.ref)
		}
		at := smp.at.Unix()
		m.bucket(k, ser, bucketKey{at - mod(at, smp.resolution), smp.unit, smp.resolution}).merge(&smp.set)
		ser.lastPut = now
		if now.Sub(ser.pruned) > time.Hour {
			m.rollUp(k, ser, now)
		}
	}
	return fresh
}

// bucket returns the statistic set at bk, made if new, and marks its chunk
// for the next flush.
func (m *metricStore) bucket(k seriesKey, ser *series, bk bucketKey) *statSet {
	id := chunkOf(bk)
	c := ser.chunks[id]
	if c == nil {
		c = &chunk{buckets: map[bucketKey]*statSet{}}
		ser.chunks[id] = c
	}
	b := c.buckets[bk]
	if b == nil {
		b = &statSet{}
		c.buckets[bk] = b
	}
	m.dirty[chunkRef{k, id}] = true
	return b
}

// tiers are CloudWatch's retention schedule: data of a resolution is kept
// that long after its timestamp, then rolled up into the next tier's
// coarser buckets, and dropped after the last.
var tiers = []struct {
	res  int64
	keep time.Duration
}{
	{1, 3 * time.Hour},
	{60, 15 * 24 * time.Hour},
	{300, 63 * 24 * time.Hour},
	{3600, 455 * 24 * time.Hour},
}

// tierFor returns the finest resolution, no finer than res, that keeps
// data of the given age; 0 when it has expired.
func tierFor(res int64, age time.Duration) int64 {
	for _, t := range tiers {
		if t.res >= res && age < t.keep {
			return t.res
		}
	}
	return 0
}

// rollUp moves the buckets of ser that outlived their tier into the next
// one and drops the expired. The caller holds m.mu.
func (m *metricStore) rollUp(k seriesKey, ser *series, now time.Time) {
	fresh := now.Add(-tiers[0].keep).Unix()
	for id, c := range ser.chunks {
		if id.start+id.span > fresh {
			continue // every bucket in it is still in the first tier
		}
		for bk, b := range c.buckets {
			res := tierFor(bk.res, now.Sub(time.Unix(bk.at, 0)))
			if res == bk.res {
				continue
			}
			delete(c.buckets, bk)
			m.dirty[chunkRef{k, id}] = true
			if res != 0 {
				m.bucket(k, ser, bucketKey{bk.at - mod(bk.at, res), bk.unit, res}).merge(b)
			}
		}
		if len(c.buckets) == 0 {
			delete(ser.chunks, id)
		}
	}
	ser.pruned = now
}

// sweep rolls up the series no put has touched for an hour.
func (m *metricStore) sweep(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, ser := range m.series {
		if now.Sub(ser.pruned) > time.Hour {
			m.rollUp(k, ser, now)
		}
	}
}

func mod(a, b int64) int64 { return ((a % b) + b) % b }

// periodStat is a metric's aggregate over one period.
type periodStat struct {
	start time.Time
	statSet
	units map[string]bool
}

// aggregate returns the statistic sets of ref over the periods
// [start + k·period, start + (k+1)·period) before end that have data, in
// time order. An empty unit matches every unit.
func (m *metricStore) aggregate(sc scope, ref metricRef, unit string, start, end time.Time, period time.Duration) []periodStat {
	m.mu.Lock()
	defer m.mu.Unlock()
	ser := m.series[seriesKey{sc, ref.id()}]
	if ser == nil {
		return nil
	}
	p := int64(period / time.Second)
	from, to := start.Unix(), end.Unix()
	byPeriod := map[int64]*periodStat{}
	for id, c := range ser.chunks {
		if id.start >= to || id.start+id.span <= from {
			continue
		}
		for k, b := range c.buckets {
			if k.at < from || k.at >= to || (unit != "" && k.unit != unit) {
				continue
			}
			ps := from + (k.at-from)/p*p
			agg := byPeriod[ps]
			if agg == nil {
				agg = &periodStat{start: time.Unix(ps, 0).UTC(), units: map[string]bool{}}
				byPeriod[ps] = agg
			}
			agg.merge(b)
			agg.units[k.unit] = true
		}
	}
	out := make([]periodStat, 0, len(byPeriod))
	for _, ps := range byPeriod {
		slices.Sort(ps.values)
		out = append(out, *ps)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// lastPut returns when ref last received data (zero if not since start).
func (m *metricStore) lastPut(sc scope, id string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ser := m.series[seriesKey{sc, id}]; ser != nil {
		return ser.lastPut
	}
	return time.Time{}
}

// Publish records datapoints of cloudbox's own metrics (AWS/EC2,
// AWS/ApplicationELB, ...), which user calls may not write.
func (s *Service) Publish(account, region, namespace string, data []metric.Datum) error {
	now := s.now()
	samples := make([]sample, 0, len(data))
	for _, d := range data {
		if math.IsNaN(d.Value) || math.IsInf(d.Value, 0) {
			return fmt.Errorf("cloudwatch: %s %s: value %v is not a number", namespace, d.Name, d.Value)
		}
		var dims []*cwapi.Dimension
		for k, v := range d.Dimensions {
			dims = append(dims, &cwapi.Dimension{Name: str(k), Value: str(v)})
		}
		at := d.Time
		if at.IsZero() {
			at = now
		}
		unit := d.Unit
		if unit == "" {
			unit = cwapi.StandardUnitNone
		}
		smp := sample{ref: newRef(namespace, d.Name, dims), at: at, unit: unit, resolution: 60}
		smp.set.add(d.Value, 1)
		samples = append(samples, smp)
	}
	return s.record(scope{account, region}, samples, now)
}

// record keeps samples in memory and adds their new metrics to the
// catalogue.
func (s *Service) record(sc scope, samples []sample, now time.Time) error {
	fresh := s.metrics.record(sc, samples, now)
	if len(fresh) == 0 {
		return nil
	}
	var missing []metricRef
	err := s.store.View(func(tx *store.Tx) error {
		for _, ref := range fresh {
			var r metricRef
			ok, err := tx.Get(store.Key{Account: sc.account, Region: sc.region, Kind: kindMetric, ID: ref.id()}, &r)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, ref)
			}
		}
		return nil
	})
	if err != nil || len(missing) == 0 {
		return err
	}
	return s.store.Update(func(tx *store.Tx) error {
		for _, ref := range missing {
			if err := tx.Put(store.Key{Account: sc.account, Region: sc.region, Kind: kindMetric, ID: ref.id()}, ref); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) registerMetrics(h *cwapi.Handlers) {
	h.PutMetricData = s.putMetricData
	h.ListMetrics = s.listMetrics
	h.GetMetricStatistics = s.getMetricStatistics
	h.GetMetricData = s.getMetricData
}

func invalidValue(param string, v any) *api.Error {
	return api.Errorf("InvalidParameterValue", "The value %v for parameter %s is invalid.", v, param)
}

// validNumber reports whether CloudWatch accepts v: finite, and zero or of
// a magnitude between 2^-360 and 2^360.
func validNumber(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	a := math.Abs(v)
	return a == 0 || (a >= math.Ldexp(1, -360) && a <= math.Ldexp(1, 360))
}

func (s *Service) putMetricData(ctx context.Context, in *cwapi.PutMetricDataInput) (*cwapi.PutMetricDataOutput, error) {
	ns := deref(in.Namespace)
	if strings.HasPrefix(ns, "AWS/") {
		return nil, invalidValue("Namespace", ns)
	}
	if len(in.MetricData) == 0 {
		return nil, api.Errorf("MissingParameter", "The parameter MetricData is required.")
	}
	if len(in.MetricData) > maxMetricData {
		return nil, api.Errorf("InvalidParameterValue", "The collection MetricData must not have a size greater than %d.", maxMetricData)
	}
	now := s.now()
	samples := make([]sample, 0, len(in.MetricData))
	for i, d := range in.MetricData {
		smp, err := datumSample(ns, fmt.Sprintf("MetricData.member.%d", i+1), d, now)
		if err != nil {
			return nil, err
		}
		samples = append(samples, smp)
	}
	if err := s.record(scopeOf(ctx), samples, now); err != nil {
		return nil, err
	}
	return &cwapi.PutMetricDataOutput{}, nil
}

// datumSample validates one MetricDatum as AWS does and turns it into a
// sample.
func datumSample(ns, p string, d *cwapi.MetricDatum, now time.Time) (sample, error) {
	smp := sample{at: now, unit: cwapi.StandardUnitNone, resolution: 60}
	if len(d.Dimensions) > 30 {
		return smp, api.Errorf("InvalidParameterValue", "The collection %s.Dimensions must not have a size greater than 30.", p)
	}
	seen := map[string]bool{}
	for j, dm := range d.Dimensions {
		if seen[deref(dm.Name)] {
			return smp, api.Errorf("InvalidParameterValue", "The parameter %s.Dimensions.member.%d.Name has a duplicate value %s.", p, j+1, deref(dm.Name))
		}
		seen[deref(dm.Name)] = true
	}
	smp.ref = newRef(ns, deref(d.MetricName), d.Dimensions)
	if d.Timestamp != nil {
		smp.at = *d.Timestamp
		if now.Sub(smp.at) > maxPastPut {
			return smp, api.Errorf("InvalidParameterValue", "The parameter %s.Timestamp must specify a time no more than two weeks in the past.", p)
		}
		if smp.at.Sub(now) > maxFuturePut {
			return smp, api.Errorf("InvalidParameterValue", "The parameter %s.Timestamp must specify a time no more than two hours in the future.", p)
		}
	}
	if d.Unit != nil {
		smp.unit = *d.Unit
	}
	if d.StorageResolution != nil {
		switch *d.StorageResolution {
		case 1, 60:
			smp.resolution = *d.StorageResolution
		default:
			return smp, invalidValue(p+".StorageResolution", *d.StorageResolution)
		}
	}
	given := 0
	for _, set := range []bool{d.Value != nil, len(d.Values) > 0, d.StatisticValues != nil} {
		if set {
			given++
		}
	}
	switch {
	case given == 0:
		return smp, api.Errorf("MissingParameter", "At least one of the parameters %[1]s.Value, %[1]s.StatisticValues or %[1]s.Values must be specified.", p)
	case given > 1:
		return smp, api.Errorf("InvalidParameterCombination", "The parameters %[1]s.Value, %[1]s.StatisticValues and %[1]s.Values are mutually exclusive and you have specified more than one.", p)
	case len(d.Counts) > 0 && len(d.Values) == 0:
		return smp, api.Errorf("InvalidParameterCombination", "The parameter %s.Counts requires %s.Values.", p, p)
	}
	switch {
	case d.Value != nil:
		if !validNumber(*d.Value) {
			return smp, invalidValue(p+".Value", *d.Value)
		}
		smp.set.add(*d.Value, 1)
	case len(d.Values) > 0:
		if len(d.Values) > maxValuesPerPut {
			return smp, api.Errorf("InvalidParameterValue", "The collection %s.Values must not have a size greater than %d.", p, maxValuesPerPut)
		}
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return smp, api.Errorf("InvalidParameterValue", "The parameters %[1]s.Values and %[1]s.Counts must be of the same size.", p)
		}
		for j, v := range d.Values {
			n := 1.0
			if len(d.Counts) > 0 {
				n = deref(d.Counts[j])
			}
			if v == nil || !validNumber(*v) {
				return smp, invalidValue(fmt.Sprintf("%s.Values.member.%d", p, j+1), deref(v))
			}
			if !validNumber(n) || n < 0 {
				return smp, invalidValue(fmt.Sprintf("%s.Counts.member.%d", p, j+1), n)
			}
			if n > 0 {
				smp.set.add(*v, n)
			}
		}
	default:
		sv := d.StatisticValues
		vals := []float64{deref(sv.SampleCount), deref(sv.Sum), deref(sv.Minimum), deref(sv.Maximum)}
		for _, v := range vals {
			if !validNumber(v) {
				return smp, invalidValue(p+".StatisticValues", v)
			}
		}
		if vals[0] <= 0 {
			return smp, api.Errorf("InvalidParameterValue", "The parameter %s.StatisticValues.SampleCount must be greater than 0.", p)
		}
		if vals[2] > vals[3] {
			return smp, api.Errorf("InvalidParameterValue", "The parameter %[1]s.StatisticValues.Maximum must be greater than or equal to %[1]s.StatisticValues.Minimum.", p)
		}
		smp.set = statSet{count: vals[0], sum: vals[1], min: vals[2], max: vals[3]}
	}
	return smp, nil
}

func (s *Service) listMetrics(ctx context.Context, in *cwapi.ListMetricsInput) (*cwapi.ListMetricsOutput, error) {
	sc := scopeOf(ctx)
	offset, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var matched []metricRef
	err = s.store.View(func(tx *store.Tx) error {
		return tx.List(sc.account, sc.region, kindMetric, func(id string, raw []byte) error {
			var r metricRef
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			if in.Namespace != nil && r.Namespace != *in.Namespace ||
				in.MetricName != nil && r.MetricName != *in.MetricName ||
				!matchDimensionFilters(r, in.Dimensions) {
				return nil
			}
			if in.RecentlyActive != nil {
				last := s.metrics.lastPut(sc, id)
				if last.IsZero() || now.Sub(last) > recentlyActive {
					return nil
				}
			}
			matched = append(matched, r)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	out := &cwapi.ListMetricsOutput{Metrics: []*cwapi.Metric{}}
	if offset > len(matched) {
		return nil, api.Errorf("InvalidNextToken", "The service couldn't process the pagination token.")
	}
	end := min(offset+listMetricsPage, len(matched))
	for _, r := range matched[offset:end] {
		out.Metrics = append(out.Metrics, r.api())
	}
	if end < len(matched) {
		out.NextToken = encodeToken(end)
	}
	return out, nil
}

// matchDimensionFilters: the metric has every filtered dimension, with
// the filter's value when it has one.
func matchDimensionFilters(r metricRef, filters []*cwapi.DimensionFilter) bool {
	for _, f := range filters {
		found := false
		for _, d := range r.Dimensions {
			if d.Name == deref(f.Name) && (f.Value == nil || d.Value == *f.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Pagination tokens are opaque offsets.
func encodeToken(offset int) *string {
	return str(base64.RawURLEncoding.EncodeToString([]byte("cb:" + strconv.Itoa(offset))))
}

func decodeToken(tok *string) (int, error) {
	if tok == nil || *tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(*tok)
	n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), "cb:"))
	if err != nil || convErr != nil || !strings.HasPrefix(string(raw), "cb:") || n < 0 {
		return 0, api.Errorf("InvalidNextToken", "The service couldn't process the pagination token.")
	}
	return n, nil
}
