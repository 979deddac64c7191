package s3

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// defaultMaxKeys is the most entries one listing page holds.
const defaultMaxKeys = 1000

// listing is one page of a listing in progress.
type listing struct {
	prefix, delimiter string
	// after: entries up to and including it are not listed (but it is,
	// when inclusive).
	after     string
	inclusive bool
	max       int
}

// walk calls fn for each key of b after l.after with l.prefix, in byte
// order, or once for each common prefix that groups keys under
// l.delimiter, until fn returns false.
func walk(tx *store.Tx, b *bucketRecord, l listing, fn func(key string, o *objectRecord, prefix string) (bool, error)) error {
	from := l.prefix
	if l.after >= from {
		from = l.after
		if !l.inclusive {
			from += "\x00"
		}
	}
	for {
		next := ""
		err := tx.ListFrom(b.Owner, "", kindObjects+b.Name, from, func(id string, raw []byte) error {
			if !strings.HasPrefix(id, l.prefix) {
				return errStop // past the prefix: keys are in order
			}
			if l.delimiter != "" {
				if i := strings.Index(id[len(l.prefix):], l.delimiter); i >= 0 {
					cp := id[:len(l.prefix)+i+len(l.delimiter)]
					next = successor(cp)
					if cp <= l.after {
						return errStop // listed on an earlier page
					}
					more, err := fn("", nil, cp)
					if err != nil {
						return err
					}
					if !more {
						next = ""
					}
					return errStop
				}
			}
			var o objectRecord
			if err := json.Unmarshal(raw, &o); err != nil {
				return err
			}
			more, err := fn(id, &o, "")
			if err != nil {
				return err
			}
			if !more {
				return errStop
			}
			return nil
		})
		if err != nil || next == "" {
			return err
		}
		from = next
	}
}

// successor is the least string greater than every string with prefix p.
func successor(p string) string {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1])
		}
	}
	return p + "\xff" // all 0xff: unreachable with UTF-8 keys
}

// maxKeys reads a max-keys parameter.
func maxKeys(n *int64) (int, error) {
	if n == nil {
		return defaultMaxKeys, nil
	}
	if *n < 0 {
		return 0, invalidArgument("max-keys", fmt.Sprint(*n), "Argument maxKeys must be an integer between 0 and 2147483647")
	}
	return int(min(*n, defaultMaxKeys)), nil
}

// encoder returns how names are shown: as they are, or URL-encoded as
// encoding-type=url asks (S3 encodes as a form does, keeping '/').
func encoder(t *string) (func(string) string, error) {
	switch deref(t) {
	case "":
		return func(s string) string { return s }, nil
	case "url":
		return func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/") }, nil
	}
	return nil, invalidArgument("encoding-type", deref(t), "Invalid Encoding Method specified in Request")
}

// encodedp is enc(*s), nil for nil.
func encodedp(enc func(string) string, s *string) *string {
	if s == nil {
		return nil
	}
	return str(enc(*s))
}

func storageClass(v *version) *string {
	if v.StorageClass == "" {
		return str("STANDARD")
	}
	return str(v.StorageClass)
}

// keyVersion is a key and its current version.
type keyVersion struct {
	key string
	v   *version
}

// listPage is one page of current objects and common prefixes.
type listPage struct {
	objects   []keyVersion
	prefixes  []string
	truncated bool
	last      string // the last key or prefix listed
}

// currentPage lists up to l.max current objects (delete markers hidden)
// and common prefixes of bucket, as ListObjects and ListObjectsV2 do.
func (s *Service) currentPage(ctx context.Context, bucket string, l listing) (listPage, error) {
	var p listPage
	err := s.store.View(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, bucket)
		if err != nil {
			return err
		}
		count := 0
		return walk(tx, b, l, func(key string, o *objectRecord, cp string) (bool, error) {
			if cp == "" {
				if v := o.current(); v == nil || v.DeleteMarker {
					return true, nil
				}
			}
			if count == l.max {
				// max-keys=0 asks for nothing: a whole answer, not a truncated one.
				p.truncated = l.max > 0
				return false, nil
			}
			count++
			if cp != "" {
				p.prefixes = append(p.prefixes, cp)
				p.last = cp
				return true, nil
			}
			p.objects = append(p.objects, keyVersion{key, o.current()})
			p.last = key
			return true, nil
		})
	})
	return p, err
}

func (s *Service) listObjects(ctx context.Context, in *s3api.ListObjectsRequest) (*s3api.ListObjectsOutput, error) {
	n, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := encoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	l := listing{prefix: deref(in.Prefix), delimiter: deref(in.Delimiter), after: deref(in.Marker), max: n}
	out := &s3api.ListObjectsOutput{Name: in.Bucket, Prefix: str(enc(l.prefix)), Marker: str(enc(l.after)), MaxKeys: i64(int64(n)),
		Delimiter: encodedp(enc, in.Delimiter), EncodingType: in.EncodingType, IsTruncated: boolp(false)}
	page, err := s.currentPage(ctx, deref(in.Bucket), l)
	if err != nil {
		return nil, err
	}
	for _, cp := range page.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, &s3api.CommonPrefix{Prefix: str(enc(cp))})
	}
	for _, o := range page.objects {
		out.Contents = append(out.Contents, &s3api.Object{Key: str(enc(o.key)), LastModified: timep(o.v.Modified), ETag: str(o.v.ETag),
			Size: i64(o.v.Size), StorageClass: storageClass(o.v), Owner: owner(o.v.Owner)})
	}
	out.IsTruncated = boolp(page.truncated)
	last := page.last
	if *out.IsTruncated && l.delimiter != "" {
		out.NextMarker = str(enc(last))
	}
	return out, nil
}

func (s *Service) listObjectsV2(ctx context.Context, in *s3api.ListObjectsV2Request) (*s3api.ListObjectsV2Output, error) {
	n, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := encoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	l := listing{prefix: deref(in.Prefix), delimiter: deref(in.Delimiter), after: deref(in.StartAfter), max: n}
	if in.ContinuationToken != nil {
		raw, err := base64.RawURLEncoding.DecodeString(*in.ContinuationToken)
		if err != nil || *in.ContinuationToken == "" {
			return nil, invalidArgument("continuation-token", *in.ContinuationToken, "The continuation token provided is incorrect")
		}
		l.after = max(l.after, string(raw))
	}
	out := &s3api.ListObjectsV2Output{Name: in.Bucket, Prefix: str(enc(l.prefix)), MaxKeys: i64(int64(n)), Delimiter: encodedp(enc, in.Delimiter),
		EncodingType: in.EncodingType, ContinuationToken: in.ContinuationToken, StartAfter: encodedp(enc, in.StartAfter), IsTruncated: boolp(false)}
	fetchOwner := in.FetchOwner != nil && *in.FetchOwner
	page, err := s.currentPage(ctx, deref(in.Bucket), l)
	if err != nil {
		return nil, err
	}
	for _, cp := range page.prefixes {
		out.CommonPrefixes = append(out.CommonPrefixes, &s3api.CommonPrefix{Prefix: str(enc(cp))})
	}
	for _, o := range page.objects {
		obj := &s3api.Object{Key: str(enc(o.key)), LastModified: timep(o.v.Modified), ETag: str(o.v.ETag), Size: i64(o.v.Size), StorageClass: storageClass(o.v)}
		if fetchOwner {
			obj.Owner = owner(o.v.Owner)
		}
		out.Contents = append(out.Contents, obj)
	}
	out.IsTruncated = boolp(page.truncated)
	last, count := page.last, len(page.prefixes)+len(page.objects)
	out.KeyCount = i64(int64(count))
	if *out.IsTruncated {
		out.NextContinuationToken = str(base64.RawURLEncoding.EncodeToString([]byte(last)))
	}
	return out, nil
}

func (s *Service) listObjectVersions(ctx context.Context, in *s3api.ListObjectVersionsRequest) (*s3api.ListObjectVersionsOutput, error) {
	n, err := maxKeys(in.MaxKeys)
	if err != nil {
		return nil, err
	}
	enc, err := encoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	keyMarker, idMarker := deref(in.KeyMarker), deref(in.VersionIdMarker)
	if idMarker != "" && keyMarker == "" {
		return nil, invalidArgument("version-id-marker", idMarker, "A version-id marker cannot be specified without a key marker.")
	}
	l := listing{prefix: deref(in.Prefix), delimiter: deref(in.Delimiter), after: keyMarker, max: n}
	// With a version id marker, the marker's key is listed again, from
	// after that version.
	l.inclusive = idMarker != ""
	out := &s3api.ListObjectVersionsOutput{Name: in.Bucket, Prefix: str(enc(l.prefix)), KeyMarker: str(enc(keyMarker)),
		VersionIdMarker: str(idMarker), MaxKeys: i64(int64(n)), Delimiter: encodedp(enc, in.Delimiter), EncodingType: in.EncodingType,
		IsTruncated: boolp(false)}
	count := 0
	var lastKey, lastID string
	err = s.store.View(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, deref(in.Bucket))
		if err != nil {
			return err
		}
		return walk(tx, b, l, func(key string, o *objectRecord, cp string) (bool, error) {
			if cp != "" {
				if count == n {
					out.IsTruncated = boolp(n > 0)
					return false, nil
				}
				count++
				out.CommonPrefixes = append(out.CommonPrefixes, &s3api.CommonPrefix{Prefix: str(enc(cp))})
				lastKey, lastID = cp, ""
				return true, nil
			}
			versions := o.Versions
			if key == keyMarker && idMarker != "" {
				i := 0
				for i < len(versions) && versions[i].ID != idMarker {
					i++
				}
				if i == len(versions) {
					return true, nil
				}
				versions = versions[i+1:]
			}
			for _, v := range versions {
				if count == n {
					out.IsTruncated = boolp(n > 0)
					return false, nil
				}
				count++
				latest := boolp(v == o.Versions[0])
				if v.DeleteMarker {
					out.DeleteMarkers = append(out.DeleteMarkers, &s3api.DeleteMarkerEntry{Key: str(enc(key)), VersionId: str(v.ID),
						IsLatest: latest, LastModified: timep(v.Modified), Owner: owner(v.Owner)})
				} else {
					out.Versions = append(out.Versions, &s3api.ObjectVersion{Key: str(enc(key)), VersionId: str(v.ID), IsLatest: latest,
						LastModified: timep(v.Modified), ETag: str(v.ETag), Size: i64(v.Size), StorageClass: storageClass(v), Owner: owner(v.Owner)})
				}
				lastKey, lastID = key, v.ID
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	if *out.IsTruncated {
		out.NextKeyMarker = str(enc(lastKey))
		if lastID != "" {
			out.NextVersionIdMarker = str(lastID)
		}
	}
	return out, nil
}
