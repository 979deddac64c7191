package cfnhelpers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// runSignal is cfn-signal: a SUCCESS or FAILURE signal for a resource
// (SignalResource) or to a wait condition handle's URL (a PUT of the
// signal's JSON).
func runSignal(ctx context.Context, args []string, stderr io.Writer) int {
	a, err := parseSignal(args)
	if err != nil {
		fmt.Fprintf(stderr, "cfn-signal: error: %v\nusage: cfn-signal [options] [WaitConditionHandle URL]\n"+
			"   or: cfn-signal -e $? --stack NAME --resource LOGICAL_ID [--region REGION]\n", err)
		return 2
	}
	logf := func(f string, x ...any) { fmt.Fprintf(stderr, "cfn-signal: "+f+"\n", x...) }
	status, reason := "SUCCESS", a.reason
	if !a.success {
		status = "FAILURE"
	}
	if reason == "" {
		reason = map[bool]string{true: "Configuration Complete", false: "Configuration failed"}[a.success]
	}
	if a.handleURL != "" {
		cl := &client{http: newHTTPClient(a.conn)}
		id := a.id
		if id == "" {
			id = instanceID(ctx, cl)
		}
		err = retry(ctx, func() error { return putHandle(ctx, cl.http, a.handleURL, status, reason, id, a.data) })
	} else {
		var cl *client
		cl, err = newClient(ctx, a.conn, logf)
		if err == nil {
			id := a.id
			if id == "" {
				id = instanceID(ctx, cl)
			}
			params := url.Values{"StackName": {a.stack}, "LogicalResourceId": {a.resource}, "UniqueId": {id}, "Status": {status}}
			err = retry(ctx, func() error { return cl.call(ctx, "SignalResource", params, nil) })
		}
	}
	if err != nil {
		logf("%v", err)
		return 1
	}
	return 0
}

// instanceID is the signal's default UniqueId: the instance's id, or its
// host name off EC2.
func instanceID(ctx context.Context, cl *client) string {
	if id, err := cl.metadata(ctx, "/latest/meta-data/instance-id"); err == nil && id != "" {
		return id
	}
	h, _ := os.Hostname()
	return h
}

// putHandle sends a signal to a wait condition handle's presigned URL.
func putHandle(ctx context.Context, hc *http.Client, handle, status, reason, id, data string) error {
	body, _ := json.Marshal(map[string]string{"Status": status, "Reason": reason, "UniqueId": id, "Data": data})
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, handle, bytes.NewReader(body))
	if err != nil {
		return permanent{err}
	}
	// The URL is presigned without a content type: none must be sent.
	req.Header.Set("Content-Type", "")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return nil
	}
	e := &apiError{Status: resp.StatusCode, Code: resp.Status, Message: string(bytes.TrimSpace(b))}
	if resp.StatusCode < 500 {
		return permanent{e}
	}
	return e
}

// permanent marks an error that trying again cannot cure.
type permanent struct{ error }

func (p permanent) Unwrap() error { return p.error }

// retry tries a request up to five times over about half a minute while
// the failure may pass (no route yet, a 5xx, throttling), as the real
// helpers do, since user data often runs while the network settles.
func retry(ctx context.Context, f func() error) error {
	delay := time.Second
	var err error
	for i := 0; i < 5; i++ {
		if err = f(); err == nil {
			return nil
		}
		var p permanent
		var ae *apiError
		if errors.As(err, &p) || errors.As(err, &ae) && ae.Status < 500 && ae.Code != "Throttling" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay *= 2
	}
	return err
}
