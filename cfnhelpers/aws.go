package cfnhelpers

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// imdsURL is the instance metadata service, as every EC2 instance sees it.
var imdsURL = "http://169.254.169.254"

// client calls CloudFormation's Query API from an instance.
type client struct {
	http     *http.Client
	endpoint string
	region   string
	creds    aws.Credentials
	// imdsToken is IMDSv2's session token, once fetched ("" before).
	imdsToken string
}

func newHTTPClient(c connArgs) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.httpProxy != "" || c.httpsProxy != "" {
		tr.Proxy = func(r *http.Request) (*url.URL, error) {
			p := c.httpProxy
			if r.URL.Scheme == "https" && c.httpsProxy != "" {
				p = c.httpsProxy
			}
			if p == "" {
				return nil, nil
			}
			return url.Parse(p)
		}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// metadata reads an IMDS path with an IMDSv2 token (taken once), or
// without one when the service gives none (IMDSv1 only).
func (c *client) metadata(ctx context.Context, path string) (string, error) {
	hc := &http.Client{Timeout: 3 * time.Second}
	if c.imdsToken == "" {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, imdsURL+"/latest/api/token", nil)
		req.Header.Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
		if resp, err := hc.Do(req); err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.imdsToken = string(b)
			}
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, imdsURL+path, nil)
	if err != nil {
		return "", err
	}
	if c.imdsToken != "" {
		req.Header.Set("X-aws-ec2-metadata-token", c.imdsToken)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("instance metadata %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("instance metadata %s: HTTP %d", path, resp.StatusCode)
	}
	return strings.TrimSpace(string(b)), nil
}

// newClient finds the region (--region, else the instance's), the
// endpoint (--url, else CloudFormation's in the region) and the
// credentials: the keys given, a credential file, the environment's, the
// instance role's from IMDS (--role, else the instance's profile role);
// without any, a placeholder pair that a cloudbox running with --auth off
// takes as its default account, and strict auth refuses with AWS's error.
func newClient(ctx context.Context, c connArgs, logf func(string, ...any)) (*client, error) {
	cl := &client{http: newHTTPClient(c), region: c.region}
	if cl.region == "" {
		if r, err := cl.metadata(ctx, "/latest/meta-data/placement/region"); err == nil && r != "" {
			cl.region = r
		} else {
			cl.region = "us-east-1"
		}
	}
	cl.endpoint = c.url
	if cl.endpoint == "" {
		suffix := "amazonaws.com"
		if strings.HasPrefix(cl.region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		cl.endpoint = "https://cloudformation." + cl.region + "." + suffix
	}
	creds, err := cl.credentials(ctx, c)
	if err != nil {
		return nil, err
	}
	if creds.AccessKeyID == "" {
		logf("no credentials (no keys given, no instance role): signing with a placeholder key")
		creds = aws.Credentials{AccessKeyID: "cfn-helper", SecretAccessKey: "cfn-helper"}
	}
	cl.creds = creds
	return cl, nil
}

func (cl *client) credentials(ctx context.Context, c connArgs) (aws.Credentials, error) {
	if c.accessKey != "" || c.secretKey != "" {
		if c.accessKey == "" || c.secretKey == "" {
			return aws.Credentials{}, fmt.Errorf("--access-key and --secret-key go together")
		}
		return aws.Credentials{AccessKeyID: c.accessKey, SecretAccessKey: c.secretKey}, nil
	}
	if c.credentialFile != "" {
		return readCredentialFile(c.credentialFile)
	}
	if id, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: os.Getenv("AWS_SESSION_TOKEN")}, nil
	}
	role := c.role
	if role == "" {
		list, err := cl.metadata(ctx, "/latest/meta-data/iam/security-credentials/")
		if err != nil || list == "" {
			return aws.Credentials{}, nil
		}
		role, _, _ = strings.Cut(list, "\n")
	}
	doc, err := cl.metadata(ctx, "/latest/meta-data/iam/security-credentials/"+url.PathEscape(role))
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("the credentials of role %s: %w", role, err)
	}
	var r struct{ AccessKeyId, SecretAccessKey, Token string }
	if err := json.Unmarshal([]byte(doc), &r); err != nil || r.AccessKeyId == "" {
		return aws.Credentials{}, fmt.Errorf("the credentials of role %s: unreadable answer", role)
	}
	return aws.Credentials{AccessKeyID: r.AccessKeyId, SecretAccessKey: r.SecretAccessKey, SessionToken: r.Token}, nil
}

// readCredentialFile reads aws-cfn-bootstrap's credential file:
// AWSAccessKeyId=... and AWSSecretKey=... lines.
func readCredentialFile(name string) (aws.Credentials, error) {
	f, err := os.Open(name)
	if err != nil {
		return aws.Credentials{}, err
	}
	defer f.Close()
	var c aws.Credentials
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		switch strings.TrimSpace(k) {
		case "AWSAccessKeyId":
			c.AccessKeyID = strings.TrimSpace(v)
		case "AWSSecretKey":
			c.SecretAccessKey = strings.TrimSpace(v)
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return c, fmt.Errorf("%s: AWSAccessKeyId and AWSSecretKey are required", name)
	}
	return c, sc.Err()
}

// apiError is an error response of the Query protocol.
type apiError struct {
	Status        int
	Code, Message string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// call makes a signed Query request and decodes the answer's XML into out.
func (cl *client) call(ctx context.Context, action string, params url.Values, out any) error {
	params.Set("Action", action)
	params.Set("Version", "2010-05-15")
	body := params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cl.endpoint, "/")+"/", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, cl.creds, req, hex.EncodeToString(sum[:]), "cloudformation", cl.region, time.Now()); err != nil {
		return err
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = xml.Unmarshal(b, &e)
		if e.Error.Code == "" {
			e.Error.Code, e.Error.Message = resp.Status, strings.TrimSpace(string(b))
		}
		return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	if out == nil {
		return nil
	}
	return xml.Unmarshal(b, out)
}

// resourceMetadata is DescribeStackResource's Metadata of a resource, as
// JSON (null when it has none).
func (cl *client) resourceMetadata(ctx context.Context, stack, logical string) (json.RawMessage, error) {
	md, _, err := cl.resourceDetail(ctx, stack, logical)
	return md, err
}

// resourceDetail is DescribeStackResource's Metadata (JSON, null when
// none) and PhysicalResourceId of a resource.
func (cl *client) resourceDetail(ctx context.Context, stack, logical string) (json.RawMessage, string, error) {
	var out struct {
		Result struct {
			StackResourceDetail struct{ Metadata, PhysicalResourceId string }
		} `xml:"DescribeStackResourceResult"`
	}
	err := cl.call(ctx, "DescribeStackResource", url.Values{"StackName": {stack}, "LogicalResourceId": {logical}}, &out)
	if err != nil {
		return nil, "", err
	}
	d := out.Result.StackResourceDetail
	if d.Metadata == "" {
		return json.RawMessage("null"), d.PhysicalResourceId, nil
	}
	if !json.Valid([]byte(d.Metadata)) {
		return nil, "", fmt.Errorf("the metadata of %s is not JSON", logical)
	}
	return json.RawMessage(d.Metadata), d.PhysicalResourceId, nil
}
