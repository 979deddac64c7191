package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// 6. --auth strict: signatures are checked. A wrong secret is
// SignatureDoesNotMatch, an unknown key InvalidClientTokenId, an unsigned
// request MissingAuthenticationToken; presigned URLs work until they expire.
func TestStrictAuth(t *testing.T) {
	t.Parallel()
	bob := Key{AccessKeyID: "AKIABOB0000000000001", SecretAccessKey: "bob-secret", Account: "444444444444", User: "bob"}
	c := startInProcess(t, Opts{Auth: "strict", Keys: []Key{bob}})
	bobARN := "arn:aws:iam::444444444444:user/bob"

	wrongSecret := bob.Creds()
	wrongSecret.SecretAccessKey = "not-bob-secret"
	unknownKey := Creds{AccessKeyID: "AKIANOBODY0000000001", SecretAccessKey: "whatever"}
	cases := []struct {
		name  string
		creds Creds
		code  string
	}{
		{"wrong secret", wrongSecret, "SignatureDoesNotMatch"},
		{"wrong secret for test", Creds{AccessKeyID: "test", SecretAccessKey: "tset"}, "SignatureDoesNotMatch"},
		{"unknown key", unknownKey, "InvalidClientTokenId"},
		{"unknown account key", accountCreds("123456789012"), "InvalidClientTokenId"},
	}

	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			t.Run("right secret", func(t *testing.T) {
				t.Parallel()
				checkIdentity(t, identityFrom(c.awsOK(t, cli, bob.Creds(), "sts", "get-caller-identity")), "444444444444", bobARN, "AIDA")
			})
			for _, tc := range cases[:3] {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					if e := c.awsErr(t, cli, tc.creds, "sts", "get-caller-identity"); e.Code != tc.code {
						t.Errorf("%+v, want %s", e, tc.code)
					}
				})
			}
		})
	}

	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		args := map[string]any{"right secret": bob.Creds().py()}
		for _, tc := range cases {
			args[tc.name] = tc.creds.py()
		}
		out := c.boto(t, testCreds, `
emit({name: call(client("sts", cr).get_caller_identity) for name, cr in ARGS.items()})
`, args)
		if r := out["right secret"]; r.Error != nil {
			t.Errorf("right secret: %+v", r)
		} else {
			checkIdentity(t, identityFrom(r.Result), "444444444444", bobARN, "AIDA")
		}
		for _, tc := range cases {
			if r := out[tc.name]; r.Error == nil || r.Error.Code != tc.code || r.Status != http.StatusForbidden {
				t.Errorf("%s: %+v, want 403 %s", tc.name, r, tc.code)
			}
		}
	})

	t.Run("sdk-go-v2", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		out, err := sts.NewFromConfig(c.sdk(bob.Creds())).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		checkIdentity(t, Identity{aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId)}, "444444444444", bobARN, "AIDA")
		for _, tc := range cases {
			_, err := sts.NewFromConfig(c.sdk(tc.creds)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if e := sdkErr(t, err); e.Code != tc.code || e.Status != http.StatusForbidden {
				t.Errorf("%s: %+v, want 403 %s", tc.name, e, tc.code)
			}
		}
	})

	t.Run("unsigned", func(t *testing.T) {
		t.Parallel()
		resp := c.do(t, Raw{Unsigned: true, Header: map[string]string{"Content-Type": formType}, Body: "Action=GetCallerIdentity&Version=2011-06-15"})
		e := queryError(t, resp.Body)
		if resp.Status != http.StatusForbidden || e.Code != "MissingAuthenticationToken" || requestID(resp.Header) == "" {
			t.Errorf("HTTP %d %+v, want 403 MissingAuthenticationToken with a request id", resp.Status, e)
		}
	})

	// A presigned GetCallerIdentity URL (as EKS tokens are made) is good
	// until X-Amz-Date + X-Amz-Expires, and refused after.
	t.Run("boto3 presigned", func(t *testing.T) {
		t.Parallel()
		// boto3 signs a presigned URL for the operation's own method (POST
		// for STS) unless told HttpMethod="GET". X-Amz-Date has whole
		// seconds, so the 1-second URL is signed just after a second
		// begins, leaving most of that second to fetch it "immediately".
		var urls struct {
			Short, Long, Post string
			Signed            float64
		}
		c.python(t, bob.Creds(), `
sts = client("sts")
long = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300, HttpMethod="GET")
post = sts.generate_presigned_url("get_caller_identity", ExpiresIn=300)
time.sleep(1.02 - time.time() % 1)
signed = time.time()
short = sts.generate_presigned_url("get_caller_identity", ExpiresIn=1, HttpMethod="GET")
emit({"Short": short, "Long": long, "Post": post, "Signed": signed})
sys.stdout.flush()
os._exit(0)  # skip the interpreter's slow teardown: the clock is running
`, nil, &urls)
		signed := time.Unix(0, int64(urls.Signed*1e9))
		for _, u := range []string{urls.Short, urls.Long, urls.Post} {
			if !strings.HasPrefix(u, c.URL+"/?") || !strings.Contains(u, "X-Amz-Signature=") {
				t.Fatalf("presigned URL %q is not for %s", u, c.URL)
			}
		}
		t.Logf("fetching the 1-second URL %v after signing it", time.Since(signed).Round(time.Millisecond))
		checkPresigned(t, c, http.MethodGet, urls.Short, nil, bobARN)
		checkPresigned(t, c, http.MethodGet, urls.Long, nil, bobARN)
		checkPresigned(t, c, http.MethodPost, urls.Post, nil, bobARN)

		time.Sleep(time.Until(signed.Add(2 * time.Second)))
		resp := c.get(t, mustRequest(t, http.MethodGet, urls.Short))
		e := queryError(t, resp.Body)
		// AWS's common errors: RequestExpired, HTTP 400, also "more than 15
		// minutes after the request expiration date (such as for pre-signed URLs)".
		if resp.Status != http.StatusBadRequest || e.Code != "RequestExpired" {
			t.Errorf("expired presigned URL: HTTP %d %+v, want 400 RequestExpired", resp.Status, e)
		}
		// The long one is still good.
		checkPresigned(t, c, http.MethodGet, urls.Long, nil, bobARN)
	})

	t.Run("sdk-go-v2 presigned", func(t *testing.T) {
		t.Parallel()
		p, err := sts.NewPresignClient(sts.NewFromConfig(c.sdk(bob.Creds()))).PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		checkPresigned(t, c, p.Method, p.URL, p.SignedHeader, bobARN)
	})
}

// checkPresigned fetches a presigned GetCallerIdentity URL and requires it
// to name arn.
func checkPresigned(t *testing.T, c *Cloud, method, url string, header http.Header, arn string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if !strings.EqualFold(k, "Host") {
			req.Header[k] = v
		}
	}
	resp := c.get(t, req)
	if resp.Status != http.StatusOK || !strings.Contains(resp.Body, "<Arn>"+arn+"</Arn>") {
		t.Errorf("%s presigned URL: HTTP %d, want 200 naming %s:\n%s", method, resp.Status, arn, resp.Body)
	}
}
