package acm_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
)

// awsCLI runs the aws CLI against the cloud, with no configuration of the
// user's in the way.
func (c *cloud) awsCLI(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	return cmd.CombinedOutput()
}

func TestCLIImportAndDescribe(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	c := newCloud(t)
	now := time.Now()
	certPEM, keyPEM := selfSigned(t, "cli.example.com", []string{"cli.example.com"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, certPEM, 0o600)
	os.WriteFile(keyFile, keyPEM, 0o600)

	out, err := c.awsCLI(t, "acm", "import-certificate", "--certificate", "fileb://"+certFile, "--private-key", "fileb://"+keyFile,
		"--tags", "Key=app,Value=shop")
	if err != nil {
		t.Fatalf("import-certificate: %v: %s", err, out)
	}
	var imp struct{ CertificateArn string }
	if err := json.Unmarshal(out, &imp); err != nil || !arnRE.MatchString(imp.CertificateArn) {
		t.Fatalf("import output %s (%v)", out, err)
	}
	out, err = c.awsCLI(t, "acm", "describe-certificate", "--certificate-arn", imp.CertificateArn)
	if err != nil {
		t.Fatalf("describe-certificate: %v: %s", err, out)
	}
	var desc struct {
		Certificate struct {
			CertificateArn, DomainName, Status, Type, KeyAlgorithm, Serial, Issuer string
			ImportedAt, NotBefore, NotAfter                                        float64
			InUseBy                                                                []string
		}
	}
	if err := json.Unmarshal(out, &desc); err != nil {
		t.Fatalf("describe output %s: %v", out, err)
	}
	d := desc.Certificate
	if d.CertificateArn != imp.CertificateArn || d.DomainName != "cli.example.com" || d.Status != "ISSUED" || d.Type != "IMPORTED" ||
		d.KeyAlgorithm != "RSA_2048" || d.Serial != "0a:1b:2c:3d" || d.ImportedAt == 0 || d.NotAfter <= d.NotBefore || d.InUseBy == nil {
		t.Errorf("describe-certificate: %s", out)
	}
	out, err = c.awsCLI(t, "acm", "describe-certificate", "--certificate-arn", imp.CertificateArn+"0")
	if err == nil {
		t.Errorf("describe of a missing certificate succeeded: %s", out)
	}
}

// TestServeRequestedCertificate serves a requested certificate as the load
// balancer will (KeyPair) and has curl verify it against cloudbox's CA.
func TestServeRequestedCertificate(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	c := newCloud(t)
	c.svc.ValidationDelay = 0
	const name = "www.shop.test"
	out := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
		DomainName: aws.String(name), ValidationMethod: types.ValidationMethodDns,
	}))
	certPEM, keyPEM, err := c.svc.KeyPair(account, region, aws.ToString(out.CertificateArn))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "shop") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	body, err := exec.Command("curl", "-sS", "--max-time", "10", "--cacert", filepath.Join(c.dir, "ca.pem"),
		"--resolve", name+":"+port+":127.0.0.1", "https://"+name+":"+port+"/").CombinedOutput()
	if err != nil || string(body) != "shop" {
		t.Fatalf("curl: %v: %s", err, body)
	}
}
