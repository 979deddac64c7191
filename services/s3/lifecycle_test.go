package s3

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// cfgAt is a moment of March 2026 (UTC).
func cfgAt(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, time.UTC)
}

// lifecycle puts rules on bucket.
func (c *cfgCloud) lifecycle(t *testing.T, bucket string, rules ...s3types.LifecycleRule) {
	t.Helper()
	cfgMust(c.s3.PutBucketLifecycleConfiguration(cfgCtx, &s3sdk.PutBucketLifecycleConfigurationInput{Bucket: aws.String(bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}}))(t)
}

// apply runs a lifecycle pass at now.
func (c *cfgCloud) apply(t *testing.T, now time.Time) {
	t.Helper()
	c.clock.Set(now)
	if err := c.svc.applyLifecycle(now); err != nil {
		t.Fatal(err)
	}
}

// versions lists a bucket's versions as "key:id" (a delete marker's id
// is "marker"), newest first per key.
func (c *cfgCloud) versions(t *testing.T, bucket string) []string {
	t.Helper()
	out := cfgMust(c.s3.ListObjectVersions(cfgCtx, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(bucket)}))(t)
	var got []string
	for _, v := range out.Versions {
		got = append(got, aws.ToString(v.Key)+":"+aws.ToString(v.VersionId))
	}
	for _, m := range out.DeleteMarkers {
		got = append(got, aws.ToString(m.Key)+":marker")
	}
	sort.Strings(got)
	return got
}

func (c *cfgCloud) keys(t *testing.T, bucket string) string {
	t.Helper()
	out := cfgMust(c.s3.ListObjectsV2(cfgCtx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(bucket)}))(t)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return strings.Join(keys, " ")
}

var cfgAll = &s3types.LifecycleRuleFilter{Prefix: aws.String("")}

func TestLifecycleExpiresAtTheMidnightAfter(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "expiring")
	c.clock.Set(cfgAt(1, 10, 30))
	c.put(t, b, "tmp/a", "a")
	c.put(t, b, "keep/b", "b")
	c.lifecycle(t, b, s3types.LifecycleRule{ID: aws.String("tmp"), Status: "Enabled", Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
		Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(3)}})

	// Made on the 1st at 10:30, three days on is the 4th at 10:30: the
	// object expires at the next midnight, the 5th.
	c.apply(t, cfgAt(4, 23, 59))
	if got := c.keys(t, b); got != "keep/b tmp/a" {
		t.Fatalf("before its day: %s", got)
	}
	c.apply(t, cfgAt(5, 0, 0))
	if got := c.keys(t, b); got != "keep/b" {
		t.Errorf("after its day: %s", got)
	}
	if got := c.versions(t, b); len(got) != 1 {
		t.Errorf("an unversioned bucket kept %v", got)
	}

	// A disabled rule does nothing; a date expires everything it selects
	// from that date on.
	c.lifecycle(t, b,
		s3types.LifecycleRule{Status: "Disabled", Filter: cfgAll, Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
		s3types.LifecycleRule{Status: "Enabled", Filter: cfgAll, Expiration: &s3types.LifecycleExpiration{Date: aws.Time(cfgAt(20, 0, 0))}})
	c.apply(t, cfgAt(19, 23, 0))
	if got := c.keys(t, b); got != "keep/b" {
		t.Errorf("before the date: %s", got)
	}
	c.apply(t, cfgAt(20, 0, 0))
	if got := c.keys(t, b); got != "" {
		t.Errorf("on the date: %s", got)
	}
}

func TestLifecycleVersions(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "versions")
	cfgMust(c.s3.PutBucketVersioning(cfgCtx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))(t)
	c.clock.Set(cfgAt(1, 10, 30))
	v1 := aws.ToString(c.put(t, b, "doc", "one").VersionId)
	c.clock.Set(cfgAt(2, 8, 0))
	v2 := aws.ToString(c.put(t, b, "doc", "two").VersionId)
	c.lifecycle(t, b, s3types.LifecycleRule{ID: aws.String("all"), Status: "Enabled", Filter: cfgAll,
		Expiration:                  &s3types.LifecycleExpiration{Days: aws.Int32(1)},
		NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(2)}})

	// v2, made on the 2nd, expires on the 4th: a delete marker is put on
	// it, and the object is gone from listings.
	c.apply(t, cfgAt(3, 23, 0))
	if got := c.keys(t, b); got != "doc" {
		t.Fatalf("before expiring: %s", got)
	}
	c.apply(t, cfgAt(4, 0, 0))
	if got, want := c.versions(t, b), []string{"doc:" + v1, "doc:" + v2, "doc:marker"}; strings.Join(got, " ") != strings.Join(cfgSorted(want), " ") {
		t.Errorf("after expiring: %v, want %v", got, want)
	}
	if got := c.keys(t, b); got != "" {
		t.Errorf("an expired object is listed: %s", got)
	}
	// v1 has been noncurrent since the 2nd at 08:00: gone on the 5th.
	c.apply(t, cfgAt(5, 0, 0))
	if got, want := c.versions(t, b), []string{"doc:" + v2, "doc:marker"}; strings.Join(got, " ") != strings.Join(cfgSorted(want), " ") {
		t.Errorf("after v1's noncurrent days: %v", got)
	}
	// v2 has been noncurrent since the 4th: gone on the 7th; the delete
	// marker, alone then and older than the rule's day, goes with it.
	c.apply(t, cfgAt(7, 0, 0))
	if got := c.versions(t, b); len(got) != 0 {
		t.Errorf("after v2's noncurrent days: %v", got)
	}
}

func cfgSorted(s []string) []string {
	sort.Strings(s)
	return s
}

func TestLifecycleNewerNoncurrentVersionsAndMarkers(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "newer")
	cfgMust(c.s3.PutBucketVersioning(cfgCtx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))(t)
	var ids []string
	for i, body := range []string{"1", "2", "3", "4"} {
		c.clock.Set(cfgAt(1+i, 12, 0))
		ids = append(ids, aws.ToString(c.put(t, b, "k", body).VersionId))
	}
	c.lifecycle(t, b, s3types.LifecycleRule{ID: aws.String("keep-one"), Status: "Enabled", Filter: cfgAll,
		NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1), NewerNoncurrentVersions: aws.Int32(1)}})
	c.apply(t, cfgAt(20, 0, 0))
	// The current version and the newest noncurrent one stay.
	if got, want := c.versions(t, b), cfgSorted([]string{"k:" + ids[3], "k:" + ids[2]}); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("versions %v, want %v", got, want)
	}

	// A delete marker whose versions are all gone is removed by a rule
	// that says so, at the next pass.
	c.clock.Set(cfgAt(21, 9, 0))
	c.put(t, b, "gone", "x")
	cfgMust(c.s3.DeleteObject(cfgCtx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("gone")}))(t)
	for _, v := range c.versions(t, b) {
		if key, id, _ := strings.Cut(v, ":"); key == "gone" && id != "marker" {
			cfgMust(c.s3.DeleteObject(cfgCtx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("gone"), VersionId: aws.String(id)}))(t)
		}
	}
	c.lifecycle(t, b, s3types.LifecycleRule{ID: aws.String("markers"), Status: "Enabled", Filter: cfgAll,
		Expiration: &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}})
	c.apply(t, cfgAt(21, 10, 0))
	for _, v := range c.versions(t, b) {
		if strings.HasPrefix(v, "gone:") {
			t.Errorf("an expired object delete marker stayed: %v", v)
		}
	}
	// A marker with versions behind it is no expired one.
	if got := c.versions(t, b); len(got) != 2 {
		t.Errorf("versions %v", got)
	}
}

func TestLifecycleFilters(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "filters")
	c.clock.Set(cfgAt(1, 0, 0))
	put := func(key, body, tagging string) {
		cfgMust(c.s3.PutObject(cfgCtx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader(body), Tagging: aws.String(tagging)}))(t)
	}
	put("logs/big-tagged", "0123456789", "class=scratch&owner=me")
	put("logs/small-tagged", "01", "class=scratch")
	put("logs/big-untagged", "0123456789", "")
	put("other/big-tagged", "0123456789", "class=scratch")
	c.lifecycle(t, b,
		s3types.LifecycleRule{ID: aws.String("scratch"), Status: "Enabled", Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)},
			Filter: &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{Prefix: aws.String("logs/"), ObjectSizeGreaterThan: aws.Int64(5),
				Tags: []s3types.Tag{{Key: aws.String("class"), Value: aws.String("scratch")}}}}},
		s3types.LifecycleRule{ID: aws.String("small"), Status: "Enabled", Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)},
			Filter: &s3types.LifecycleRuleFilter{ObjectSizeLessThan: aws.Int64(2)}})
	c.apply(t, cfgAt(3, 0, 0))
	if got := c.keys(t, b); got != "logs/big-untagged logs/small-tagged other/big-tagged" {
		t.Errorf("left %s", got)
	}
}

func TestLifecycleAbortsUploads(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "uploads")
	c.clock.Set(cfgAt(1, 10, 0))
	up := func(key string) string {
		out := cfgMust(c.s3.CreateMultipartUpload(cfgCtx, &s3sdk.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String(key)}))(t)
		cfgMust(c.s3.UploadPart(cfgCtx, &s3sdk.UploadPartInput{Bucket: aws.String(b), Key: aws.String(key), UploadId: out.UploadId,
			PartNumber: aws.Int32(1), Body: strings.NewReader("part one")}))(t)
		return aws.ToString(out.UploadId)
	}
	up("big/file")
	kept := up("other/file")
	c.lifecycle(t, b, s3types.LifecycleRule{ID: aws.String("abort"), Status: "Enabled", Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("big/")},
		AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}})
	uploads := func() []string {
		out := cfgMust(c.s3.ListMultipartUploads(cfgCtx, &s3sdk.ListMultipartUploadsInput{Bucket: aws.String(b)}))(t)
		var ids []string
		for _, u := range out.Uploads {
			ids = append(ids, aws.ToString(u.UploadId))
		}
		return ids
	}
	c.apply(t, cfgAt(2, 23, 59))
	if got := uploads(); len(got) != 2 {
		t.Fatalf("uploads before their day %v", got)
	}
	c.apply(t, cfgAt(3, 0, 0))
	if got := uploads(); len(got) != 1 || got[0] != kept {
		t.Errorf("uploads after their day %v", got)
	}
}

func TestLifecyclePagesThroughLargeBuckets(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "many")
	// Records without bytes, written straight to the store: many, fast.
	err := c.st.Update(func(tx *store.Tx) error {
		bucket, err := findBucket(tx, b)
		if err != nil {
			return err
		}
		for i := range lifecyclePage*2 + 3 {
			if _, err := putVersion(tx, bucket, fmt.Sprintf("k%04d", i), &version{Modified: cfgAt(1, 0, 0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.lifecycle(t, b, s3types.LifecycleRule{ID: aws.String("all"), Status: "Enabled", Filter: cfgAll, Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}})
	c.apply(t, cfgAt(3, 0, 0))
	if got := c.keys(t, b); got != "" {
		t.Errorf("left %d keys", len(strings.Fields(got)))
	}
}

// cfgPublisher records what is published.
type cfgPublisher struct{ got map[string][]metric.Datum }

func (p *cfgPublisher) Publish(account, region, namespace string, data []metric.Datum) error {
	p.got[account+"/"+region+"/"+namespace] = append(p.got[account+"/"+region+"/"+namespace], data...)
	return nil
}

func TestStorageMetrics(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "measured")
	c.put(t, b, "a", "12345")
	cfgMust(c.s3.PutObject(cfgCtx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("b"), Body: strings.NewReader("123"),
		StorageClass: s3types.StorageClassStandardIa}))(t)
	up := cfgMust(c.s3.CreateMultipartUpload(cfgCtx, &s3sdk.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("c")}))(t)
	cfgMust(c.s3.UploadPart(cfgCtx, &s3sdk.UploadPartInput{Bucket: aws.String(b), Key: aws.String("c"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("1234567")}))(t)
	c.bucket(t, "empty")
	eu := c.client("test", "test", "eu-west-1")
	cfgMust(eu.CreateBucket(cfgCtx, &s3sdk.CreateBucketInput{Bucket: aws.String("measured-eu"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraintEuWest1}}))(t)
	cfgMust(eu.PutObject(cfgCtx, &s3sdk.PutObjectInput{Bucket: aws.String("measured-eu"), Key: aws.String("x"), Body: strings.NewReader("1")}))(t)

	pub := &cfgPublisher{got: map[string][]metric.Datum{}}
	r := &registered{Service: c.svc, metrics: pub}
	r.housekeep(cfgAt(1, 10, 30))
	us := pub.got["000000000000/us-east-1/AWS/S3"]
	values := map[string]float64{}
	for _, d := range us {
		if !d.Time.Equal(cfgAt(1, 0, 0)) {
			t.Errorf("%s at %v, want the day's midnight", d.Name, d.Time)
		}
		values[d.Dimensions["BucketName"]+" "+d.Name+" "+d.Dimensions["StorageType"]] = d.Value
	}
	want := map[string]float64{
		"measured BucketSizeBytes StandardStorage":   5 + 7,
		"measured BucketSizeBytes StandardIAStorage": 3,
		"measured NumberOfObjects AllStorageTypes":   3,
	}
	if len(values) != len(want) {
		t.Errorf("us-east-1 metrics %v, want %v", values, want)
	}
	for k, v := range want {
		if values[k] != v {
			t.Errorf("%s = %v, want %v", k, values[k], v)
		}
	}
	if eu := pub.got["000000000000/eu-west-1/AWS/S3"]; len(eu) != 2 {
		t.Errorf("eu-west-1 metrics %+v", eu)
	}
	// Once a day, a restart (another registration over the store) too.
	n := len(us)
	r = &registered{Service: c.svc, metrics: pub}
	r.housekeep(cfgAt(1, 23, 0))
	if len(pub.got["000000000000/us-east-1/AWS/S3"]) != n {
		t.Error("published twice in a day")
	}
	r.housekeep(cfgAt(2, 0, 30))
	if len(pub.got["000000000000/us-east-1/AWS/S3"]) != 2*n {
		t.Error("not published the next day")
	}
}
