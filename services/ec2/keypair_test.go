package ec2_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/crypto/ssh"
)

// secColonHex is how AWS writes RSA fingerprints: 1f:51:ae:...
func secColonHex(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

func secKeyPair(t *testing.T, cl *ec2sdk.Client, name string) types.KeyPairInfo {
	t.Helper()
	out := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(context.Background(), &ec2sdk.DescribeKeyPairsInput{KeyNames: []string{name}, IncludePublicKey: aws.Bool(true)}))
	if len(out.KeyPairs) != 1 {
		t.Fatalf("key pairs %s: %+v", name, out.KeyPairs)
	}
	return out.KeyPairs[0]
}

// TestKeyPairCLI creates the key pairs of the tutorials with the CLI and
// checks each private key against AWS's fingerprint, computed here.
func TestKeyPairCLI(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	var rsaOut struct{ KeyName, KeyFingerprint, KeyMaterial, KeyPairId string }
	if err := c.cli(t, &rsaOut, "ec2", "create-key-pair", "--key-name", "tutorial"); err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode([]byte(rsaOut.KeyMaterial))
	if block == nil || block.Type != "RSA PRIVATE KEY" || len(strings.TrimSpace(string(rest))) != 0 || !strings.HasPrefix(rsaOut.KeyPairId, "key-") {
		t.Fatalf("RSA key material %q", rsaOut.KeyMaterial)
	}
	priv, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil || priv.N.BitLen() != 2048 {
		t.Fatalf("PKCS#1 key: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(pkcs8)
	if want := secColonHex(sum[:]); rsaOut.KeyFingerprint != want {
		t.Fatalf("RSA fingerprint %s, want %s", rsaOut.KeyFingerprint, want)
	}
	// The public key cloudbox keeps is the private key's.
	info := secKeyPair(t, cl, "tutorial")
	pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(aws.ToString(info.PublicKey)))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey([]byte(rsaOut.KeyMaterial))
	if err != nil {
		t.Fatal(err)
	}
	if string(pub.Marshal()) != string(signer.PublicKey().Marshal()) || comment != "tutorial" || info.KeyType != types.KeyTypeRsa ||
		aws.ToString(info.KeyFingerprint) != rsaOut.KeyFingerprint || info.CreateTime == nil {
		t.Fatalf("stored key %+v", info)
	}

	var edOut struct{ KeyFingerprint, KeyMaterial string }
	if err := c.cli(t, &edOut, "ec2", "create-key-pair", "--key-name", "modern", "--key-type", "ed25519", "--key-format", "pem"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(edOut.KeyMaterial, "-----BEGIN OPENSSH PRIVATE KEY-----") {
		t.Fatalf("ED25519 key material %q", edOut.KeyMaterial)
	}
	raw, err := ssh.ParseRawPrivateKey([]byte(edOut.KeyMaterial))
	if err != nil {
		t.Fatal(err)
	}
	edPriv, ok := raw.(*ed25519.PrivateKey)
	if !ok {
		t.Fatalf("ED25519 private key is a %T", raw)
	}
	edPub, err := ssh.NewPublicKey(edPriv.Public())
	if err != nil {
		t.Fatal(err)
	}
	edSum := sha256.Sum256(edPub.Marshal())
	if want := base64.StdEncoding.EncodeToString(edSum[:]); edOut.KeyFingerprint != want {
		t.Fatalf("ED25519 fingerprint %s, want %s", edOut.KeyFingerprint, want)
	}
	// ssh-keygen -l shows the same digest, without the padding.
	if strings.TrimSuffix(edOut.KeyFingerprint, "=") != strings.TrimPrefix(ssh.FingerprintSHA256(edPub), "SHA256:") {
		t.Fatalf("fingerprint %s, ssh-keygen's %s", edOut.KeyFingerprint, ssh.FingerprintSHA256(edPub))
	}
	if k := secKeyPair(t, cl, "modern"); k.KeyType != types.KeyTypeEd25519 || !strings.HasPrefix(aws.ToString(k.PublicKey), "ssh-ed25519 ") {
		t.Fatalf("stored key %+v", k)
	}
	must[*ec2sdk.DeleteKeyPairOutput](t)(cl.DeleteKeyPair(context.Background(), &ec2sdk.DeleteKeyPairInput{KeyName: aws.String("tutorial")}))
}

func TestKeyPairImport(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaPub, _ := ssh.NewPublicKey(&rsaKey.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	md := md5.Sum(der)
	rsaFP := secColonHex(md[:])
	edPubRaw, _, _ := ed25519.GenerateKey(rand.Reader)
	edPub, _ := ssh.NewPublicKey(edPubRaw)
	edSum := sha256.Sum256(edPub.Marshal())
	edFP := base64.StdEncoding.EncodeToString(edSum[:])

	ssh2 := "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"rsa-key-20240101\"\n" + base64.StdEncoding.EncodeToString(rsaPub.Marshal()) + "\n---- END SSH2 PUBLIC KEY ----\n"
	for _, tc := range []struct {
		name, fp string
		material []byte
		keyType  types.KeyType
	}{
		{"openssh-rsa", rsaFP, []byte(strings.TrimSpace(string(ssh.MarshalAuthorizedKey(rsaPub))) + " me@laptop\n"), types.KeyTypeRsa},
		{"openssh-ed25519", edFP, ssh.MarshalAuthorizedKey(edPub), types.KeyTypeEd25519},
		{"pem-rsa", rsaFP, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), types.KeyTypeRsa},
		{"der-base64-rsa", rsaFP, []byte(base64.StdEncoding.EncodeToString(der)), types.KeyTypeRsa},
		{"ssh2-rsa", rsaFP, []byte(ssh2), types.KeyTypeRsa},
	} {
		out, err := cl.ImportKeyPair(ctx, &ec2sdk.ImportKeyPairInput{
			KeyName: aws.String(tc.name), PublicKeyMaterial: tc.material,
			TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeKeyPair, Tags: []types.Tag{{Key: aws.String("format"), Value: aws.String(tc.name)}}}},
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if aws.ToString(out.KeyFingerprint) != tc.fp || !strings.HasPrefix(aws.ToString(out.KeyPairId), "key-") || len(out.Tags) != 1 {
			t.Fatalf("%s: %+v, want fingerprint %s", tc.name, out, tc.fp)
		}
		k := secKeyPair(t, cl, tc.name)
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(aws.ToString(k.PublicKey)))
		if err != nil || k.KeyType != tc.keyType {
			t.Fatalf("%s: stored %+v (%v)", tc.name, k, err)
		}
		if tc.keyType == types.KeyTypeRsa && string(pub.Marshal()) != string(rsaPub.Marshal()) {
			t.Fatalf("%s: stored another key", tc.name)
		}
	}
	if k := secKeyPair(t, cl, "openssh-rsa"); !strings.HasSuffix(aws.ToString(k.PublicKey), " me@laptop") {
		t.Fatalf("the comment was lost: %q", aws.ToString(k.PublicKey))
	}

	// Describe: filters, ids, no public key unless asked.
	all := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{}))
	if len(all.KeyPairs) != 5 || all.KeyPairs[0].PublicKey != nil {
		t.Fatalf("key pairs %+v", all.KeyPairs)
	}
	byFP := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{Filters: []types.Filter{secFilter("fingerprint", rsaFP)}}))
	if len(byFP.KeyPairs) != 4 {
		t.Fatalf("by fingerprint %+v", byFP.KeyPairs)
	}
	byTag := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{Filters: []types.Filter{secFilter("tag:format", "ssh2-*"), secFilter("key-name", "ssh2-rsa")}}))
	if len(byTag.KeyPairs) != 1 {
		t.Fatalf("by tag %+v", byTag.KeyPairs)
	}
	id := aws.ToString(byTag.KeyPairs[0].KeyPairId)
	byID := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{KeyPairIds: []string{id}, Filters: []types.Filter{secFilter("key-pair-id", id)}}))
	if len(byID.KeyPairs) != 1 {
		t.Fatalf("by id %+v", byID.KeyPairs)
	}
	del := must[*ec2sdk.DeleteKeyPairOutput](t)(cl.DeleteKeyPair(ctx, &ec2sdk.DeleteKeyPairInput{KeyPairId: aws.String(id)}))
	if aws.ToString(del.KeyPairId) != id || !aws.ToBool(del.Return) {
		t.Fatalf("delete %+v", del)
	}
	// Deleting what is not there succeeds, as in AWS.
	must[*ec2sdk.DeleteKeyPairOutput](t)(cl.DeleteKeyPair(ctx, &ec2sdk.DeleteKeyPairInput{KeyName: aws.String("ssh2-rsa")}))
	must[*ec2sdk.DeleteKeyPairOutput](t)(cl.DeleteKeyPair(ctx, &ec2sdk.DeleteKeyPairInput{KeyPairId: aws.String(id)}))
	if all := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{})); len(all.KeyPairs) != 4 {
		t.Fatalf("after delete %+v", all.KeyPairs)
	}
}

func TestKeyPairBadInput(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	must[*ec2sdk.CreateKeyPairOutput](t)(cl.CreateKeyPair(ctx, &ec2sdk.CreateKeyPairInput{KeyName: aws.String("taken"), KeyType: types.KeyTypeEd25519}))
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPub, _ := ssh.NewPublicKey(&ecKey.PublicKey)
	// Go no longer makes RSA keys this small; a 512-bit modulus will do.
	modulus, _ := rand.Prime(rand.Reader, 512)
	smallPub, _ := ssh.NewPublicKey(&rsa.PublicKey{N: modulus, E: 65537})
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshEd, _ := ssh.NewPublicKey(edPub)
	imp := func(name string, material []byte) error {
		_, err := cl.ImportKeyPair(ctx, &ec2sdk.ImportKeyPairInput{KeyName: aws.String(name), PublicKeyMaterial: material})
		return err
	}
	create := func(in *ec2sdk.CreateKeyPairInput) error {
		_, err := cl.CreateKeyPair(ctx, in)
		return err
	}
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"duplicate name", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String("taken"), KeyType: types.KeyTypeEd25519}), "InvalidKeyPair.Duplicate"},
		{"duplicate import", imp("taken", ssh.MarshalAuthorizedKey(sshEd)), "InvalidKeyPair.Duplicate"},
		{"garbage public key", imp("junk", []byte("this is not a key")), "InvalidKey.Format"},
		{"truncated public key", imp("cut", ssh.MarshalAuthorizedKey(sshEd)[:40]), "InvalidKey.Format"},
		{"ECDSA public key", imp("ec", ssh.MarshalAuthorizedKey(ecPub)), "InvalidKey.Format"},
		{"512-bit RSA key", imp("small", ssh.MarshalAuthorizedKey(smallPub)), "InvalidKey.Format"},
		{"bad key type", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String("x"), KeyType: "dsa"}), "InvalidParameterValue"},
		{"ppk format", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String("x"), KeyFormat: types.KeyFormatPpk}), "UnsupportedOperation"},
		{"bad key format", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String("x"), KeyFormat: "jks"}), "InvalidParameterValue"},
		{"long name", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String(strings.Repeat("k", 256)), KeyType: types.KeyTypeEd25519}), "InvalidParameterValue"},
		{"non-ASCII name", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String("clé"), KeyType: types.KeyTypeEd25519}), "InvalidParameterValue"},
		{"describe unknown name", func() error {
			_, err := cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{KeyNames: []string{"nope"}})
			return err
		}(), "InvalidKeyPair.NotFound"},
		{"describe unknown id", func() error {
			_, err := cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{KeyPairIds: []string{"key-0123456789abcdef0"}})
			return err
		}(), "InvalidKeyPair.NotFound"},
		{"delete without name or id", func() error {
			_, err := cl.DeleteKeyPair(ctx, &ec2sdk.DeleteKeyPairInput{})
			return err
		}(), "MissingParameter"},
		{"unknown filter", func() error {
			_, err := cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{Filters: []types.Filter{secFilter("colour", "red")}})
			return err
		}(), "InvalidParameterValue"},
		{"dry run create", create(&ec2sdk.CreateKeyPairInput{KeyName: aws.String("dry"), DryRun: aws.Bool(true)}), "DryRunOperation"},
		{"dry run import", func() error {
			_, err := cl.ImportKeyPair(ctx, &ec2sdk.ImportKeyPairInput{KeyName: aws.String("dry"), PublicKeyMaterial: ssh.MarshalAuthorizedKey(sshEd), DryRun: aws.Bool(true)})
			return err
		}(), "DryRunOperation"},
		{"dry run delete", func() error {
			_, err := cl.DeleteKeyPair(ctx, &ec2sdk.DeleteKeyPairInput{KeyName: aws.String("taken"), DryRun: aws.Bool(true)})
			return err
		}(), "DryRunOperation"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.err); got != tc.code {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
	}
	all := must[*ec2sdk.DescribeKeyPairsOutput](t)(cl.DescribeKeyPairs(ctx, &ec2sdk.DescribeKeyPairsInput{}))
	if len(all.KeyPairs) != 1 || aws.ToString(all.KeyPairs[0].KeyName) != "taken" {
		t.Fatalf("failed and dry-run calls changed the key pairs: %+v", all.KeyPairs)
	}
}
