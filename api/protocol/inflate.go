package protocol

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cloudbox/cloudbox/api"
)

// maxInflated bounds a request body once inflated.
const maxInflated = 64 << 20

// Inflate undoes the request compression SDKs apply to large RPC requests
// (PutMetricData past 10 KiB goes gzip-encoded over query, awsJson and RPC
// v2 alike). It is not for REST protocols, where Content-Encoding describes
// the payload the caller stores (an S3 object) rather than the request.
func Inflate(r *http.Request, body []byte) ([]byte, error) {
	if !strings.Contains(strings.ToLower(r.Header.Get("Content-Encoding")), "gzip") {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err == nil {
		var out []byte
		if out, err = io.ReadAll(io.LimitReader(zr, maxInflated+1)); err == nil {
			if len(out) > maxInflated {
				err = fmt.Errorf("inflated body larger than %d bytes", maxInflated)
			} else {
				return out, nil
			}
		}
	}
	return nil, api.Errorf("SerializationException", "Could not inflate the gzip request body: %v", err)
}
