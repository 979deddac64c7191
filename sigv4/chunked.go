package sigv4

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// awsChunked is a parsed aws-chunked body:
//
//	<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//	[<trailer-name>:<value>\r\n ...]\r\n
type awsChunked struct {
	chunks   []chunk // ends with the empty final chunk
	trailers []trailer
	size     int // total payload bytes
}

type chunk struct {
	data      []byte
	signature string // "" for unsigned chunks
}

type trailer struct{ name, value string }

func malformedChunked(format string, args ...any) *Error {
	return &Error{Code: "IncompleteBody", Status: http.StatusBadRequest,
		Message: "The aws-chunked request body is malformed: " + fmt.Sprintf(format, args...)}
}

var crlf = []byte("\r\n")

func parseChunked(body []byte) (*awsChunked, error) {
	var c awsChunked
	for {
		line, rest, ok := bytes.Cut(body, crlf)
		if !ok {
			return nil, malformedChunked("chunk header not terminated by CRLF")
		}
		body = rest
		sizeText, ext, hasExt := strings.Cut(string(line), ";")
		size, err := strconv.ParseUint(sizeText, 16, 63)
		if err != nil {
			return nil, malformedChunked("invalid chunk size %q", sizeText)
		}
		var ch chunk
		if hasExt {
			if ch.signature, ok = strings.CutPrefix(ext, "chunk-signature="); !ok {
				return nil, malformedChunked("unsupported chunk extension %q", ext)
			}
		}
		if size == 0 {
			c.chunks = append(c.chunks, ch)
			break
		}
		if uint64(len(body)) < size+2 || !bytes.Equal(body[size:size+2], crlf) {
			return nil, malformedChunked("chunk of %d bytes is truncated or not followed by CRLF", size)
		}
		ch.data, body = body[:size], body[size+2:]
		c.chunks = append(c.chunks, ch)
		c.size += len(ch.data)
	}
	// Trailer lines end at an empty line; a body that stops right after the
	// last line is accepted too, as the payload is complete by then.
	for len(body) > 0 {
		line, rest, ok := bytes.Cut(body, crlf)
		if !ok {
			line, rest = body, nil
		}
		body = rest
		// TrimSpace also drops the stray "\n" some clients put before the CRLF.
		text := strings.TrimSpace(string(line))
		if text == "" {
			if len(body) > 0 {
				return nil, malformedChunked("%d unexpected bytes after the trailer", len(body))
			}
			break
		}
		name, value, ok := strings.Cut(text, ":")
		if !ok || strings.ContainsAny(text, "\r\n") {
			return nil, malformedChunked("invalid trailer line %q", text)
		}
		c.trailers = append(c.trailers, trailer{strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)})
	}
	return &c, nil
}

func (c *awsChunked) payload() []byte {
	out := make([]byte, 0, c.size)
	for _, ch := range c.chunks {
		out = append(out, ch.data...)
	}
	return out
}

// verifyChunks checks the chain of chunk signatures that starts from the
// request's own signature (seed) and, when signedTrailer, the trailer signature
// that continues it.
func (k signer) verifyChunks(c *awsChunked, seed string, signedTrailer bool) error {
	prev := seed
	for _, ch := range c.chunks {
		want := k.sign("AWS4-HMAC-SHA256-PAYLOAD", prev, emptySHA256, hexSHA256(ch.data))
		if !sameSignature(want, ch.signature) {
			return signatureDoesNotMatch(mismatchMessage)
		}
		prev = want
	}
	if !signedTrailer {
		if len(c.trailers) > 0 {
			return malformedChunked("trailer sent without a trailer payload type")
		}
		return nil
	}
	var canonical strings.Builder
	got := ""
	for _, t := range c.trailers {
		if t.name == "x-amz-trailer-signature" {
			got = t.value
			continue
		}
		canonical.WriteString(t.name + ":" + t.value + "\n")
	}
	if !sameSignature(k.sign("AWS4-HMAC-SHA256-TRAILER", prev, hexSHA256([]byte(canonical.String()))), got) {
		return signatureDoesNotMatch(mismatchMessage)
	}
	return nil
}

// DecodeChunked de-chunks an aws-chunked body without verifying signatures
// (used when auth is off but a client still sent a streaming payload). It
// handles both signed chunks ("<hex-size>;chunk-signature=<sig>\r\n<data>\r\n")
// and unsigned chunks followed by trailers
// ("<hex-size>\r\n<data>\r\n ... 0\r\nx-amz-checksum-crc32:...\r\n\r\n").
// Trailer checksums are not checked. Errors are *Error with Code "IncompleteBody".
func DecodeChunked(body []byte) ([]byte, error) {
	c, err := parseChunked(body)
	if err != nil {
		return nil, err
	}
	return c.payload(), nil
}
