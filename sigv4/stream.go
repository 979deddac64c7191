package sigv4

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Body is a request payload read as it arrives, for bodies too large to
// hold (S3's objects): Read returns the payload, de-chunked when the
// client sent aws-chunked, and ends with io.EOF only once every chunk
// signature, the trailer's and the payload's SHA-256 were right; otherwise
// with an *Error. A reader that stores what it reads must keep it
// unpublished until that io.EOF.
type Body struct {
	src *bufio.Reader

	// A plain payload: its running hash and the hex SHA-256 it must have
	// ("" for none).
	hash hash.Hash
	want string

	// An aws-chunked payload.
	chunked       bool
	signed        bool // chunk signatures to check
	signedTrailer bool
	k             signer
	prev          string    // the last signature of the chain
	left          int64     // bytes of the current chunk not yet read
	chunkHash     hash.Hash // of the current chunk, when signed
	claimed       string    // the current chunk's signature, as sent
	inChunk       bool      // a chunk's data is being read
	done          bool
	trailers      map[string]string

	err error
}

// maxChunkHeader bounds a chunk's header line and a trailer line.
const maxChunkHeader = 4096

// Stream returns r's payload without verifying anything (auth off): an
// aws-chunked body is de-chunked, others are passed through.
func Stream(r *http.Request) *Body {
	b := &Body{src: bufio.NewReaderSize(r.Body, 64<<10)}
	b.chunked = IsStreaming(r)
	return b
}

// VerifyStream checks r's signature, as Verify does, without reading its
// body, and returns the body, which verifies the payload as it is read.
func VerifyStream(r *http.Request, s *Signed, secret string, now time.Time) (*Body, error) {
	if s.V2 {
		if err := verifyV2(r, s, secret, now); err != nil {
			return nil, err
		}
		return Stream(r), nil
	}
	payloadHash := s.PayloadHash
	if payloadHash == "" {
		if !s.Presigned || s.Scope.Service != "s3" {
			// The signature covers a payload hash the client did not
			// send: only a whole body could tell it.
			return nil, &Error{Code: "InvalidRequest", Status: http.StatusBadRequest,
				Message: "Missing required header for this request: x-amz-content-sha256"}
		}
		payloadHash = unsignedPayload // S3 presigned URLs never cover the payload
	}
	k, seed, err := verifySignature(r, s, secret, now, payloadHash)
	if err != nil {
		return nil, err
	}
	b := &Body{src: bufio.NewReaderSize(r.Body, 64<<10), k: k, prev: seed}
	switch payloadHash {
	case unsignedPayload:
	case streamingSigned, streamingSignedTrailer:
		b.chunked, b.signed, b.signedTrailer = true, true, payloadHash == streamingSignedTrailer
	case streamingUnsignedTrailer:
		b.chunked = true
	default:
		if err := checkPayloadHash(payloadHash); err != nil {
			return nil, err
		}
		b.hash, b.want = sha256.New(), strings.ToLower(payloadHash)
	}
	return b, nil
}

// Trailer returns a trailing header of an aws-chunked body (lower-case
// name), once Read has returned io.EOF.
func (b *Body) Trailer(name string) string { return b.trailers[strings.ToLower(name)] }

// Read implements io.Reader.
func (b *Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	var n int
	var err error
	if b.chunked {
		n, err = b.readChunked(p)
	} else {
		n, err = b.src.Read(p)
		if b.hash != nil {
			b.hash.Write(p[:n])
			if err == io.EOF && hex.EncodeToString(b.hash.Sum(nil)) != b.want {
				err = contentSHA256Mismatch()
			}
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *Body) readChunked(p []byte) (int, error) {
	for b.left == 0 {
		if b.done {
			return 0, io.EOF
		}
		if err := b.nextChunk(); err != nil {
			return 0, err
		}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.src.Read(p)
	b.left -= int64(n)
	if b.chunkHash != nil {
		b.chunkHash.Write(p[:n])
	}
	if errors.Is(err, io.EOF) {
		return n, malformedChunked("chunk truncated: %d bytes missing", b.left)
	}
	return n, err
}

// nextChunk finishes the chunk just read (its CRLF, its signature) and
// reads the next one's header; after the final chunk, the trailer.
func (b *Body) nextChunk() error {
	if b.inChunk {
		if err := b.expectCRLF(); err != nil {
			return err
		}
		if err := b.checkChunk(); err != nil {
			return err
		}
		b.inChunk = false
	}
	line, err := b.line()
	if err != nil {
		return err
	}
	sizeText, ext, hasExt := strings.Cut(line, ";")
	size, err := strconv.ParseUint(sizeText, 16, 63)
	if err != nil {
		return malformedChunked("invalid chunk size %q", sizeText)
	}
	sig := ""
	if hasExt {
		var ok bool
		if sig, ok = strings.CutPrefix(ext, "chunk-signature="); !ok {
			return malformedChunked("unsupported chunk extension %q", ext)
		}
	}
	b.chunkSig(sig)
	if size > 0 {
		b.left, b.inChunk = int64(size), true
		return nil
	}
	// The final, empty chunk: its signature, then the trailer.
	if err := b.checkChunk(); err != nil {
		return err
	}
	b.done = true
	return b.readTrailer()
}

// chunkSig starts a chunk that claims signature sig.
func (b *Body) chunkSig(sig string) {
	if b.signed {
		b.chunkHash, b.claimed = sha256.New(), sig
	}
}

func (b *Body) checkChunk() error {
	if !b.signed {
		return nil
	}
	want := b.k.sign("AWS4-HMAC-SHA256-PAYLOAD", b.prev, emptySHA256, hex.EncodeToString(b.chunkHash.Sum(nil)))
	if !sameSignature(want, b.claimed) {
		return signatureDoesNotMatch(mismatchMessage)
	}
	b.prev = want
	return nil
}

func (b *Body) readTrailer() error {
	b.trailers = map[string]string{}
	var canonical strings.Builder
	got := ""
	for {
		line, err := b.line(true)
		if errors.Is(err, io.EOF) {
			break // a body may stop right after its last line
		}
		if err != nil {
			return err
		}
		text := strings.TrimSpace(line)
		if text == "" {
			break
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok {
			return malformedChunked("invalid trailer line %q", text)
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			got = value
			continue
		}
		b.trailers[name] = value
		canonical.WriteString(name + ":" + value + "\n")
	}
	switch {
	case b.signedTrailer:
		if !sameSignature(b.k.sign("AWS4-HMAC-SHA256-TRAILER", b.prev, hexSHA256([]byte(canonical.String()))), got) {
			return signatureDoesNotMatch(mismatchMessage)
		}
	case b.signed && len(b.trailers) > 0:
		return malformedChunked("trailer sent without a trailer payload type")
	}
	return nil
}

// line reads one CRLF-terminated line, without its end; in a trailer
// (lastMayEnd) a last line may end with the body instead.
func (b *Body) line(lastMayEnd ...bool) (string, error) {
	var buf []byte
	for {
		frag, err := b.src.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > maxChunkHeader {
			return "", malformedChunked("line longer than %d bytes", maxChunkHeader)
		}
		switch {
		case err == nil:
			return string(bytes.TrimRight(buf, "\r\n")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0 && len(lastMayEnd) > 0:
			return string(buf), nil
		case errors.Is(err, io.EOF) && len(buf) > 0:
			return "", malformedChunked("line not terminated by CRLF")
		}
		return "", err
	}
}

func (b *Body) expectCRLF() error {
	var two [2]byte
	if _, err := io.ReadFull(b.src, two[:]); err != nil || two != [2]byte{'\r', '\n'} {
		return malformedChunked("chunk data not followed by CRLF")
	}
	return nil
}
