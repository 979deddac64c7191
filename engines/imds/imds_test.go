package imds

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// fake is a Source over a fixed world; it counts credential mints.
type fake struct {
	world *desired.World
	byIP  map[netip.Addr]string

	mu       sync.Mutex
	profiles map[string]desired.InstanceProfile // by ARN, as IAM has them
	mints    int
	minted   []string // the role of each mint
	now      func() time.Time
}

func (f *fake) InstanceByIP(ip netip.Addr) (*desired.Instance, *desired.World) {
	id, ok := f.byIP[ip]
	if !ok {
		return nil, nil
	}
	return f.world.FindInstance(id), f.world
}

func (f *fake) Profile(inst *desired.Instance) (desired.InstanceProfile, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.profiles[inst.InstanceProfileARN]
	return p, ok, nil
}

func (f *fake) Credentials(inst *desired.Instance, p desired.InstanceProfile) (Credentials, error) {
	if p.Role == "" {
		return Credentials{}, errors.New("no role")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mints++
	f.minted = append(f.minted, p.Role)
	return Credentials{
		AccessKeyID:     "ASIAFAKE" + string(rune('0'+f.mints)),
		SecretAccessKey: "secret",
		Token:           "session-token",
		Expiration:      f.now().Add(time.Hour),
	}, nil
}

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func newFake(now func() time.Time) *fake {
	w := &desired.World{
		VPCs: []*desired.VPC{{
			ID: "vpc-1", Account: "123456789012", Region: "ap-northeast-2",
			CIDRs:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16"), netip.MustParsePrefix("10.1.0.0/16")},
			Subnets: []*desired.Subnet{{ID: "subnet-1", AZ: "ap-northeast-2a", CIDR: netip.MustParsePrefix("10.0.1.0/24")}},
			ENIs: []*desired.ENI{
				{ID: "eni-1", Subnet: "subnet-1", MAC: mac("02:00:00:00:00:01"),
					PrivateIPs: []netip.Addr{addr("10.0.1.54"), addr("10.0.1.55")},
					PublicIPs:  map[netip.Addr]netip.Addr{addr("10.0.1.54"): addr("198.18.3.4")},
					Groups:     []string{"sg-1", "sg-2"}, OwnerKind: desired.OwnerInstance, OwnerID: "i-1"},
				{ID: "eni-2", Subnet: "subnet-1", MAC: mac("02:00:00:00:00:02"),
					PrivateIPs: []netip.Addr{addr("10.0.1.99")}, Groups: []string{"sg-1"},
					OwnerKind: desired.OwnerInstance, OwnerID: "i-1", DeviceIndex: 1},
				{ID: "eni-3", Subnet: "subnet-1", MAC: mac("02:00:00:00:00:03"),
					PrivateIPs: []netip.Addr{addr("10.0.1.60")}, Groups: []string{"sg-1"},
					OwnerKind: desired.OwnerInstance, OwnerID: "i-2"},
			},
		}},
		Instances: []*desired.Instance{
			{ID: "i-1", Account: "123456789012", Region: "ap-northeast-2", VPC: "vpc-1", AZ: "ap-northeast-2a",
				State: "running", ImageID: "ami-1", InstanceType: "t2.micro", UserData: []byte("#!/bin/sh\necho hi\n"),
				KeyName: "k1", PublicKey: "ssh-ed25519 AAAA k1", ReservationID: "r-1", LaunchIndex: 0,
				PrivateDNSName:     "ip-10-0-1-54.ap-northeast-2.compute.internal",
				PublicDNSName:      "ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com",
				ENIs:               []string{"eni-1", "eni-2"},
				InstanceProfileARN: "arn:aws:iam::123456789012:instance-profile/web"},
			{ID: "i-2", Account: "123456789012", Region: "ap-northeast-2", VPC: "vpc-1", AZ: "ap-northeast-2a",
				State: "running", ImageID: "ami-1", InstanceType: "t3.small", ReservationID: "r-2", LaunchIndex: 1,
				PrivateDNSName: "ip-10-0-1-60.ap-northeast-2.compute.internal", ENIs: []string{"eni-3"}},
		},
	}
	web := desired.InstanceProfile{ARN: "arn:aws:iam::123456789012:instance-profile/web", ID: "AIPAWEB",
		Role: "web-role", RoleARN: "arn:aws:iam::123456789012:role/web-role", RoleID: "AROAWEB"}
	return &fake{world: w, now: now, profiles: map[string]desired.InstanceProfile{web.ARN: web}, byIP: map[netip.Addr]string{
		addr("10.0.1.54"): "i-1", addr("10.0.1.99"): "i-1", addr("10.0.1.60"): "i-2", addr("127.0.0.1"): "i-1",
	}}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	srv   *Server
	src   *fake
	clk   *clock
	opts  map[string]MetadataOptions
	optMu sync.Mutex
}

func newEnv() *env {
	e := &env{clk: &clock{t: t0}, opts: map[string]MetadataOptions{}}
	e.src = newFake(e.clk.Now)
	e.srv = New(e.src, Options{Now: e.clk.Now, MetadataOptions: func(in *desired.Instance) MetadataOptions {
		e.optMu.Lock()
		defer e.optMu.Unlock()
		return e.opts[in.ID]
	}})
	return e
}

// do sends a request from source address from.
func (e *env) do(method, from, path string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://169.254.169.254"+path, nil)
	r.RemoteAddr = from + ":40000"
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	return w
}

func (e *env) token(t *testing.T, from string, ttl string) string {
	t.Helper()
	w := e.do("PUT", from, "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": ttl})
	if w.Code != 200 || w.Body.Len() == 0 {
		t.Fatalf("PUT token from %s: %d %q", from, w.Code, w.Body)
	}
	if got := w.Header().Get("X-aws-ec2-metadata-token-ttl-seconds"); got != ttl {
		t.Fatalf("token ttl header %q, want %q", got, ttl)
	}
	return w.Body.String()
}

func get(t *testing.T, e *env, from, path string, hdr map[string]string, wantCode int) string {
	t.Helper()
	w := e.do("GET", from, path, hdr)
	if w.Code != wantCode {
		t.Fatalf("GET %s from %s: %d, want %d (%q)", path, from, w.Code, wantCode, w.Body)
	}
	return w.Body.String()
}

func TestTokenRequest(t *testing.T) {
	e := newEnv()
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no ttl", nil, 400},
		{"zero ttl", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "0"}, 400},
		{"ttl too long", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "21601"}, 400},
		{"ttl not a number", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "ten"}, 400},
		{"forwarded", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60", "X-Forwarded-For": "10.0.1.1"}, 403},
		{"max ttl", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, 200},
	} {
		if w := e.do("PUT", "10.0.1.54", "/latest/api/token", tc.hdr); w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
	}
	if w := e.do("GET", "10.0.1.54", "/latest/api/token", nil); w.Code != 405 {
		t.Errorf("GET token: %d, want 405", w.Code)
	}
	if w := e.do("PUT", "10.0.1.54", "/latest/meta-data/", nil); w.Code != 405 {
		t.Errorf("PUT meta-data: %d, want 405", w.Code)
	}
}

func TestTokenChecks(t *testing.T) {
	e := newEnv()
	tok := e.token(t, "10.0.1.54", "60")
	withTok := map[string]string{"X-aws-ec2-metadata-token": tok}

	if got := get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", withTok, 200); got != "i-1" {
		t.Errorf("instance-id = %q", got)
	}
	// A token is good from any address of its instance, and only there.
	get(t, e, "10.0.1.99", "/latest/meta-data/instance-id", withTok, 200)
	get(t, e, "10.0.1.60", "/latest/meta-data/instance-id", withTok, 401)
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": "bogus"}, 401)
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok[:len(tok)-2] + "AA"}, 401)

	e.clk.Add(59 * time.Second)
	if w := e.do("GET", "10.0.1.54", "/latest/meta-data/", withTok); w.Code != 200 || w.Header().Get("X-aws-ec2-metadata-token-ttl-seconds") != "1" {
		t.Errorf("before expiry: %d, ttl left %q", w.Code, w.Header().Get("X-aws-ec2-metadata-token-ttl-seconds"))
	}
	e.clk.Add(time.Second)
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", withTok, 401)
	// IMDSv1 still works while tokens are optional.
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", nil, 200)
}

func TestTokensRequiredAndDisabled(t *testing.T) {
	e := newEnv()
	e.opts["i-1"] = MetadataOptions{HTTPTokens: "required", HTTPEndpoint: "enabled"}
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", nil, 401)
	tok := e.token(t, "10.0.1.54", "300")
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", map[string]string{"X-aws-ec2-metadata-token": tok}, 200)
	// Other instances keep their own options.
	get(t, e, "10.0.1.60", "/latest/meta-data/instance-id", nil, 200)

	e.opts["i-1"] = MetadataOptions{HTTPEndpoint: "disabled"}
	get(t, e, "10.0.1.54", "/latest/meta-data/instance-id", nil, 403)
	if w := e.do("PUT", "10.0.1.54", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}); w.Code != 403 {
		t.Errorf("token with endpoint disabled: %d, want 403", w.Code)
	}
}

func TestUnknownCaller(t *testing.T) {
	e := newEnv()
	get(t, e, "10.0.9.9", "/latest/meta-data/instance-id", nil, 403)
	if w := e.do("PUT", "10.0.9.9", "/latest/api/token", map[string]string{"X-aws-ec2-metadata-token-ttl-seconds": "60"}); w.Code != 403 {
		t.Errorf("token from unknown caller: %d, want 403", w.Code)
	}
}

func TestListingsAndValues(t *testing.T) {
	e := newEnv()
	want := strings.Join([]string{
		"ami-id", "ami-launch-index", "ami-manifest-path", "block-device-mapping/", "hostname", "iam/",
		"instance-action", "instance-id", "instance-life-cycle", "instance-type", "local-hostname",
		"local-ipv4", "mac", "network/", "placement/", "profile", "public-hostname", "public-ipv4",
		"public-keys/", "reservation-id", "security-groups", "services/",
	}, "\n")
	for _, p := range []string{"/latest/meta-data/", "/latest/meta-data", "/2021-07-15/meta-data/"} {
		if got := get(t, e, "10.0.1.54", p, nil, 200); got != want {
			t.Errorf("%s =\n%s\nwant\n%s", p, got, want)
		}
	}
	values := map[string]string{
		"/":                                             "", // checked below
		"/latest/":                                      "dynamic\nmeta-data\nuser-data",
		"/latest/meta-data/ami-id":                      "ami-1",
		"/latest/meta-data/ami-launch-index":            "0",
		"/latest/meta-data/hostname":                    "ip-10-0-1-54.ap-northeast-2.compute.internal",
		"/latest/meta-data/local-hostname":              "ip-10-0-1-54.ap-northeast-2.compute.internal",
		"/latest/meta-data/instance-type":               "t2.micro",
		"/latest/meta-data/local-ipv4":                  "10.0.1.54",
		"/latest/meta-data/mac":                         "02:00:00:00:00:01",
		"/latest/meta-data/public-ipv4":                 "198.18.3.4",
		"/latest/meta-data/public-hostname":             "ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com",
		"/latest/meta-data/reservation-id":              "r-1",
		"/latest/meta-data/security-groups":             "sg-1\nsg-2",
		"/latest/meta-data/placement/":                  "availability-zone\nregion",
		"/latest/meta-data/placement/region":            "ap-northeast-2",
		"/latest/meta-data/placement/availability-zone": "ap-northeast-2a",
		"/latest/meta-data/public-keys/":                "0=k1",
		"/latest/meta-data/public-keys/0/":              "openssh-key",
		"/latest/meta-data/public-keys/0/openssh-key":   "ssh-ed25519 AAAA k1",
		"/latest/meta-data/network/":                    "interfaces/",
		"/latest/meta-data/network/interfaces/macs/":    "02:00:00:00:00:01/\n02:00:00:00:00:02/",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/": strings.Join([]string{
			"device-number", "interface-id", "ipv4-associations/", "local-hostname", "local-ipv4s", "mac",
			"owner-id", "public-hostname", "public-ipv4s", "security-group-ids", "security-groups",
			"subnet-id", "subnet-ipv4-cidr-block", "vpc-id", "vpc-ipv4-cidr-block", "vpc-ipv4-cidr-blocks",
		}, "\n"),
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/local-ipv4s":                  "10.0.1.54\n10.0.1.55",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/public-ipv4s":                 "198.18.3.4",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/ipv4-associations/198.18.3.4": "10.0.1.54",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/security-group-ids":           "sg-1\nsg-2",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/vpc-ipv4-cidr-blocks":         "10.0.0.0/16\n10.1.0.0/16",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/vpc-ipv4-cidr-block":          "10.0.0.0/16",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:01/subnet-ipv4-cidr-block":       "10.0.1.0/24",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/device-number":                "1",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/interface-id":                 "eni-2",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/local-hostname":               "ip-10-0-1-99.ap-northeast-2.compute.internal",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/subnet-id":                    "subnet-1",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:02/vpc-id":                       "vpc-1",
		"/latest/meta-data/iam/":                      "info\nsecurity-credentials/",
		"/latest/meta-data/iam/security-credentials/": "web-role",
		"/latest/user-data":                           "#!/bin/sh\necho hi\n",
		"/latest/dynamic/instance-identity/":          "document",
		"/latest/meta-data/services/domain":           "amazonaws.com",
	}
	for p, v := range values {
		got := get(t, e, "10.0.1.54", p, nil, 200)
		if p == "/" {
			if !strings.HasPrefix(got, "1.0\n") || !strings.HasSuffix(got, "\nlatest") {
				t.Errorf("/ = %q", got)
			}
			continue
		}
		if got != v {
			t.Errorf("%s = %q, want %q", p, got, v)
		}
	}
	w := e.do("GET", "10.0.1.54", "/latest/meta-data/instance-id", nil)
	if ct := w.Header().Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type %q", ct)
	}
	if w := e.do("HEAD", "10.0.1.54", "/latest/meta-data/instance-id", nil); w.Code != 200 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", w.Code, w.Body)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv()
	for _, p := range []string{
		"/latest/meta-data/nope", "/latest/meta-data/instance-id/extra", "/1999-01-01/meta-data/",
		"/latest/meta-data/network/interfaces/macs/02:00:00:00:00:09/",
	} {
		get(t, e, "10.0.1.54", p, nil, 404)
	}
	// i-2: no role, no public address, no key, no user data.
	for _, p := range []string{
		"/latest/meta-data/iam/", "/latest/meta-data/iam/security-credentials/web-role", "/latest/user-data",
		"/latest/meta-data/public-ipv4", "/latest/meta-data/public-hostname", "/latest/meta-data/public-keys/",
	} {
		get(t, e, "10.0.1.60", p, nil, 404)
	}
	if got := get(t, e, "10.0.1.60", "/latest/", nil, 200); got != "dynamic\nmeta-data" {
		t.Errorf("/latest/ without user data = %q", got)
	}
}

func TestCredentials(t *testing.T) {
	e := newEnv()
	var c struct {
		Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration string
	}
	read := func() {
		t.Helper()
		body := get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/web-role", nil, 200)
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if c.Code != "Success" || c.Type != "AWS-HMAC" || c.AccessKeyId != "ASIAFAKE1" || c.SecretAccessKey != "secret" ||
		c.Token != "session-token" || c.Expiration != "2025-03-01T13:00:00Z" || c.LastUpdated != "2025-03-01T12:00:00Z" {
		t.Errorf("credentials %+v", c)
	}
	// Served again unchanged until close to expiry, then replaced.
	e.clk.Add(30 * time.Minute)
	read()
	if c.AccessKeyId != "ASIAFAKE1" {
		t.Errorf("credentials re-minted early: %s", c.AccessKeyId)
	}
	e.clk.Add(15 * time.Minute)
	read()
	if c.AccessKeyId != "ASIAFAKE2" || c.Expiration != "2025-03-01T13:45:00Z" {
		t.Errorf("credentials not rotated: %+v", c)
	}

	var info struct{ Code, LastUpdated, InstanceProfileArn, InstanceProfileId string }
	if err := json.Unmarshal([]byte(get(t, e, "10.0.1.54", "/latest/meta-data/iam/info", nil, 200)), &info); err != nil {
		t.Fatal(err)
	}
	if info.Code != "Success" || info.InstanceProfileArn != "arn:aws:iam::123456789012:instance-profile/web" || info.InstanceProfileId != "AIPAWEB" {
		t.Errorf("iam/info %+v", info)
	}
}

// TestProfileChanges follows the profile as IAM and EC2 change it: the
// listing names the role the profile holds now, a profile without a role
// lists none and has no iam/info, and another role's credentials are
// minted at once rather than served from the cache.
func TestProfileChanges(t *testing.T) {
	e := newEnv()
	const web = "arn:aws:iam::123456789012:instance-profile/web"
	setRole := func(role string) {
		e.src.mu.Lock()
		defer e.src.mu.Unlock()
		p := e.src.profiles[web]
		p.Role, p.RoleID = role, "AROA"+strings.ToUpper(role)
		e.src.profiles[web] = p
	}
	get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/web-role", nil, 200)

	setRole("")
	if got := get(t, e, "10.0.1.54", "/latest/meta-data/iam/", nil, 200); got != "security-credentials/" {
		t.Errorf("iam/ of a profile without a role = %q", got)
	}
	if got := get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/", nil, 200); got != "" {
		t.Errorf("security-credentials/ of a profile without a role = %q", got)
	}
	get(t, e, "10.0.1.54", "/latest/meta-data/iam/info", nil, 404)
	get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/web-role", nil, 404)

	setRole("S3_ReadOnly_Role")
	if got := get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/", nil, 200); got != "S3_ReadOnly_Role" {
		t.Errorf("security-credentials/ = %q, want the profile's new role", got)
	}
	get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/S3_ReadOnly_Role", nil, 200)
	e.src.mu.Lock()
	minted := strings.Join(e.src.minted, ",")
	e.src.mu.Unlock()
	if minted != "web-role,S3_ReadOnly_Role" {
		t.Errorf("minted for %s, want web-role then S3_ReadOnly_Role", minted)
	}

	// An instance whose profile IAM no longer has lists no role either.
	e.src.mu.Lock()
	delete(e.src.profiles, web)
	e.src.mu.Unlock()
	if got := get(t, e, "10.0.1.54", "/latest/meta-data/iam/security-credentials/", nil, 200); got != "" {
		t.Errorf("security-credentials/ of a deleted profile = %q", got)
	}
}

func TestIdentityDocument(t *testing.T) {
	e := newEnv()
	var doc map[string]any
	if err := json.Unmarshal([]byte(get(t, e, "10.0.1.54", "/latest/dynamic/instance-identity/document", nil, 200)), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{
		"accountId": "123456789012", "availabilityZone": "ap-northeast-2a", "imageId": "ami-1",
		"instanceId": "i-1", "instanceType": "t2.micro", "privateIp": "10.0.1.54",
		"region": "ap-northeast-2", "version": "2017-09-30", "kernelId": nil,
	} {
		if got, ok := doc[k]; !ok || got != v {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
}

// TestBotocoreFetcher checks that botocore's own IMDS client, on the
// IMDSv2 path (tokens are required), reads the role's credentials.
func TestBotocoreFetcher(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	if exec.Command(py, "-c", "import botocore.utils").Run() != nil {
		t.Skip("no botocore")
	}
	e := newEnv()
	e.opts["i-1"] = MetadataOptions{HTTPTokens: "required"}
	// The clock must be real: botocore rejects credentials that look expired.
	e.clk.Add(time.Since(t0))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: e.srv}
	go hs.Serve(ln)
	defer hs.Close()

	script := `
import json, sys
from botocore.utils import InstanceMetadataFetcher
f = InstanceMetadataFetcher(timeout=2, num_attempts=1, base_url=sys.argv[1])
print(json.dumps(f.retrieve_iam_role_credentials()))
`
	cmd := exec.Command(py, "-c", script, "http://"+ln.Addr().String()+"/")
	cmd.Env = append(os.Environ(), "NO_PROXY=*", "no_proxy=*", "AWS_EC2_METADATA_DISABLED=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var got map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	if got["role_name"] != "web-role" || got["access_key"] != "ASIAFAKE1" || got["secret_key"] != "secret" ||
		got["token"] != "session-token" || got["expiry_time"] == "" {
		t.Errorf("botocore got %v", got)
	}
}
