package s3

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/sigv4"
	"github.com/cloudbox/cloudbox/store"
)

// A browser-form upload (POST Object) is a multipart/form-data POST to a
// bucket: fields, then the file. A policy (a base64 JSON document: an
// expiration and conditions on the fields) says what the form may upload,
// and the form's signature of it says who allows it.

// maxFormFields is how many bytes of fields may precede the file.
const maxFormFields = 20 << 10

// form is the fields of an upload, by lower-case name, and the file.
type form struct {
	fields map[string]string
	file   *multipart.Part
}

func (f form) get(name string) string { return f.fields[name] }

func (f form) has(name string) bool {
	_, ok := f.fields[name]
	return ok
}

// readForm reads the fields up to the file; the file is left to stream.
// Fields after the file are ignored, as S3 ignores them.
func readForm(r *http.Request) (form, error) {
	f := form{fields: map[string]string{}}
	mr, err := r.MultipartReader()
	if err != nil {
		return f, malformedPOST()
	}
	left := int64(maxFormFields)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return f, invalidArgument("file", "0", "POST requires exactly one file upload per request.")
		}
		if err != nil {
			return f, malformedPOST()
		}
		name := strings.ToLower(p.FormName())
		if name == "file" {
			f.file = p
			return f, nil
		}
		v, err := io.ReadAll(io.LimitReader(p, left+1))
		if err != nil {
			return f, malformedPOST()
		}
		if left -= int64(len(v)); left < 0 {
			return f, errorf(http.StatusBadRequest, "MaxPostPreDataLengthExceededError", "Your POST request fields preceding the upload file were too large.").
				With("MaxPostPreDataLengthBytes", strconv.Itoa(maxFormFields))
		}
		f.fields[name] = string(v)
	}
}

func malformedPOST() error {
	return errorf(http.StatusBadRequest, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data.")
}

func missingField(name string) error {
	return invalidArgument(name, "", "Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields.", name)
}

func invalidPolicyDocument(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "InvalidPolicyDocument", "Invalid Policy: "+format, args...)
}

func policyFailed(format string, args ...any) error {
	return errorf(http.StatusForbidden, "AccessDenied", "Invalid according to Policy: "+format, args...)
}

// formUpload answers a browser-form upload to bucket.
func (s *Service) formUpload(w http.ResponseWriter, r *http.Request, bucket string, auth formAuth) {
	f, err := readForm(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if !f.has("key") {
		writeError(w, missingField("key"))
		return
	}
	key := strings.ReplaceAll(f.get("key"), "${filename}", f.file.FileName())
	caller, region, err := auth.caller(f)
	if err != nil {
		writeError(w, err)
		return
	}
	var cond *policy
	if f.has("policy") {
		if cond, err = parseFormPolicy(f.get("policy"), auth.now()); err == nil {
			err = cond.check(f, bucket, key)
		}
		if err != nil {
			writeError(w, err)
			return
		}
	}
	ctx := api.WithRequest(r.Context(), &api.Request{Caller: caller, Region: region, Anonymous: caller.Account == ""})
	out, err := s.postObject(ctx, f, bucket, key, cond)
	if err != nil {
		writeError(w, err)
		return
	}
	out.answer(w, r, f)
}

// caller is who signed the form, and the region they signed it for ("" for
// the legacy signature, which names none): nobody (an empty account) for
// a form without a policy when signatures are checked.
func (a formAuth) caller(f form) (api.Principal, string, error) {
	var akid, region string
	var scope sigv4.Scope
	v4 := f.has("x-amz-algorithm") || f.has("x-amz-credential")
	switch {
	case !f.has("policy"):
		if a.strict {
			return api.Principal{}, "", nil
		}
		// Unsigned requests act for the default account when
		// signatures are not checked.
	case v4:
		for _, name := range []string{"x-amz-algorithm", "x-amz-credential", "x-amz-signature", "x-amz-date"} {
			if !f.has(name) {
				return api.Principal{}, "", missingField(name)
			}
		}
		if alg := f.get("x-amz-algorithm"); alg != "AWS4-HMAC-SHA256" {
			return api.Principal{}, "", invalidArgument("x-amz-algorithm", alg, "Unsupported algorithm %s. Please use AWS4-HMAC-SHA256.", alg)
		}
		cred := f.get("x-amz-credential")
		parts := strings.Split(cred, "/")
		if len(parts) != 5 || parts[4] != "aws4_request" || parts[3] != "s3" {
			return api.Principal{}, "", invalidArgument("x-amz-credential", cred, "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
		}
		scope = sigv4.Scope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
		akid, region = scope.AccessKeyID, scope.Region
	default:
		// The legacy signature.
		if !f.has("awsaccesskeyid") {
			return api.Principal{}, "", missingField("AWSAccessKeyId")
		}
		if !f.has("signature") {
			return api.Principal{}, "", missingField("signature")
		}
		akid = f.get("awsaccesskeyid")
	}
	if !a.strict {
		p, err := a.ids.Principal(akid)
		return p, region, err
	}
	cred, ok, err := a.ids.Lookup(akid)
	switch {
	case err != nil:
		return api.Principal{}, "", err
	case !ok:
		return api.Principal{}, "", errorf(http.StatusForbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.").With("AWSAccessKeyId", akid)
	case cred.SessionToken != f.get("x-amz-security-token"):
		return api.Principal{}, "", errorf(http.StatusForbidden, "InvalidToken", "The provided token is malformed or otherwise invalid.")
	case !cred.Expires.IsZero() && a.now().After(cred.Expires):
		return api.Principal{}, "", errorf(http.StatusBadRequest, "ExpiredToken", "The provided token has expired.")
	}
	want, got := sigv4.PolicySignatureV2(cred.Secret, f.get("policy")), f.get("signature")
	if v4 {
		want, got = sigv4.PolicySignature(cred.Secret, scope, f.get("policy")), strings.ToLower(f.get("x-amz-signature"))
	}
	if !hmac.Equal([]byte(want), []byte(got)) {
		return api.Principal{}, "", errorf(http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.").With("AWSAccessKeyId", akid)
	}
	return cred.Principal, region, nil
}

// policy is a form's policy: when it expires and what the form must be.
type policy struct {
	expiration time.Time
	conditions []condition
}

// condition is one condition of a policy: a field equal to a value,
// starting with one, or the file's size in a range.
type condition struct {
	op       string // eq, starts-with, content-length-range
	field    string // lower case, without "$"
	value    string
	min, max int64
}

// String is the condition as S3 quotes it when it fails.
func (c condition) String() string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return fmt.Sprintf("[%s, %s, %s]", q(c.op), q("$"+c.field), q(c.value))
}

// parseFormPolicy reads a base64 policy document and checks that it has
// not expired at now.
func parseFormPolicy(encoded string, now time.Time) (*policy, error) {
	if strings.TrimSpace(encoded) == "" {
		return nil, invalidPolicyDocument("Expecting '{' but found End-of-Input")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(encoded))
	if err != nil {
		return nil, invalidPolicyDocument("invalid Base64 encoding.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, invalidPolicyDocument("Invalid JSON.")
	}
	for name := range doc {
		if name != "expiration" && name != "conditions" {
			return nil, invalidPolicyDocument("Unexpected: %q", name)
		}
	}
	if doc["expiration"] == nil {
		return nil, invalidPolicyDocument("Policy missing expiration.")
	}
	if doc["conditions"] == nil {
		return nil, invalidPolicyDocument("Policy missing conditions.")
	}
	var exp string
	if err := json.Unmarshal(doc["expiration"], &exp); err != nil {
		return nil, invalidPolicyDocument("Invalid JSON.")
	}
	p := &policy{}
	if p.expiration, err = time.Parse(time.RFC3339Nano, exp); err != nil {
		return nil, invalidPolicyDocument("Invalid 'expiration' value: '%s'", exp)
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(doc["conditions"], &conds); err != nil {
		return nil, invalidPolicyDocument("Invalid 'conditions' value: must be a List.")
	}
	for _, c := range conds {
		cond, err := parseCondition(c)
		if err != nil {
			return nil, err
		}
		p.conditions = append(p.conditions, cond)
	}
	if now.After(p.expiration) {
		return nil, policyFailed("Policy expired.")
	}
	return p, nil
}

// parseCondition reads {"field": "value"} or [op, "$field", value] or
// ["content-length-range", min, max].
func parseCondition(raw json.RawMessage) (condition, error) {
	var simple map[string]json.RawMessage
	if json.Unmarshal(raw, &simple) == nil {
		if len(simple) != 1 {
			return condition{}, invalidPolicyDocument("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for name, v := range simple {
			var value string
			if json.Unmarshal(v, &value) != nil {
				return condition{}, invalidPolicyDocument("Invalid Simple-Condition: value must be a string.")
			}
			return condition{op: "eq", field: strings.ToLower(name), value: value}, nil
		}
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return condition{}, invalidPolicyDocument("Invalid condition test: must be a List or Object.")
	}
	if len(list) == 0 {
		return condition{}, invalidPolicyDocument("Invalid Condition: missing operation identifier.")
	}
	var c condition
	if json.Unmarshal(list[0], &c.op) != nil {
		return condition{}, invalidPolicyDocument("Invalid JSON.")
	}
	c.op = strings.ToLower(c.op)
	if c.op != "eq" && c.op != "starts-with" && c.op != "content-length-range" {
		return condition{}, invalidPolicyDocument("Invalid Condition: unknown operation '%s'.", c.op)
	}
	if len(list) != 3 {
		return condition{}, invalidPolicyDocument("Invalid %s: wrong number of arguments.", c.op)
	}
	if c.op == "content-length-range" {
		var err1, err2 error
		c.min, err1 = jsonInt(list[1])
		c.max, err2 = jsonInt(list[2])
		if err1 != nil || err2 != nil {
			return condition{}, invalidPolicyDocument("Invalid JSON.")
		}
		return c, nil
	}
	var field string
	if json.Unmarshal(list[1], &field) != nil || !strings.HasPrefix(field, "$") || len(field) == 1 {
		return condition{}, invalidPolicyDocument("Invalid JSON.")
	}
	c.field = strings.ToLower(field[1:])
	var n json.Number
	if json.Unmarshal(list[2], &c.value) != nil {
		if json.Unmarshal(list[2], &n) != nil {
			return condition{}, invalidPolicyDocument("Invalid JSON.")
		}
		c.value = n.String()
	}
	return c, nil
}

// jsonInt reads an integer written as a number or a string, both of which
// S3 takes in a content-length-range.
func jsonInt(raw json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.Int64()
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

// exempt says whether a field need not be named by a condition: the
// signature, the policy, the file, the legacy signature's key, and
// x-ignore-* fields.
func exempt(field string) bool {
	switch field {
	case "x-amz-signature", "signature", "awsaccesskeyid", "policy", "file":
		return true
	}
	return strings.HasPrefix(field, "x-ignore-")
}

// check applies the policy's conditions to a form uploading key to
// bucket; the file's size is checked as it is read (sizeRange).
func (p *policy) check(f form, bucket, key string) error {
	value := func(field string) (string, bool) {
		switch field {
		case "bucket":
			return bucket, true
		case "key":
			return key, true
		}
		v, ok := f.fields[field]
		return v, ok
	}
	for name := range f.fields {
		covered := exempt(name) || slices.ContainsFunc(p.conditions, func(c condition) bool { return c.field == name })
		if !covered {
			return policyFailed("Extra input fields: %s", name)
		}
	}
	bucketNamed := false
	for _, c := range p.conditions {
		if c.op == "content-length-range" {
			continue
		}
		bucketNamed = bucketNamed || c.field == "bucket"
		v, ok := value(c.field)
		if !ok || c.op == "eq" && v != c.value || c.op == "starts-with" && !startsWith(c.field, v, c.value) {
			return policyFailed("Policy Condition failed: %s", c)
		}
	}
	if !bucketNamed {
		return policyFailed("Extra input fields: bucket")
	}
	return nil
}

// startsWith is a starts-with condition: for Content-Type, a list of
// types must all start with the prefix.
func startsWith(field, v, prefix string) bool {
	if field != "content-type" {
		return strings.HasPrefix(v, prefix)
	}
	for _, t := range strings.Split(v, ",") {
		if !strings.HasPrefix(strings.TrimSpace(t), prefix) {
			return false
		}
	}
	return true
}

// sizeRange is the policy's content-length-range, the whole int64 range
// when it has none.
func (p *policy) sizeRange() (lo, hi int64) {
	lo, hi = 0, 1<<63-1
	if p == nil {
		return lo, hi
	}
	for _, c := range p.conditions {
		if c.op == "content-length-range" {
			lo, hi = c.min, c.max
		}
	}
	return lo, hi
}

// limitedFile reads a form's file and fails with EntityTooLarge once it
// has more than max bytes, so that a file too large is not written whole.
type limitedFile struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitedFile) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.n += int64(n); l.n > l.max {
		return n, errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size").
			With("ProposedSize", strconv.FormatInt(l.n, 10)).With("MaxSizeAllowed", strconv.FormatInt(l.max, 10))
	}
	return n, err
}

// formTagging is the tagging field's document.
type formTagging struct {
	Tags []struct{ Key, Value string } `xml:"TagSet>Tag"`
}

// formVersion is the version a form describes, before its bytes.
func formVersion(f form, caller string) (*version, error) {
	v := &version{
		ContentType: f.get("content-type"), ContentEncoding: f.get("content-encoding"), ContentDisposition: f.get("content-disposition"),
		CacheControl: f.get("cache-control"), StorageClass: f.get("x-amz-storage-class"), WebsiteRedirect: f.get("x-amz-website-redirect-location"),
		ACL: f.get("acl"), Owner: caller,
	}
	if f.has("x-amz-storage-class") {
		if err := checkStorageClass(&v.StorageClass); err != nil {
			return nil, err
		}
	}
	if f.has("expires") {
		t, err := http.ParseTime(f.get("expires"))
		if err == nil {
			v.Expires = &t
		}
	}
	for name, val := range f.fields {
		if meta, ok := strings.CutPrefix(name, "x-amz-meta-"); ok {
			if v.Metadata == nil {
				v.Metadata = map[string]string{}
			}
			v.Metadata[meta] = val
		}
	}
	if f.has("tagging") {
		var t formTagging
		if xml.Unmarshal([]byte(f.get("tagging")), &t) != nil {
			return nil, malformedXML()
		}
		in := &s3api.Tagging{TagSet: []*s3api.Tag{}}
		for _, x := range t.Tags {
			in.TagSet = append(in.TagSet, &s3api.Tag{Key: str(x.Key), Value: str(x.Value)})
		}
		tags, err := tagsIn(in, maxObjectTags)
		if err != nil {
			return nil, err
		}
		v.Tags = tags
	}
	return v, nil
}

// posted is what a form upload wrote.
type posted struct {
	bucket, key string
	v           *version
	versioned   bool
}

// postObject writes the form's file as key in bucket for the caller in
// ctx, as the policy p (nil for none) allows.
func (s *Service) postObject(ctx context.Context, f form, bucket, key string, p *policy) (*posted, error) {
	req := api.RequestFrom(ctx)
	if key == "" {
		return nil, invalidArgument("key", "", "User key must have a length greater than 0.")
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	v, err := formVersion(f, req.Caller.Account)
	if err != nil {
		return nil, err
	}
	// may checks, in a transaction, that the caller may write to b.
	may := func(b *bucketRecord) error {
		switch {
		case b == nil:
			return noSuchBucket(bucket)
		case req.Region != "" && req.Region != b.Region:
			return invalidArgument("x-amz-credential", f.get("x-amz-credential"), "the region '%s' is wrong; expecting '%s'", req.Region, b.Region)
		case b.Owner != req.Caller.Account && !anonymousAllowed(b, "s3:PutObject", key, nil):
			return accessDenied()
		}
		if v.ACL != "" {
			canned, _, err := aclInput{canned: &v.ACL}.grants(false)
			if err != nil {
				return err
			}
			return checkACL(ctx, b, "PutObject", b.Name+"/"+key, canned, nil)
		}
		return nil
	}
	if err := s.store.View(func(tx *store.Tx) error {
		b, err := findBucket(tx, bucket)
		if err != nil {
			return err
		}
		return may(b)
	}); err != nil {
		return nil, err
	}
	lo, hi := p.sizeRange()
	got, err := s.receive(bucket, &limitedFile{r: f.file, max: hi}, f.get("content-md5"), "", checksumsSent{})
	if err != nil {
		return nil, err
	}
	if got.size < lo {
		s.blobs.Remove(bucket, got.blob.ID())
		return nil, errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size").
			With("ProposedSize", strconv.FormatInt(got.size, 10)).With("MinSizeAllowed", strconv.FormatInt(lo, 10))
	}
	v.Modified, v.Size, v.ETag = s.now().UTC().Truncate(time.Millisecond), got.size, etag(got.md5)
	v.Blobs, v.Checksums = []blobRef{{ID: got.blob.ID(), Size: got.size}}, got.checksums
	out := &posted{bucket: bucket, key: key, v: v}
	err = s.store.Update(func(tx *store.Tx) error {
		b, err := findBucket(tx, bucket)
		if err != nil {
			return err
		}
		if err := may(b); err != nil {
			return err
		}
		out.versioned = b.Versioning != ""
		dropped, err := putVersion(tx, b, key, v)
		s.removeBlobsOnCommit(tx, bucket, dropped)
		return err
	})
	if err != nil {
		s.blobs.Remove(bucket, got.blob.ID())
		return nil, err
	}
	return out, nil
}

// answer writes a successful upload's response as the form asks: a
// redirect to success_action_redirect (or the legacy redirect), else
// success_action_status (200, 201 with a PostResponse document, or by
// default 204).
func (p *posted) answer(w http.ResponseWriter, r *http.Request, f form) {
	h := w.Header()
	location := objectURL(r, p.bucket, p.key)
	h.Set("ETag", p.v.ETag)
	h.Set("Location", location)
	h.Set("x-amz-server-side-encryption", "AES256")
	if p.versioned {
		h.Set("x-amz-version-id", p.v.ID)
	}
	redirect := f.get("success_action_redirect")
	if redirect == "" {
		redirect = f.get("redirect")
	}
	if u, err := url.Parse(redirect); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		q := u.Query()
		q.Set("bucket", p.bucket)
		q.Set("key", p.key)
		q.Set("etag", p.v.ETag)
		u.RawQuery = q.Encode()
		h.Set("Location", u.String())
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	switch f.get("success_action_status") {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		var body bytes.Buffer
		body.WriteString(xml.Header)
		xml.NewEncoder(&body).Encode(struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string
			Bucket   string
			Key      string
			ETag     string
		}{Location: location, Bucket: p.bucket, Key: p.key, ETag: p.v.ETag})
		h.Set("Content-Type", "application/xml")
		h.Set("Content-Length", strconv.Itoa(body.Len()))
		w.WriteHeader(http.StatusCreated)
		w.Write(body.Bytes())
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// objectURL is the URL of key in bucket as the request reached S3:
// virtual-hosted when its host names the bucket, else path-style.
func objectURL(r *http.Request, bucket, key string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	var path strings.Builder
	for _, seg := range strings.Split(key, "/") {
		path.WriteString("/" + url.PathEscape(seg))
	}
	if strings.HasPrefix(r.Host, bucket+".") {
		return scheme + "://" + r.Host + path.String()
	}
	return scheme + "://" + r.Host + "/" + url.PathEscape(bucket) + path.String()
}
