package s3

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// bucketRecord is a bucket, kindBucket in its owner's account.
type bucketRecord struct {
	Name    string
	Region  string
	Owner   string // account
	Created time.Time
	// Versioning is "" (never enabled), "Enabled" or "Suspended".
	Versioning string
	MFADelete  string `json:",omitempty"`
	ObjectLock bool   `json:",omitempty"`
	Tags       []tag  `json:",omitempty"`
	// Config holds the bucket's subresources (config.go).
	Config bucketConfig
}

// errStop ends a listing early.
var errStop = store.ErrStop

// findBucket returns the bucket named name, of whatever account: names
// are global.
func findBucket(tx *store.Tx, name string) (*bucketRecord, error) {
	accounts, err := tx.Scopes(kindBucket)
	if err != nil {
		return nil, err
	}
	for _, ar := range accounts {
		b, ok, err := store.Get[bucketRecord](tx, store.Key{Account: ar[0], Kind: kindBucket, ID: name})
		if err != nil {
			return nil, err
		}
		if ok {
			return b, nil
		}
	}
	return nil, nil
}

// bucketFor returns the bucket a request names, checking that it exists,
// that the caller may use it, and that the request was signed for its
// region.
func (s *Service) bucketFor(ctx context.Context, tx *store.Tx, name string) (*bucketRecord, error) {
	b, err := findBucket(tx, name)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, noSuchBucket(name)
	}
	req := api.RequestFrom(ctx)
	if b.Owner != req.Caller.Account {
		return nil, accessDenied()
	}
	if !req.Anonymous && req.Region != "" && req.Region != b.Region {
		return nil, wrongRegion(req.Region, b.Region)
	}
	return b, nil
}

func accessDenied() *api.Error {
	return errorf(http.StatusForbidden, "AccessDenied", "Access Denied")
}

// wrongRegion is S3's answer to a request signed for another region than
// the bucket's: the SDKs read the region from it and sign again.
func wrongRegion(signed, region string) *api.Error {
	e := errorf(http.StatusBadRequest, "AuthorizationHeaderMalformed",
		"The authorization header is malformed; the region '%s' is wrong; expecting '%s'", signed, region).With("Region", region)
	e.Header = map[string]string{"x-amz-bucket-region": region}
	return e
}

func (s *Service) putBucket(tx *store.Tx, b *bucketRecord) error {
	return tx.Put(store.Key{Account: b.Owner, Kind: kindBucket, ID: b.Name}, b)
}

// validBucketName applies S3's naming rules for general purpose buckets.
func validBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' || strings.Contains(name, "..") ||
		strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return false
	}
	if ip, err := netip.ParseAddr(name); err == nil && ip.Is4() {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, sfx := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, sfx) {
			return false
		}
	}
	return true
}

// locationConstraints are the regions a bucket may be created in, as
// CreateBucket names them.
var locationConstraints = []string{
	"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	"ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2", "eu-north-1",
	"eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
	"mx-central-1", "sa-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2",
}

func (s *Service) createBucket(ctx context.Context, in *s3api.CreateBucketRequest) (*s3api.CreateBucketOutput, error) {
	req := api.RequestFrom(ctx)
	name := deref(in.Bucket)
	if !validBucketName(name) {
		return nil, errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.").With("BucketName", name)
	}
	signed := req.Region
	if signed == "" { // not signed for a region (S3's legacy signature): us-east-1's endpoint
		signed = "us-east-1"
	}
	region, err := bucketRegion(signed, in.CreateBucketConfiguration)
	if err != nil {
		return nil, err
	}
	if in.ObjectOwnership != nil && !slices.Contains([]string{"BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"}, *in.ObjectOwnership) {
		return nil, invalidArgument("x-amz-object-ownership", *in.ObjectOwnership, "Invalid x-amz-object-ownership header: %s", *in.ObjectOwnership)
	}
	if in.ACL != nil && !slices.Contains([]string{"private", "public-read", "public-read-write", "authenticated-read"}, *in.ACL) {
		return nil, invalidArgument("x-amz-acl", *in.ACL, "")
	}
	out := &s3api.CreateBucketOutput{Location: str("/" + name)}
	if region != "us-east-1" {
		out.Location = str("http://" + name + ".s3.amazonaws.com/")
	}
	err = s.store.Update(func(tx *store.Tx) error {
		have, err := findBucket(tx, name)
		if err != nil {
			return err
		}
		if have != nil {
			if have.Owner != req.Caller.Account {
				return errorf(http.StatusConflict, "BucketAlreadyExists",
					"The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.").With("BucketName", name)
			}
			if have.Region == "us-east-1" && region == "us-east-1" {
				// S3's legacy answer in us-east-1: success, nothing made.
				return nil
			}
			return errorf(http.StatusConflict, "BucketAlreadyOwnedByYou",
				"Your previous request to create the named bucket succeeded and you already own it.").With("BucketName", name)
		}
		b := &bucketRecord{Name: name, Region: region, Owner: req.Caller.Account, Created: s.now().UTC().Truncate(time.Millisecond)}
		b.ObjectLock = in.ObjectLockEnabledForBucket != nil && *in.ObjectLockEnabledForBucket
		if b.ObjectLock {
			b.Versioning = "Enabled" // object lock requires versioning
		}
		b.Config = newBucketConfig(in)
		return s.putBucket(tx, b)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// bucketRegion is the region a bucket is created in: the request's
// region, which its LocationConstraint must name, except at us-east-1's
// endpoint, which creates buckets in any region.
func bucketRegion(signed string, cfg *s3api.CreateBucketConfiguration) (string, error) {
	constraint := ""
	if cfg != nil {
		constraint = deref(cfg.LocationConstraint)
	}
	if constraint == "EU" {
		constraint = "eu-west-1"
	}
	invalid := errorf(http.StatusBadRequest, "InvalidLocationConstraint", "The specified location-constraint is not valid").With("LocationConstraint", constraint)
	switch {
	case constraint == "" && signed == "us-east-1":
		return "us-east-1", nil
	case constraint == "":
		return "", errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.")
	case constraint == "us-east-1", !slices.Contains(locationConstraints, constraint):
		return "", invalid
	case signed != "us-east-1" && constraint != signed:
		return "", errorf(http.StatusBadRequest, "IllegalLocationConstraintException",
			"The %s location constraint is incompatible for the region specific endpoint this request was sent to.", constraint)
	}
	return constraint, nil
}

func (s *Service) deleteBucket(ctx context.Context, in *s3api.DeleteBucketRequest) (*s3api.DeleteBucketOutput, error) {
	name := deref(in.Bucket)
	err := s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, name)
		if err != nil {
			return err
		}
		empty := true
		if err := tx.List(b.Owner, "", kindObjects+name, func(string, []byte) error {
			empty = false
			return errStop
		}); err != nil {
			return err
		}
		if !empty {
			return errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty").With("BucketName", name)
		}
		// Uploads in progress go with the bucket, as S3 aborts them.
		var uploads []string
		if err := tx.List(b.Owner, "", kindUploads+name, func(id string, _ []byte) error {
			uploads = append(uploads, id)
			return nil
		}); err != nil {
			return err
		}
		for _, id := range uploads {
			if _, err := tx.Delete(store.Key{Account: b.Owner, Kind: kindUploads + name, ID: id}); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(store.Key{Account: b.Owner, Kind: kindBucket, ID: name}); err != nil {
			return err
		}
		tx.OnCommit(func() {
			if err := s.blobs.RemoveBucket(name); err != nil {
				s.log.Warn("s3: removing a deleted bucket's files", "bucket", name, "error", err)
			}
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketOutput{}, nil
}

func (s *Service) headBucket(ctx context.Context, in *s3api.HeadBucketRequest) (*s3api.HeadBucketOutput, error) {
	var b *bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		b, err = s.bucketFor(ctx, tx, deref(in.Bucket))
		return err
	})
	var e *api.Error
	if errors.As(err, &e) && e.Code == "AuthorizationHeaderMalformed" {
		// HEAD has no body to name the region in: S3 redirects, with
		// the region in a header.
		return nil, &api.Error{Code: "PermanentRedirect", Status: http.StatusMovedPermanently, Header: e.Header,
			Message: "The bucket you are attempting to access must be addressed using the specified endpoint."}
	}
	if err != nil {
		return nil, err
	}
	return &s3api.HeadBucketOutput{BucketRegion: str(b.Region), BucketLocationType: nil}, nil
}

func (s *Service) listBuckets(ctx context.Context, _ *s3api.ListBucketsInput) (*s3api.ListBucketsOutput, error) {
	acct := caller(ctx)
	out := &s3api.ListBucketsOutput{Buckets: []*s3api.Bucket{}, Owner: owner(acct)}
	err := s.store.View(func(tx *store.Tx) error {
		bs, err := store.ListAll[bucketRecord](tx, acct, "", kindBucket)
		for _, b := range bs {
			out.Buckets = append(out.Buckets, &s3api.Bucket{Name: str(b.Name), CreationDate: timep(b.Created)})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) getBucketLocation(ctx context.Context, in *s3api.GetBucketLocationRequest) (*s3api.GetBucketLocationOutput, error) {
	var b *bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		b, err = findBucket(tx, deref(in.Bucket))
		if err == nil && b == nil {
			err = noSuchBucket(deref(in.Bucket))
		}
		if err == nil && b.Owner != caller(ctx) {
			err = accessDenied()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.GetBucketLocationOutput{}
	// Any region's endpoint answers; us-east-1 is shown as no constraint.
	if b.Region != "us-east-1" {
		out.LocationConstraint = str(b.Region)
	}
	return out, nil
}

func (s *Service) getBucketVersioning(ctx context.Context, in *s3api.GetBucketVersioningRequest) (*s3api.GetBucketVersioningOutput, error) {
	var b *bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		b, err = s.bucketFor(ctx, tx, deref(in.Bucket))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.GetBucketVersioningOutput{}
	if b.Versioning != "" {
		out.Status = str(b.Versioning)
	}
	if b.MFADelete != "" {
		out.MFADelete = str(b.MFADelete)
	}
	return out, nil
}

func (s *Service) putBucketVersioning(ctx context.Context, in *s3api.PutBucketVersioningRequest) (*s3api.PutBucketVersioningOutput, error) {
	cfg := in.VersioningConfiguration
	if cfg == nil {
		return nil, malformedXML()
	}
	status := deref(cfg.Status)
	if status != "Enabled" && status != "Suspended" {
		return nil, malformedXML()
	}
	if m := deref(cfg.MFADelete); m != "" && m != "Disabled" {
		return nil, invalidRequest("DevPay and Mfa are mutually exclusive authorization methods.")
	}
	err := s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, deref(in.Bucket))
		if err != nil {
			return err
		}
		if b.ObjectLock && status == "Suspended" {
			return errorf(http.StatusConflict, "InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
		}
		b.Versioning = status
		if cfg.MFADelete != nil {
			b.MFADelete = *cfg.MFADelete
		}
		return s.putBucket(tx, b)
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketVersioningOutput{}, nil
}
