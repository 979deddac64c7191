package cloudformation

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// Wait conditions: a WaitConditionHandle's Ref is a presigned URL, on
// the host AWS uses (cloudformation-waitcondition-<region>.s3-<region>
// .amazonaws.com), that an instance PUTs its signal to; the service
// claims those names in the daemon's edge table (EdgeClaims), so the URL
// answers on the loopback listener and, inside the world, at AWS's
// endpoints, which an instance reaches through its internet or NAT
// gateway. A WaitCondition waits, on the virtual clock, for Count
// SUCCESS signals on its Handle.
func init() {
	register("AWS::CloudFormation::WaitConditionHandle", &provider{Create: createHandle, Delete: func(*call, *state, props) error { return nil }})
	register("AWS::CloudFormation::WaitCondition", &provider{Create: createWaitCondition, Delete: func(*call, *state, props) error { return nil }})
}

// maxSignal bounds a signal's body; AWS's wait condition data is at most
// 4096 characters.
const maxSignal = 64 << 10

// waitRegions are the regions whose wait condition host the service
// claims: DescribeRegions' (services/ec2), as the host must be known
// before any stack is.
var waitRegions = []string{"af-south-1", "ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
	"ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-north-1", "eu-south-1", "eu-west-1", "eu-west-2",
	"eu-west-3", "me-south-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"}

func waitHost(region string) string {
	return fmt.Sprintf("cloudformation-waitcondition-%s.s3-%s.%s", region, region, template.URLSuffix(region))
}

// EdgeClaims are the wait condition hosts of every region.
func (s *Service) EdgeClaims() map[string]http.Handler {
	claims := map[string]http.Handler{}
	for _, r := range waitRegions {
		claims[waitHost(r)] = http.HandlerFunc(s.serveSignal)
	}
	return claims
}

// createHandle makes a handle's URL: the stack's id, a handle id and the
// logical id as AWS lays them out, with a signature only the stack's
// record knows.
func createHandle(c *call, _ props) (*state, error) {
	sig := make([]byte, 32)
	if _, err := rand.Read(sig); err != nil {
		return nil, err
	}
	id := c.stackID + "/" + uuid.New() + "/" + c.logical
	q := url.Values{}
	q.Set("X-Amz-Expires", "86399")
	q.Set("X-Amz-Signature", hex.EncodeToString(sig))
	u := "https://" + waitHost(c.region) + "/" + handlePath(id) + "?" + q.Encode()
	return &state{Physical: u}, nil
}

// handlePath escapes a handle id for the URL's path as AWS does: the
// stack ARN's colons, not its slashes.
func handlePath(id string) string {
	parts := strings.Split(id, "/")
	for i, p := range parts {
		// PathEscape leaves colons, which AWS's URL escapes.
		parts[i] = strings.ReplaceAll(url.PathEscape(p), ":", "%3A")
	}
	return strings.Join(parts, "/")
}

// parseHandle finds the handle id and signature in a handle URL (or a
// request's path and query).
func parseHandle(path, query string) (id, sig string, ok bool) {
	id, err := url.PathUnescape(strings.TrimPrefix(path, "/"))
	if err != nil {
		return "", "", false
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", false
	}
	// arn:partition:cloudformation:region:account:stack/name/stack-uuid/handle-uuid/logical
	parts := strings.Split(id, "/")
	if len(parts) != 5 || len(strings.Split(parts[0], ":")) != 6 || !strings.HasPrefix(parts[0], "arn:") || q.Get("X-Amz-Signature") == "" {
		return "", "", false
	}
	return id, q.Get("X-Amz-Signature"), true
}

// splitHandle names the stack and the handle's logical id in a handle
// id that parseHandle accepted.
func splitHandle(id string) (account, region, stackID, logical string) {
	parts := strings.Split(id, "/")
	arn := strings.Split(parts[0], ":")
	if len(arn) > 4 {
		account, region = arn[4], arn[3]
	}
	return account, region, strings.Join(parts[:3], "/"), parts[4]
}

func handleOf(rawURL string) (id, sig string, ok bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", false
	}
	return parseHandle(u.EscapedPath(), u.RawQuery)
}

// waitSignal is what an instance PUTs to a handle.
type waitSignal struct {
	Status, Reason, UniqueId, Data string
}

// serveSignal records a signal PUT to a handle's URL in its stack's
// record. Errors answer as S3 would the presigned PUT.
func (s *Service) serveSignal(w http.ResponseWriter, r *http.Request) {
	id, sig, ok := parseHandle(r.URL.EscapedPath(), r.URL.RawQuery)
	if !ok || r.Method != http.MethodPut {
		s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxSignal+1))
	if err != nil {
		s3Error(w, http.StatusBadRequest, "IncompleteBody", "The request body terminated unexpectedly")
		return
	}
	if len(body) > maxSignal {
		s3Error(w, http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
		return
	}
	var in waitSignal
	if err := json.Unmarshal(body, &in); err != nil || (in.Status != "SUCCESS" && in.Status != "FAILURE") {
		s3Error(w, http.StatusBadRequest, "MalformedSignal", "The signal must be a JSON object whose Status is SUCCESS or FAILURE")
		return
	}
	account, region, stackID, logical := splitHandle(id)
	found := false
	err = s.store.Update(func(tx *store.Tx) error {
		st := new(stack)
		if ok, err := tx.Get(stackKey(account, region, stackID), st); err != nil || !ok || !st.live() {
			return err
		}
		res := st.Resources[logical]
		if res == nil || res.Type != "AWS::CloudFormation::WaitConditionHandle" || res.Status == "DELETE_COMPLETE" {
			return nil
		}
		if hid, want, ok := handleOf(res.Physical); !ok || hid != id || want != sig {
			return nil
		}
		found = true
		sg := signal{ID: in.UniqueId, Status: in.Status, Reason: in.Reason, Data: in.Data}
		// A signal repeating a UniqueId replaces the earlier one.
		for i, old := range res.Signals {
			if old.ID == in.UniqueId {
				res.Signals[i] = sg
				return tx.Put(stackKey(account, region, stackID), st)
			}
		}
		res.Signals = append(res.Signals, sg)
		return tx.Put(stackKey(account, region, stackID), st)
	})
	switch {
	case err != nil:
		s.log.Error("cloudformation: recording a wait condition signal", "err", err)
		s3Error(w, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.")
	case !found:
		s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
	default:
		s.log.Info("cloudformation: wait condition signal", "stack", stackID, "handle", logical, "status", in.Status, "id", in.UniqueId)
		w.WriteHeader(http.StatusOK)
	}
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId></Error>", code, msg, uuid.New())
}

// maxWaitTimeout is the longest Timeout AWS takes: 12 hours.
const maxWaitTimeout = 43200

// createWaitCondition waits for its handle's signals. Without a Handle
// it is made at once: a CreationPolicy then waits for SignalResource.
func createWaitCondition(c *call, p props) (*state, error) {
	if !p.has("Handle") {
		return &state{Physical: c.stackID + "/" + uuid.New() + "/" + c.logical, Attrs: map[string]any{"Data": "{}"}}, nil
	}
	id, _, ok := handleOf(p.str("Handle"))
	if !ok {
		return nil, fmt.Errorf("Handle %s is not a valid wait condition handle", p.str("Handle"))
	}
	timeout, err := strconv.Atoi(p.str("Timeout"))
	if err != nil || timeout < 1 || timeout > maxWaitTimeout {
		return nil, fmt.Errorf("Timeout must be a number of seconds from 1 to %d", maxWaitTimeout)
	}
	count := 1
	if p.has("Count") {
		if count, err = strconv.Atoi(p.str("Count")); err != nil || count < 1 {
			return nil, fmt.Errorf("Count must be a positive integer")
		}
	}
	account, region, stackID, handle := splitHandle(id)
	deadline := c.cfn.now().Add(time.Duration(timeout) * time.Second)
	seen := 0
	for {
		sigs, err := c.cfn.handleSignals(account, region, stackID, handle)
		if err != nil {
			return nil, err
		}
		for _, sg := range sigs[seen:] {
			c.note(fmt.Sprintf("Received %s signal with UniqueId %s", sg.Status, sg.ID))
		}
		seen = len(sigs)
		data := map[string]string{}
		for _, sg := range sigs {
			if sg.Status == "FAILURE" {
				return nil, fmt.Errorf("WaitCondition received failed message: '%s' for uniqueId: %s", sg.Reason, sg.ID)
			}
			data[sg.ID] = sg.Data
		}
		if len(data) >= count {
			return &state{Physical: id, Attrs: map[string]any{"Data": dataJSON(data)}}, nil
		}
		if !c.cfn.now().Before(deadline) {
			return nil, fmt.Errorf("WaitCondition timed out. Received %d conditions when expecting %d", len(data), count)
		}
		select {
		case <-c.ctx.Done():
			return nil, fmt.Errorf("Resource creation cancelled")
		case <-time.After(c.poll):
		}
	}
}

// dataJSON is the Data attribute: each signal's Data by its UniqueId, in
// one JSON object.
func dataJSON(data map[string]string) string {
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := json.Marshal(k)
		vj, _ := json.Marshal(data[k])
		b.Write(kj)
		b.WriteByte(':')
		b.Write(vj)
	}
	b.WriteByte('}')
	return b.String()
}

// handleSignals reads the signals a stack's handle received.
func (s *Service) handleSignals(account, region, stackID, logical string) ([]signal, error) {
	var out []signal
	err := s.store.View(func(tx *store.Tx) error {
		st := new(stack)
		if _, err := tx.Get(stackKey(account, region, stackID), st); err != nil {
			return err
		}
		if r := st.Resources[logical]; r != nil {
			out = r.Signals
		}
		return nil
	})
	return out, err
}
