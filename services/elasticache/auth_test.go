package elasticache_test

import (
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"strings"
	"testing"
)

// TestAuthAndTransitEncryption creates a group with TLS and an AUTH token:
// AWS's checks of the token, the group showing both, and the nodes' first
// boot serving TLS with a certificate for the group's names and requiring
// the token.
func TestAuthAndTransitEncryption(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	create := []string{"create-replication-group", "--replication-group-id", "secure", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2", "--cache-subnet-group-name", "subnets"}
	token := `s3cret-t0ken-'with$signs\and#more`
	e.fails(t, "InvalidParameterValue", "The AUTH token is only supported when encryption-in-transit is enabled", append(create, "--auth-token", token)...)
	for _, bad := range []string{"short-token", "sixteen-chars-but/slash", `sixteen-chars-but"quote`, "sixteen-chars-but@at", "sixteen chars with spaces"} {
		e.fails(t, "InvalidParameterValue", "Invalid AuthToken provided.", append(create, "--transit-encryption-enabled", "--auth-token", bad)...)
	}
	e.fails(t, "NotImplemented", "TransitEncryptionMode preferred", append(create, "--transit-encryption-enabled", "--transit-encryption-mode", "preferred")...)

	out := e.must(t, append(create, "--transit-encryption-enabled", "--auth-token", token)...)
	rg := out["ReplicationGroup"]
	if dig(rg, "AuthTokenEnabled") != true || dig(rg, "TransitEncryptionEnabled") != true || dig(rg, "TransitEncryptionMode") != "required" {
		t.Fatalf("created: %v", rg)
	}
	clusters := e.must(t, "describe-cache-clusters", "--cache-cluster-id", "secure-001")["CacheClusters"].([]any)
	if dig(clusters, 0, "AuthTokenEnabled") != true || dig(clusters, 0, "TransitEncryptionEnabled") != true {
		t.Fatalf("cluster: %v", clusters)
	}
	w := e.world(t)
	script := string(w.Slots[0].Script)
	for _, want := range []string{"port 0\ntls-port 6379\n", "tls-replication yes", `requirepass "s3cret-t0ken-'with$signs\\and#more"`,
		`masterauth "s3cret-t0ken-'with$signs\\and#more"`, "REDISCLI_AUTH=" + token + "\n"} {
		if !strings.Contains(script, want) {
			t.Errorf("the node's script lacks %q", want)
		}
	}
	if err := exec.Command("bash", "-n", "-c", script).Run(); err != nil {
		t.Errorf("the node's script: %v", err)
	}
	block, _ := pem.Decode([]byte(script[strings.Index(script, "-----BEGIN CERTIFICATE-----"):]))
	if block == nil {
		t.Fatal("no certificate in the node's script")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	var primary string
	for _, nm := range w.Names {
		if strings.HasPrefix(nm.Name, "master.") {
			primary = nm.Name
		}
	}
	if err := cert.VerifyHostname(primary); err != nil {
		t.Errorf("certificate %v for %s: %v", cert.DNSNames, primary, err)
	}
	if err := cert.VerifyHostname("secure-002." + strings.TrimPrefix(primary, "master.")); err != nil {
		t.Errorf("certificate for the node: %v", err)
	}
}
