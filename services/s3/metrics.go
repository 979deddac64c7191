package s3

import (
	"encoding/json"
	"time"

	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// S3's daily storage metrics (AWS/S3, published in each bucket's region):
// BucketSizeBytes per storage type and NumberOfObjects for all of them.
// As S3 counts them, every version and delete marker is counted and
// weighed, and so is every part of the uploads in progress; a bucket with
// nothing in it has no datapoints.

// storageTypes are the StorageType dimension's values of BucketSizeBytes,
// by storage class.
var storageTypes = map[string]string{
	"":                    "StandardStorage",
	"STANDARD":            "StandardStorage",
	"REDUCED_REDUNDANCY":  "ReducedRedundancyStorage",
	"STANDARD_IA":         "StandardIAStorage",
	"ONEZONE_IA":          "OneZoneIAStorage",
	"INTELLIGENT_TIERING": "IntelligentTieringFAStorage",
	"GLACIER":             "GlacierStorage",
	"DEEP_ARCHIVE":        "DeepArchiveStorage",
	"GLACIER_IR":          "GlacierInstantRetrievalStorage",
	"OUTPOSTS":            "StandardStorage",
	"SNOW":                "StandardStorage",
	"EXPRESS_ONEZONE":     "ExpressOneZone",
}

// metricScope is where a bucket's metrics go.
type metricScope struct{ account, region string }

// storageMetrics measures every bucket for the day that starts at day.
func (s *Service) storageMetrics(day time.Time) (map[metricScope][]metric.Datum, error) {
	out := map[metricScope][]metric.Datum{}
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindBucket)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			buckets, err := store.ListAll[bucketRecord](tx, sc[0], "", kindBucket)
			if err != nil {
				return err
			}
			for _, b := range buckets {
				data, err := measure(tx, b, day)
				if err != nil {
					return err
				}
				where := metricScope{b.Owner, b.Region}
				out[where] = append(out[where], data...)
			}
		}
		return nil
	})
	return out, err
}

// measure is one bucket's storage metrics.
func measure(tx *store.Tx, b *bucketRecord, day time.Time) ([]metric.Datum, error) {
	var count int64
	bytes := map[string]int64{} // by storage type
	add := func(class string, size int64) {
		count++
		t, ok := storageTypes[class]
		if !ok {
			t = "StandardStorage"
		}
		bytes[t] += size
	}
	if err := tx.List(b.Owner, "", kindObjects+b.Name, func(_ string, raw []byte) error {
		var o objectRecord
		if err := json.Unmarshal(raw, &o); err != nil {
			return err
		}
		for _, v := range o.Versions {
			add(v.StorageClass, v.Size)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := tx.List(b.Owner, "", kindUploads+b.Name, func(_ string, raw []byte) error {
		var u uploadRecord
		if err := json.Unmarshal(raw, &u); err != nil {
			return err
		}
		for _, p := range u.Parts {
			add(u.Object.StorageClass, p.Size)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	var data []metric.Datum
	for t, n := range bytes {
		if n > 0 {
			data = append(data, metric.Datum{Name: "BucketSizeBytes", Unit: "Bytes", Value: float64(n), Time: day,
				Dimensions: map[string]string{"BucketName": b.Name, "StorageType": t}})
		}
	}
	if count > 0 {
		data = append(data, metric.Datum{Name: "NumberOfObjects", Unit: "Count", Value: float64(count), Time: day,
			Dimensions: map[string]string{"BucketName": b.Name, "StorageType": "AllStorageTypes"}})
	}
	return data, nil
}
