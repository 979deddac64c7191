package iam

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/policy"
)

// TestManagedCatalog checks the managed policy files: each parses, is
// named for its policy, has the ARN its path and name make, and the
// policies the issue asks for are there.
func TestManagedCatalog(t *testing.T) {
	byARN, list, err := loadManaged()
	if err != nil {
		t.Fatal(err)
	}
	if len(byARN) != len(list) {
		t.Errorf("%d ARNs for %d files", len(byARN), len(list))
	}
	for _, arn := range []string{
		"arn:aws:iam::aws:policy/AdministratorAccess",
		"arn:aws:iam::aws:policy/PowerUserAccess",
		"arn:aws:iam::aws:policy/ReadOnlyAccess",
		"arn:aws:iam::aws:policy/AmazonS3FullAccess",
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
		"arn:aws:iam::aws:policy/AmazonEC2FullAccess",
		"arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess",
		"arn:aws:iam::aws:policy/AmazonRDSFullAccess",
		"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
		"arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
		"arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
		"arn:aws:iam::aws:policy/AmazonElastiCacheFullAccess",
		"arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy",
		"arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy",
		"arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy",
	} {
		p, ok := byARN[arn]
		if !ok {
			t.Errorf("no %s", arn)
			continue
		}
		if p.Description == "" || !regexp.MustCompile(`^ANPA[A-Z0-9]{17}$`).MatchString(p.ID) || p.Created.IsZero() || p.Updated.Before(p.Created) {
			t.Errorf("%s: %+v", arn, p)
		}
	}
	// Every document is valid as IAM validates managed policies, but for
	// the customer quota on their size, which AWS's own exceed.
	for _, p := range list {
		_, err := policy.Parse(policy.Managed, p.Versions[0].Document)
		var ae *api.Error
		if err != nil && !(errors.As(err, &ae) && ae.Code == "LimitExceeded" && policy.Size(p.Versions[0].Document) > policy.ManagedPolicySize) {
			t.Errorf("%s: %v", p.arn(""), err)
		}
	}
	for _, ls := range linkedServices {
		if p, ok := byARN[ls.policy]; !ok || !p.serviceRolePolicy() {
			t.Errorf("service-linked role %s: policy %s is not a service role policy here", ls.role, ls.policy)
		}
	}
	// ReadOnlyAccess is kept whole: every read-only action group AWS
	// publishes (v182: 3 statements, 2,744 actions and wildcards).
	ro := byARN["arn:aws:iam::aws:policy/ReadOnlyAccess"]
	var d struct{ Statement []struct{ Action []string } }
	json.Unmarshal([]byte(ro.Versions[0].Document), &d)
	n := 0
	for _, s := range d.Statement {
		n += len(s.Action)
	}
	if ro.Default != "v182" || len(d.Statement) != 3 || n != 2744 {
		t.Errorf("ReadOnlyAccess %s: %d statements, %d actions", ro.Default, len(d.Statement), n)
	}
}

func TestParseManagedRefuses(t *testing.T) {
	for name, f := range map[string]string{
		"unknown field": `{"PolicyName":"X","Arn":"arn:aws:iam::aws:policy/X","Path":"/","DefaultVersionId":"v1","Document":{},"Extra":1}`,
		"wrong ARN":     `{"PolicyName":"X","Arn":"arn:aws:iam::aws:policy/Y","Path":"/","DefaultVersionId":"v1","Document":{}}`,
		"bad version":   `{"PolicyName":"X","Arn":"arn:aws:iam::aws:policy/X","Path":"/","DefaultVersionId":"1","Document":{}}`,
		"bad document":  `{"PolicyName":"X","Arn":"arn:aws:iam::aws:policy/X","Path":"/","DefaultVersionId":"v1","Document":[]}`,
	} {
		if _, err := parseManaged([]byte(f)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestEncodeDocument(t *testing.T) {
	for in, want := range map[string]string{
		`{"Action": "s3:*"}`: "%7B%22Action%22%3A%20%22s3%3A%2A%22%7D",
		"a+b/c~d_e-f.g\n":    "a%2Bb%2Fc~d_e-f.g%0A",
		"é":                  "%C3%A9",
	} {
		if got := encodeDocument(in); got != want {
			t.Errorf("encodeDocument(%q) = %s, want %s", in, got, want)
		}
	}
}

// FuzzEncodeDocument: every document comes back whole through the
// decoding clients apply (botocore's unquote, Go's QueryUnescape).
func FuzzEncodeDocument(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`)
	f.Add("a b+c%d\x00\xff")
	f.Fuzz(func(t *testing.T, doc string) {
		enc := encodeDocument(doc)
		back, err := url.QueryUnescape(enc)
		if err != nil || back != doc {
			t.Fatalf("%q -> %q -> %q, %v", doc, enc, back, err)
		}
		if strings.ContainsAny(enc, "+ /{}\"") {
			t.Fatalf("%q left unescaped characters: %q", doc, enc)
		}
	})
}

// FuzzNamesAndPaths: the checks never panic, and what they accept is
// within IAM's patterns.
func FuzzNamesAndPaths(f *testing.F) {
	for _, s := range []string{"alice", "bad name", "/", "/a/b/", "a/", "//", "/a b/", "/\x7f/", "v1", "v2.x", "my-alias", "a--b", "",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::123456789012:policy/p", "arn:aws:iam::aws:policy/"} {
		f.Add(s)
	}
	name := regexp.MustCompile(`^[A-Za-z0-9_+=,.@-]+$`)
	f.Fuzz(func(t *testing.T, s string) {
		if checkName("userName", s) == nil && !name.MatchString(s) {
			t.Fatalf("name %q accepted", s)
		}
		if p, err := pathOf(&s); err == nil {
			if p != s || !strings.HasPrefix(s, "/") || !strings.HasSuffix(s, "/") || strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
				t.Fatalf("path %q accepted", s)
			}
		}
		if _, err := policyPathOf(&s); err == nil {
			if _, err := pathOf(&s); err != nil || strings.Contains(s, "//") {
				t.Fatalf("policy path %q accepted", s)
			}
		}
		if p, err := pathPrefixOf(&s); err == nil && (p != s || !strings.HasPrefix(s, "/")) {
			t.Fatalf("path prefix %q accepted", s)
		}
		if checkAlias(s) == nil && (len(s) < 3 || len(s) > 63 || strings.Contains(s, "--") || strings.HasPrefix(s, "-") || strings.HasSuffix(s, "-")) {
			t.Fatalf("alias %q accepted", s)
		}
		if checkVersionID(s) == nil && !strings.HasPrefix(s, "v") {
			t.Fatalf("version %q accepted", s)
		}
		if owner, path, name, err := parsePolicyARN(s); err == nil {
			if a := "arn:" + strings.SplitN(s, ":", 3)[1] + ":iam::" + owner + ":policy" + path + name; a != s || !strings.HasPrefix(path, "/") || !strings.HasSuffix(path, "/") {
				t.Fatalf("policy ARN %q split into %q %q %q", s, owner, path, name)
			}
		}
	})
}

// FuzzMarker: any marker a client sends is refused or resumes a listing
// somewhere; a marker cloudbox made resumes where it said.
func FuzzMarker(f *testing.F) {
	f.Add("cb1.dXNlcjM", "user3")
	f.Add("garbage", "")
	f.Add("cb1.", "\xff")
	f.Fuzz(func(t *testing.T, marker, pos string) {
		if _, err := decodeMarker(marker); err == nil && !strings.HasPrefix(marker, markerPrefix) {
			t.Fatalf("marker %q accepted", marker)
		}
		got, err := decodeMarker(encodeMarker(pos))
		if err != nil || got != pos {
			t.Fatalf("position %q came back as %q, %v", pos, got, err)
		}
	})
}

// FuzzPage: following markers walks every item once, in order, whatever
// the page size.
func FuzzPage(f *testing.F) {
	f.Add("alice bob carol dave erin", int64(2))
	f.Add("a", int64(1000))
	f.Fuzz(func(t *testing.T, words string, size int64) {
		if size < 1 || size > 1000 {
			return
		}
		items := slices.Compact(slices.Sorted(slices.Values(strings.Fields(words))))
		var seen []string
		var marker *string
		for range len(items) + 1 {
			p, err := page(items, func(s string) string { return s }, marker, &size)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(p.items)) > size {
				t.Fatalf("page of %d with MaxItems %d", len(p.items), size)
			}
			seen = append(seen, p.items...)
			if !*p.truncated {
				break
			}
			marker = p.marker
		}
		if !slices.Equal(seen, items) {
			t.Fatalf("walked %v, want %v", seen, items)
		}
	})
}
