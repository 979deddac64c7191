package cloudformation

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/uuid"
)

// maxTemplate is the largest template a TemplateURL may name (AWS's 1 MB).
const maxTemplate = 1 << 20

// templateBody returns the template given in the body or, by URL, in S3
// (read through S3's API as the caller: `aws cloudformation deploy
// --s3-bucket` and `package` upload it there).
func (s *Service) templateBody(ctx context.Context, body, templateURL *string) (string, error) {
	if body != nil || templateURL == nil {
		return deref(body), nil
	}
	b, err := s.readURL(ctx, *templateURL, "TemplateURL", maxTemplate)
	if err == errTooLarge {
		return "", api.Errorf("ValidationError", "Template may not exceed 1000000 bytes in size.")
	}
	return b, err
}

var errTooLarge = errors.New("object too large")

// readURL reads the object an S3 URL names (the member called name),
// through S3's API as the caller; an object over limit bytes is
// errTooLarge.
func (s *Service) readURL(ctx context.Context, raw, name string, limit int64) (string, error) {
	bucket, key, ok := s3Location(raw)
	if !ok {
		return "", api.Errorf("ValidationError", "%s must be a supported URL.", name)
	}
	r := api.RequestFrom(ctx)
	cctx := api.WithRequest(context.Background(), &api.Request{ID: uuid.New(), Region: r.Region, Caller: r.Caller})
	out, err := s.invoker("s3").Invoke(cctx, "GetObject", &s3api.GetObjectRequest{Bucket: &bucket, Key: &key})
	if err != nil {
		return "", api.Errorf("ValidationError", "S3 error: %s", api.As(err).Message)
	}
	obj := out.(*s3api.GetObjectOutput)
	if c, ok := obj.Body.(io.Closer); ok {
		defer c.Close()
	}
	b, err := io.ReadAll(io.LimitReader(obj.Body, limit+1))
	if err != nil {
		return "", err
	}
	if int64(len(b)) > limit {
		return "", errTooLarge
	}
	return string(b), nil
}

// s3Location finds the bucket and key of an S3 URL in its virtual-hosted
// (bucket.s3[.region].amazonaws.com/key) or path (host/bucket/key) form;
// the latter is also how clients name objects at cloudbox's endpoint.
func s3Location(raw string) (bucket, key string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", "", false
	}
	host := u.Hostname()
	path := strings.TrimPrefix(u.Path, "/")
	if i := strings.Index(host, ".s3"); i > 0 && strings.HasSuffix(host, ".amazonaws.com") {
		bucket, key = host[:i], path
	} else {
		bucket, key, _ = strings.Cut(path, "/")
	}
	if bucket == "" || key == "" {
		return "", "", false
	}
	return bucket, key, true
}
