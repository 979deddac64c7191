package s3_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
)

// awsCLI is one aws CLI, by its major version.
type awsCLI struct {
	name, path string
}

var (
	findCLIs sync.Once
	clis     []awsCLI
	cliWhy   []string
)

// cliVersions finds the aws CLI v1 (pip's, next to the Python that has
// botocore, or on PATH) and v2 (Debian's awscli at /usr/bin/aws). A pyenv
// shim is resolved to the program it runs: it costs half a second a run.
func cliVersions(t *testing.T) []awsCLI {
	t.Helper()
	findCLIs.Do(func() {
		var v1 []string
		if out, err := exec.Command("python3", "-c", "import sys, botocore; print(sys.executable)").Output(); err == nil {
			v1 = append(v1, filepath.Join(filepath.Dir(strings.TrimSpace(string(out))), "aws"))
		}
		if p, err := exec.LookPath("aws"); err == nil {
			v1 = append(v1, p)
		}
		found := func(prefix string, candidates []string) string {
			for _, c := range candidates {
				cmd := exec.Command(c, "--version")
				cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
				if out, err := cmd.CombinedOutput(); err == nil && strings.HasPrefix(string(out), prefix) {
					return c
				}
			}
			return ""
		}
		if p := found("aws-cli/1.", v1); p != "" {
			clis = append(clis, awsCLI{"v1", p})
		} else {
			cliWhy = append(cliWhy, "aws CLI v1 not found")
		}
		if p := found("aws-cli/2.", []string{"/usr/bin/aws"}); p != "" {
			clis = append(clis, awsCLI{"v2", p})
		} else {
			cliWhy = append(cliWhy, "aws CLI v2 not found at /usr/bin/aws (apt-get install awscli)")
		}
	})
	for _, why := range cliWhy {
		t.Log(why)
	}
	if len(clis) == 0 {
		t.Skip("no aws CLI")
	}
	return clis
}

// run runs the CLI against the plain server with the default keys and
// region us-east-1, and nothing of the user's configuration.
func (c *cloud) run(t *testing.T, cli awsCLI, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cli.path, append([]string{"--endpoint-url", c.httpURL, "--output", "json"}, args...)...)
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_ENDPOINT_URL=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *cloud) ok(t *testing.T, cli awsCLI, args ...string) string {
	t.Helper()
	out, err := c.run(t, cli, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// writeTree makes files under dir, by relative path.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// readTree reads every file under dir, by relative path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = string(b)
		}
		return err
	})
	return out
}

func (c *cloud) keys(t *testing.T, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	pg := s3sdk.NewListObjectsV2Paginator(c.s3, &s3sdk.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for pg.HasMorePages() {
		keys = append(keys, keysOf(must(pg.NextPage(ctx))(t).Contents)...)
	}
	return keys
}

func TestCLIFlows(t *testing.T) {
	for _, cli := range cliVersions(t) {
		t.Run(cli.name, func(t *testing.T) {
			c := newCloud(t)
			b := "cli-" + cli.name
			dir := t.TempDir()
			c.ok(t, cli, "s3", "mb", "s3://"+b)
			if out, err := c.run(t, cli, "s3", "mb", "s3://Bad_Name"); err == nil {
				t.Errorf("mb of a bad name succeeded: %s", out)
			}

			// A big file in parts (the CLI's default 8 MiB chunks), and back.
			size := 200 << 20
			if testing.Short() {
				size = 20 << 20
			}
			big := filepath.Join(dir, "big.bin")
			if err := os.WriteFile(big, randomBytes(size, 9), 0o644); err != nil {
				t.Fatal(err)
			}
			c.ok(t, cli, "s3", "cp", big, "s3://"+b+"/big.bin")
			head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("big.bin")}))(t)
			if aws.ToInt64(head.ContentLength) != int64(size) || !strings.HasSuffix(aws.ToString(head.ETag), "-"+strconv.Itoa((size+8<<20-1)/(8<<20))+`"`) {
				t.Errorf("uploaded: %d bytes, ETag %s", aws.ToInt64(head.ContentLength), aws.ToString(head.ETag))
			}
			back := filepath.Join(dir, "back.bin")
			c.ok(t, cli, "s3", "cp", "s3://"+b+"/big.bin", back)
			if fileSum(t, back) != fileSum(t, big) {
				t.Error("the file downloaded is not the file uploaded")
			}
			os.Remove(back)
			c.ok(t, cli, "s3", "rm", "s3://"+b+"/big.bin")
			os.Remove(big)

			// sync, then sync --delete after local changes.
			tree := filepath.Join(dir, "tree")
			writeTree(t, tree, map[string]string{"a.txt": "a", "sub/b.txt": "b", "sub/deep/c.txt": "c", "space name.txt": "s", "ünï.txt": "u"})
			c.ok(t, cli, "s3", "sync", tree, "s3://"+b+"/tree")
			if got, want := c.keys(t, b, "tree/"), []string{"tree/a.txt", "tree/space name.txt", "tree/sub/b.txt", "tree/sub/deep/c.txt", "tree/ünï.txt"}; !slices.Equal(got, want) {
				t.Errorf("after sync: %q", got)
			}
			os.Remove(filepath.Join(tree, "sub/b.txt"))
			writeTree(t, tree, map[string]string{"new.txt": "new", "a.txt": "changed a"})
			c.ok(t, cli, "s3", "sync", tree, "s3://"+b+"/tree", "--delete")
			if got, want := c.keys(t, b, "tree/"), []string{"tree/a.txt", "tree/new.txt", "tree/space name.txt", "tree/sub/deep/c.txt", "tree/ünï.txt"}; !slices.Equal(got, want) {
				t.Errorf("after sync --delete: %q", got)
			}
			if c.get(t, b, "tree/a.txt") != "changed a" {
				t.Error("sync did not upload the changed file")
			}
			// A second sync has nothing to do.
			if out := c.ok(t, cli, "s3", "sync", tree, "s3://"+b+"/tree", "--delete"); strings.TrimSpace(out) != "" {
				t.Errorf("a sync with nothing to do did: %s", out)
			}

			// cp --recursive down, ls.
			down := filepath.Join(dir, "down")
			c.ok(t, cli, "s3", "cp", "--recursive", "s3://"+b+"/tree", down)
			if got, want := readTree(t, down), readTree(t, tree); !mapsEqual(got, want) {
				t.Errorf("cp --recursive: %v, want %v", got, want)
			}
			ls := c.ok(t, cli, "s3", "ls", "s3://"+b+"/tree/")
			if !strings.Contains(ls, "PRE sub/") || !strings.Contains(ls, "a.txt") || strings.Contains(ls, "c.txt") {
				t.Errorf("ls:\n%s", ls)
			}
			ls = c.ok(t, cli, "s3", "ls", "--recursive", "s3://"+b)
			if !strings.Contains(ls, "tree/sub/deep/c.txt") {
				t.Errorf("ls --recursive:\n%s", ls)
			}
			if ls = c.ok(t, cli, "s3", "ls"); !strings.Contains(ls, b) {
				t.Errorf("ls of buckets:\n%s", ls)
			}

			// presign: a URL anyone can GET.
			url := strings.TrimSpace(c.ok(t, cli, "s3", "presign", "s3://"+b+"/tree/space name.txt", "--expires-in", "300"))
			if cli.name == "v1" && !strings.Contains(url, "AWSAccessKeyId=") {
				t.Logf("v1 presigned with SigV4: %s", url)
			}
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "s" {
				t.Errorf("presigned GET %s: %d %s", url, resp.StatusCode, body)
			}

			// rm --recursive, rb.
			if out, err := c.run(t, cli, "s3", "rb", "s3://"+b); err == nil || !strings.Contains(out, "BucketNotEmpty") {
				t.Errorf("rb of a full bucket: %v %s", err, out)
			}
			c.ok(t, cli, "s3", "rm", "--recursive", "s3://"+b+"/tree")
			if got := c.keys(t, b, ""); len(got) != 0 {
				t.Errorf("after rm --recursive: %q", got)
			}
			c.ok(t, cli, "s3", "rb", "s3://"+b)
			_, err = c.s3.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String(b)})
			if status(err) != http.StatusNotFound {
				t.Errorf("bucket after rb: %v", err)
			}
			// rb --force empties the bucket first.
			c.ok(t, cli, "s3", "mb", "s3://"+b+"-force")
			c.ok(t, cli, "s3", "sync", tree, "s3://"+b+"-force")
			c.ok(t, cli, "s3", "rb", "--force", "s3://"+b+"-force")
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestCLIVersioningAndRegions(t *testing.T) {
	for _, cli := range cliVersions(t) {
		t.Run(cli.name, func(t *testing.T) {
			c := newCloud(t)
			b := "cli-versions-" + cli.name
			c.ok(t, cli, "s3api", "create-bucket", "--bucket", b)
			c.ok(t, cli, "s3api", "put-bucket-versioning", "--bucket", b, "--versioning-configuration", "Status=Enabled")
			var st struct{ Status string }
			json.Unmarshal([]byte(c.ok(t, cli, "s3api", "get-bucket-versioning", "--bucket", b)), &st)
			if st.Status != "Enabled" {
				t.Errorf("get-bucket-versioning: %+v", st)
			}
			file := filepath.Join(t.TempDir(), "f")
			var ids []string
			for _, body := range []string{"one", "two"} {
				os.WriteFile(file, []byte(body), 0o644)
				var put struct{ VersionId, ETag string }
				json.Unmarshal([]byte(c.ok(t, cli, "s3api", "put-object", "--bucket", b, "--key", "k", "--body", file)), &put)
				if len(put.VersionId) != 32 || put.ETag != md5hex(body) {
					t.Errorf("put-object: %+v", put)
				}
				ids = append(ids, put.VersionId)
			}
			c.ok(t, cli, "s3api", "delete-object", "--bucket", b, "--key", "k")
			var lv struct {
				Versions      []struct{ VersionId string }
				DeleteMarkers []struct {
					VersionId string
					IsLatest  bool
				}
			}
			json.Unmarshal([]byte(c.ok(t, cli, "s3api", "list-object-versions", "--bucket", b)), &lv)
			if len(lv.Versions) != 2 || len(lv.DeleteMarkers) != 1 || !lv.DeleteMarkers[0].IsLatest || lv.Versions[0].VersionId != ids[1] {
				t.Errorf("list-object-versions: %+v", lv)
			}
			out := filepath.Join(t.TempDir(), "out")
			c.ok(t, cli, "s3api", "get-object", "--bucket", b, "--key", "k", "--version-id", ids[0], out)
			if got, _ := os.ReadFile(out); string(got) != "one" {
				t.Errorf("get-object of the first version: %q", got)
			}
			if msg, err := c.run(t, cli, "s3api", "get-object", "--bucket", b, "--key", "k", out); err == nil || !strings.Contains(msg, "NoSuchKey") {
				t.Errorf("get-object of a deleted key: %v %s", err, msg)
			}

			// A bucket in eu-west-1, used with us-east-1 as the default
			// region: the CLI learns the region from S3's answer.
			eu := "cli-eu-" + cli.name
			c.ok(t, cli, "s3api", "create-bucket", "--bucket", eu, "--create-bucket-configuration", "LocationConstraint=eu-west-1")
			var loc struct{ LocationConstraint string }
			json.Unmarshal([]byte(c.ok(t, cli, "s3api", "get-bucket-location", "--bucket", eu)), &loc)
			if loc.LocationConstraint != "eu-west-1" {
				t.Errorf("get-bucket-location: %+v", loc)
			}
			os.WriteFile(file, []byte("in europe"), 0o644)
			c.ok(t, cli, "s3", "cp", file, "s3://"+eu+"/k")
			if ls := c.ok(t, cli, "s3", "ls", "s3://"+eu); !strings.Contains(ls, " k") {
				t.Errorf("ls of the eu bucket:\n%s", ls)
			}
			c.ok(t, cli, "s3", "cp", "s3://"+eu+"/k", out)
			if got, _ := os.ReadFile(out); string(got) != "in europe" {
				t.Errorf("cp back from eu-west-1: %q", got)
			}
			c.ok(t, cli, "s3api", "head-bucket", "--bucket", eu)
			c.ok(t, cli, "s3", "rb", "--force", "s3://"+eu)
		})
	}
}
