package s3

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/store"
)

// objectRecord is a key's versions, newest first; a bucket that never had
// versioning has one, "null".
type objectRecord struct {
	Key      string
	Versions []*version
}

// version is one version of an object, or a delete marker.
type version struct {
	ID           string // "null" for the version written without versioning
	DeleteMarker bool   `json:",omitempty"`
	Modified     time.Time
	Size         int64  `json:",omitempty"`
	ETag         string `json:",omitempty"` // quoted, as S3 shows it
	// Blobs hold the bytes, in order: one for an object put in one piece,
	// one per part for a multipart upload.
	Blobs []blobRef `json:",omitempty"`

	ContentType        string            `json:",omitempty"`
	ContentEncoding    string            `json:",omitempty"`
	ContentDisposition string            `json:",omitempty"`
	ContentLanguage    string            `json:",omitempty"`
	CacheControl       string            `json:",omitempty"`
	Expires            *time.Time        `json:",omitempty"`
	Metadata           map[string]string `json:",omitempty"`
	StorageClass       string            `json:",omitempty"`
	WebsiteRedirect    string            `json:",omitempty"`
	Tags               []tag             `json:",omitempty"`
	// Checksums are the additional checksums by algorithm (base64; a
	// multipart object's end in -<parts>).
	Checksums map[string]string `json:",omitempty"`
	// ACL is the canned ACL the object was written with.
	ACL string `json:",omitempty"`
	// Owner is the account that wrote it.
	Owner string `json:",omitempty"`
}

// blobRef is one blob of an object's bytes.
type blobRef struct {
	ID   string
	Size int64
}

type tag struct{ Key, Value string }

// current is the newest version, nil for a key with none.
func (o *objectRecord) current() *version {
	if o == nil || len(o.Versions) == 0 {
		return nil
	}
	return o.Versions[0]
}

// find returns the version with id.
func (o *objectRecord) find(id string) *version {
	for _, v := range o.Versions {
		if v.ID == id {
			return v
		}
	}
	return nil
}

func objectKey(b *bucketRecord, key string) store.Key {
	return store.Key{Account: b.Owner, Kind: kindObjects + b.Name, ID: key}
}

func getObjectRecord(tx *store.Tx, b *bucketRecord, key string) (*objectRecord, error) {
	o, _, err := store.Get[objectRecord](tx, objectKey(b, key))
	return o, err
}

// putVersion records v as key's newest version, as the bucket's
// versioning state has it: with versioning enabled it is added; otherwise
// it replaces the "null" version. It returns the blobs no version names
// any more, for the caller to remove once the transaction commits.
func putVersion(tx *store.Tx, b *bucketRecord, key string, v *version) ([]blobRef, error) {
	o, err := getObjectRecord(tx, b, key)
	if err != nil {
		return nil, err
	}
	if o == nil {
		o = &objectRecord{Key: key}
	}
	var dropped []blobRef
	if b.Versioning == "Enabled" {
		v.ID = newVersionID()
	} else {
		v.ID = "null"
		o.Versions = slices.DeleteFunc(o.Versions, func(old *version) bool {
			if old.ID == "null" {
				dropped = append(dropped, old.Blobs...)
				return true
			}
			return false
		})
	}
	o.Versions = append([]*version{v}, o.Versions...)
	return dropped, tx.Put(objectKey(b, key), o)
}

// removeVersion deletes version id of key for good; it returns the
// version removed (nil if there was none) and its blobs.
func removeVersion(tx *store.Tx, b *bucketRecord, key, id string) (*version, error) {
	o, err := getObjectRecord(tx, b, key)
	if err != nil || o == nil {
		return nil, err
	}
	i := slices.IndexFunc(o.Versions, func(v *version) bool { return v.ID == id })
	if i < 0 {
		return nil, nil
	}
	v := o.Versions[i]
	o.Versions = slices.Delete(o.Versions, i, i+1)
	if len(o.Versions) == 0 {
		_, err = tx.Delete(objectKey(b, key))
	} else {
		err = tx.Put(objectKey(b, key), o)
	}
	return v, err
}

// removeBlobsOnCommit removes blobs once tx has committed: until then a
// reader may still be given them.
func (s *Service) removeBlobsOnCommit(tx *store.Tx, bucket string, blobs []blobRef) {
	if len(blobs) == 0 {
		return
	}
	tx.OnCommit(func() {
		for _, bl := range blobs {
			if err := s.blobs.Remove(bucket, bl.ID); err != nil {
				s.log.Warn("s3: removing a blob", "bucket", bucket, "blob", bl.ID, "error", err)
			}
		}
	})
}

// newVersionID returns a version id in S3's form: 32 URL-safe characters.
func newVersionID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._"
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// checkKey applies S3's rules for key names.
func checkKey(key string) error {
	if len(key) > 1024 {
		return errorf(http.StatusBadRequest, "KeyTooLongError", "Your key is too long").With("Size", fmt.Sprint(len(key))).With("MaxSizeAllowed", "1024")
	}
	if !utf8.ValidString(key) {
		return invalidArgument("key", key, "Object key is not valid UTF-8")
	}
	return nil
}

// storageClasses are the classes an object may be written with.
var storageClasses = []string{"STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
	"GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE"}

func checkStorageClass(sc *string) error {
	if sc == nil || slices.Contains(storageClasses, *sc) {
		return nil
	}
	return invalidArgument("x-amz-storage-class", *sc, "The storage class you specified is not valid")
}

// etag is S3's ETag for bytes whose MD5 is sum.
func etag(sum []byte) string { return `"` + hex.EncodeToString(sum) + `"` }

// etagMatches compares a conditional header's list of ETags (or "*")
// with an object's.
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		t = strings.TrimPrefix(t, "W/")
		if t == "*" || strings.Trim(t, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// preconditions applies the conditional headers of a GET or HEAD as S3
// does (RFC 7232's order): a failed If-Match or If-Unmodified-Since is
// 412; a matching If-None-Match, or an unchanged object under
// If-Modified-Since, is 304.
func preconditions(v *version, ifMatch, ifNoneMatch *string, ifModified, ifUnmodified *time.Time) error {
	mod := v.Modified.Truncate(time.Second)
	switch {
	case ifMatch != nil:
		if !etagMatches(*ifMatch, v.ETag) {
			return preconditionFailed("If-Match")
		}
	case ifUnmodified != nil && mod.After(*ifUnmodified):
		return preconditionFailed("If-Unmodified-Since")
	}
	switch {
	case ifNoneMatch != nil:
		if etagMatches(*ifNoneMatch, v.ETag) {
			return notModified(v)
		}
	case ifModified != nil && !mod.After(*ifModified):
		return notModified(v)
	}
	return nil
}

func preconditionFailed(cond string) *api.Error {
	return errorf(http.StatusPreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold").With("Condition", cond)
}

func notModified(v *version) *api.Error {
	e := errorf(http.StatusNotModified, "NotModified", "Not Modified")
	e.Header = map[string]string{"ETag": v.ETag, "Last-Modified": v.Modified.UTC().Format(http.TimeFormat)}
	return e
}

// byteRange is the part of an object a Range header asks for.
type byteRange struct {
	start, end int64 // inclusive
}

// parseRange reads a Range header against an object of size bytes. ok is
// false when the header is to be ignored (not a single bytes range: S3
// then sends the whole object); an error when no byte of it exists.
func parseRange(header string, size int64) (r byteRange, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return r, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return r, false, nil
	}
	// num reads a position; one past any object's size saturates (it
	// is past every object's end all the same) rather than overflows.
	num := func(s string) (int64, bool) {
		if s == "" || strings.Trim(s, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			n = math.MaxInt64
		}
		return n, true
	}
	unsatisfiable := errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable").
		With("RangeRequested", header).With("ActualObjectSize", fmt.Sprint(size))
	if first == "" { // the last n bytes
		n, ok := num(last)
		if !ok {
			return r, false, nil
		}
		if n == 0 || size == 0 {
			return r, false, unsatisfiable
		}
		return byteRange{max(size-n, 0), size - 1}, true, nil
	}
	start, ok := num(first)
	if !ok {
		return r, false, nil
	}
	end := size - 1
	if last != "" {
		e, ok := num(last)
		if !ok || e < start {
			return r, false, nil
		}
		end = min(e, size-1)
	}
	if start >= size {
		return r, false, unsatisfiable
	}
	return byteRange{start, end}, true, nil
}

// objectReader reads a version's blobs in order, from an offset, for a
// length; Close closes the file it has open.
type objectReader struct {
	s      *Service
	bucket string
	blobs  []blobRef
	skip   int64 // bytes of blobs[0] to skip
	left   int64 // bytes still to read
	cur    io.ReadCloser
}

func (r *objectReader) Read(p []byte) (int, error) {
	for {
		if r.left <= 0 {
			return 0, io.EOF
		}
		if r.cur == nil {
			if err := r.next(); err != nil {
				return 0, err
			}
		}
		if int64(len(p)) > r.left {
			p = p[:r.left]
		}
		n, err := r.cur.Read(p)
		r.left -= int64(n)
		if err == io.EOF {
			r.cur.Close()
			r.cur = nil
			err = nil
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
	}
}

// next opens the next blob.
func (r *objectReader) next() error {
	if len(r.blobs) == 0 {
		return io.ErrUnexpectedEOF
	}
	f, err := r.s.blobs.Open(r.bucket, r.blobs[0].ID)
	if err != nil {
		return err
	}
	if r.skip > 0 {
		if _, err := f.Seek(r.skip, io.SeekStart); err != nil {
			f.Close()
			return err
		}
		r.skip = 0
	}
	r.cur, r.blobs = f, r.blobs[1:]
	return nil
}

func (r *objectReader) Close() error {
	if r.cur != nil {
		return r.cur.Close()
	}
	return nil
}

// open returns a reader of length bytes of v from offset. The first
// blob is opened at once, so that a version removed since it was read
// from the store fails here (the caller then reads the record again)
// rather than halfway through the answer.
func (s *Service) open(bucket string, v *version, offset, length int64) (*objectReader, error) {
	r := &objectReader{s: s, bucket: bucket, left: length}
	blobs := v.Blobs
	for len(blobs) > 0 && offset >= blobs[0].Size {
		offset -= blobs[0].Size
		blobs = blobs[1:]
	}
	r.blobs, r.skip = blobs, offset
	if length > 0 {
		if err := r.next(); err != nil {
			return nil, err
		}
	}
	return r, nil
}
