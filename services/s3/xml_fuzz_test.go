package s3_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/s3"
	"github.com/cloudbox/cloudbox/store"
)

// FuzzXMLBodies sends each input as the body of every S3 operation that
// decodes XML from its request (CompleteMultipartUpload, DeleteObjects,
// the taggings, versioning): the answer is never a 5xx, nor a panic.
func FuzzXMLBodies(f *testing.F) {
	for _, seed := range []string{
		`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>`,
		`<CompleteMultipartUpload><Part><PartNumber>-1</PartNumber></Part><Part/></CompleteMultipartUpload>`,
		`<Delete><Object><Key>k</Key></Object><Quiet>true</Quiet></Delete>`,
		`<Delete><Object><Key>k</Key><VersionId>null</VersionId></Object><Object/></Delete>`,
		`<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>`,
		`<Tagging><TagSet><Tag><Key></Key></Tag></TagSet></Tagging>`,
		`<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`,
		`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Delete>&a;</Delete>`,
		`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>&lt;&#x0;</Key></Object></Delete>`,
		``, `<`, `<a><b></a>`,
	} {
		f.Add([]byte(seed))
	}
	st := store.OpenMemory()
	f.Cleanup(func() { st.Close() })
	blobs, err := objectstore.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	svc := s3.New(st, blobs, time.Now, nil)
	h := server.New(server.Config{
		Services: []server.Service{{API: s3api.Service, Invoker: svc.Invoker(), Router: svc}},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	})
	do := func(method, target string, body []byte) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, target, bytes.NewReader(body))
		sum := md5.Sum(body)
		r.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do(http.MethodPut, "/fuzz", nil); w.Code != 200 {
		f.Fatalf("CreateBucket: %d %s", w.Code, w.Body)
	}
	do(http.MethodPut, "/fuzz/k", []byte("v"))
	w := do(http.MethodPost, "/fuzz/k?uploads", nil)
	var up struct{ UploadId string }
	if err := xml.Unmarshal(w.Body.Bytes(), &up); err != nil || up.UploadId == "" {
		f.Fatalf("CreateMultipartUpload: %d %s", w.Code, w.Body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, target := range [][2]string{
			{http.MethodPost, "/fuzz/k?uploadId=" + up.UploadId},
			{http.MethodPost, "/fuzz?delete"},
			{http.MethodPut, "/fuzz/k?tagging"},
			{http.MethodPut, "/fuzz?tagging"},
			{http.MethodPut, "/fuzz?versioning"},
		} {
			if w := do(target[0], target[1], body); w.Code >= 500 {
				t.Fatalf("%s %s: %d %s", target[0], target[1], w.Code, w.Body)
			}
		}
	})
}
