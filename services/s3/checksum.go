package s3

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
)

// checksumAlgorithms are the additional checksums S3 computes, verifies
// and returns, by the name the API gives them.
var checksumAlgorithms = []string{"CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"}

// crc64NVME is CRC-64/NVME (the reflected polynomial; hash/crc64 inverts
// before and after, as the algorithm does).
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

func newChecksum(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	case "CRC64NVME":
		return crc64.New(crc64NVME)
	}
	return nil
}

// checksumHeader is the header that carries alg's value.
func checksumHeader(alg string) string { return "x-amz-checksum-" + strings.ToLower(alg) }

// digests hashes what passes through it: MD5 always (the ETag) and the
// additional checksums asked for.
type digests struct {
	md5  hash.Hash
	algs map[string]hash.Hash
}

func newDigests(algs ...string) *digests {
	d := &digests{md5: md5.New(), algs: map[string]hash.Hash{}}
	for _, a := range algs {
		if h := newChecksum(a); h != nil {
			d.algs[a] = h
		}
	}
	return d
}

func (d *digests) Write(p []byte) (int, error) {
	d.md5.Write(p)
	for _, h := range d.algs {
		h.Write(p)
	}
	return len(p), nil
}

// sums returns the checksums, base64 as S3 shows them.
func (d *digests) sums() map[string]string {
	out := map[string]string{}
	for a, h := range d.algs {
		out[a] = base64.StdEncoding.EncodeToString(h.Sum(nil))
	}
	return out
}

// checkContentMD5 compares a Content-MD5 header with what was received.
func checkContentMD5(header string, got []byte) *api.Error {
	if header == "" {
		return nil
	}
	want, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(want) != md5.Size {
		return errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.").With("Content-MD5", header)
	}
	if string(want) != string(got) {
		return errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.").
			With("ExpectedDigest", header).With("CalculatedDigest", base64.StdEncoding.EncodeToString(got))
	}
	return nil
}

// checkChecksum compares a checksum a client sent for alg with the one
// computed.
func checkChecksum(alg, sent, computed string) *api.Error {
	if sent == "" || sent == computed {
		return nil
	}
	raw, err := base64.StdEncoding.DecodeString(sent)
	if err != nil || len(raw) != newChecksum(alg).Size() {
		return invalidRequest("Value for %s header is invalid.", checksumHeader(alg))
	}
	return errorf(http.StatusBadRequest, "BadDigest", "The %s you specified did not match the calculated checksum.", alg)
}

// compositeChecksum is the checksum of a multipart object: alg over the
// parts' raw checksums, then "-<parts>", as S3 shows it.
func compositeChecksum(alg string, parts []string) string {
	h := newChecksum(alg)
	for _, p := range parts {
		raw, _ := base64.StdEncoding.DecodeString(p)
		h.Write(raw)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(parts))
}
