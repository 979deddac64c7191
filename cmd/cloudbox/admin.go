package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cloudbox/cloudbox/daemon"
)

// errNoDaemon says nothing listens at the endpoint: down and reset then
// act on the data directory themselves.
var errNoDaemon = errors.New("no daemon")

// adminPost sends a mutation (reset, down) to the daemon at endpoint with
// the admin token of dataDir. It refuses, before sending anything, when
// that daemon serves another data directory: a second tool's `cloudbox
// down` must not remove a world it did not make.
func adminPost(endpoint, dataDir, path string, timeout time.Duration) error {
	url := endpointURL(endpoint)
	in, err := getInfo(endpoint)
	if errors.Is(err, errNoDaemon) {
		return err
	}
	if err != nil {
		return err
	}
	want, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	if in.DataDir != "" && filepath.Clean(in.DataDir) != want {
		return fmt.Errorf("the daemon at %s serves the data directory %s, not %s: refusing to act on another daemon's world (pass --data-dir %s if it is yours)", url, in.DataDir, want, in.DataDir)
	}
	token := os.Getenv("CLOUDBOX_ADMIN_TOKEN")
	if token == "" {
		b, err := os.ReadFile(filepath.Join(want, daemon.AdminTokenFile))
		if err != nil {
			return fmt.Errorf("the daemon's admin token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	req, err := http.NewRequest(http.MethodPost, url+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set(daemon.AdminTokenHeader, token)
	// A daemon under --auth strict also wants to know who asks: the
	// request is signed with the environment's key (test/test without
	// one), which it accepts only from an account root.
	creds := aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: os.Getenv("AWS_SECRET_ACCESS_KEY"),
		SessionToken: os.Getenv("AWS_SESSION_TOKEN")}
	if creds.AccessKeyID == "" || creds.SecretAccessKey == "" {
		creds = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	}
	const emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptyHash, "cloudbox", "us-east-1", time.Now()); err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	b, _ := io.ReadAll(resp.Body)
	var refusal struct{ Message string }
	if json.Unmarshal(b, &refusal) == nil && refusal.Message != "" {
		return fmt.Errorf("%s: %s", resp.Status, refusal.Message)
	}
	return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
}
