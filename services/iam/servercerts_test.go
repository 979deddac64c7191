package iam_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/crypto/ssh"

	"github.com/cloudbox/cloudbox/server"
)

// certPEM is a certificate for name signed by parent (self-signed when
// nil), with its key, both PEM.
func certPEM(t *testing.T, name string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (string, string, *x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC),
		IsCA: parent == nil, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	signer, signerKey := tmpl, k
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &k.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalPKCS8PrivateKey(k)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), cert, k
}

func TestServerCertificates(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	caPEM, _, ca, caKey := certPEM(t, "ca", nil, nil)
	body, key, _, _ := certPEM(t, "www.example.com", ca, caKey)
	_, otherKey, _, _ := certPEM(t, "other", nil, nil)

	_, err := c.iam.UploadServerCertificate(ctx, &iamsdk.UploadServerCertificateInput{ServerCertificateName: aws.String("www"), CertificateBody: aws.String("not a certificate"), PrivateKey: aws.String(key)})
	wantErr(t, err, "MalformedCertificate", 400, "Unable to parse certificate. Please ensure the certificate is in PEM format.")
	_, err = c.iam.UploadServerCertificate(ctx, &iamsdk.UploadServerCertificateInput{ServerCertificateName: aws.String("www"), CertificateBody: aws.String(body), PrivateKey: aws.String(otherKey)})
	wantErr(t, err, "KeyPairMismatch", 400, "The private key did not match the public key provided. Please verify the key material and try again.")
	_, err = c.iam.UploadServerCertificate(ctx, &iamsdk.UploadServerCertificateInput{ServerCertificateName: aws.String("www"), CertificateBody: aws.String(body), PrivateKey: aws.String(key), CertificateChain: aws.String(body)})
	wantErr(t, err, "MalformedCertificate", 400, "Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: -1")

	up := must[*iamsdk.UploadServerCertificateOutput](t)(c.iam.UploadServerCertificate(ctx, &iamsdk.UploadServerCertificateInput{
		ServerCertificateName: aws.String("www"), Path: aws.String("/cloudfront/"), CertificateBody: aws.String(body), PrivateKey: aws.String(key), CertificateChain: aws.String(caPEM),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	}))
	md := up.ServerCertificateMetadata
	if aws.ToString(md.Arn) != "arn:aws:iam::"+account+":server-certificate/cloudfront/www" || !strings.HasPrefix(aws.ToString(md.ServerCertificateId), "ASCA") ||
		!aws.ToTime(md.Expiration).Equal(time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)) || len(up.Tags) != 1 {
		t.Errorf("upload %+v %+v", md, up.Tags)
	}
	_, err = c.iam.UploadServerCertificate(ctx, &iamsdk.UploadServerCertificateInput{ServerCertificateName: aws.String("WWW"), CertificateBody: aws.String(body), PrivateKey: aws.String(key)})
	wantErr(t, err, "EntityAlreadyExists", 409, "The Server Certificate with name WWW already exists.")

	got := must[*iamsdk.GetServerCertificateOutput](t)(c.iam.GetServerCertificate(ctx, &iamsdk.GetServerCertificateInput{ServerCertificateName: aws.String("www")})).ServerCertificate
	if aws.ToString(got.CertificateBody) != strings.TrimSpace(body) || aws.ToString(got.CertificateChain) != strings.TrimSpace(caPEM) {
		t.Errorf("get %+v", got)
	}
	must[*iamsdk.UpdateServerCertificateOutput](t)(c.iam.UpdateServerCertificate(ctx, &iamsdk.UpdateServerCertificateInput{ServerCertificateName: aws.String("www"), NewServerCertificateName: aws.String("web"), NewPath: aws.String("/")}))
	list := must[*iamsdk.ListServerCertificatesOutput](t)(c.iam.ListServerCertificates(ctx, &iamsdk.ListServerCertificatesInput{PathPrefix: aws.String("/")})).ServerCertificateMetadataList
	if len(list) != 1 || aws.ToString(list[0].ServerCertificateName) != "web" || aws.ToString(list[0].Path) != "/" {
		t.Errorf("list %+v", list)
	}
	must[*iamsdk.UntagServerCertificateOutput](t)(c.iam.UntagServerCertificate(ctx, &iamsdk.UntagServerCertificateInput{ServerCertificateName: aws.String("web"), TagKeys: []string{"env"}}))
	if tags := must[*iamsdk.ListServerCertificateTagsOutput](t)(c.iam.ListServerCertificateTags(ctx, &iamsdk.ListServerCertificateTagsInput{ServerCertificateName: aws.String("web")})).Tags; len(tags) != 0 {
		t.Errorf("tags %+v", tags)
	}
	if n := must[*iamsdk.GetAccountSummaryOutput](t)(c.iam.GetAccountSummary(ctx, &iamsdk.GetAccountSummaryInput{})).SummaryMap["ServerCertificates"]; n != 1 {
		t.Errorf("summary ServerCertificates %d", n)
	}
	must[*iamsdk.DeleteServerCertificateOutput](t)(c.iam.DeleteServerCertificate(ctx, &iamsdk.DeleteServerCertificateInput{ServerCertificateName: aws.String("web")}))
	_, err = c.iam.GetServerCertificate(ctx, &iamsdk.GetServerCertificateInput{ServerCertificateName: aws.String("web")})
	wantErr(t, err, "NoSuchEntity", 404, "The Server Certificate with name web cannot be found.")
}

// TestUserCredentials covers a user's signing certificates, SSH public
// keys and service-specific credentials, and that DeleteUser waits for them.
func TestUserCredentials(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("sam")}))

	body, _, _, _ := certPEM(t, "sam", nil, nil)
	sc := must[*iamsdk.UploadSigningCertificateOutput](t)(c.iam.UploadSigningCertificate(ctx, &iamsdk.UploadSigningCertificateInput{UserName: aws.String("sam"), CertificateBody: aws.String(body)})).Certificate
	if sc.Status != types.StatusTypeActive || len(aws.ToString(sc.CertificateId)) < 24 {
		t.Errorf("signing certificate %+v", sc)
	}
	must[*iamsdk.UpdateSigningCertificateOutput](t)(c.iam.UpdateSigningCertificate(ctx, &iamsdk.UpdateSigningCertificateInput{UserName: aws.String("sam"), CertificateId: sc.CertificateId, Status: types.StatusTypeInactive}))
	certs := must[*iamsdk.ListSigningCertificatesOutput](t)(c.iam.ListSigningCertificates(ctx, &iamsdk.ListSigningCertificatesInput{UserName: aws.String("sam")})).Certificates
	if len(certs) != 1 || certs[0].Status != types.StatusTypeInactive {
		t.Errorf("signing certificates %+v", certs)
	}

	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := ssh.NewPublicKey(&rk.PublicKey)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	sk := must[*iamsdk.UploadSSHPublicKeyOutput](t)(c.iam.UploadSSHPublicKey(ctx, &iamsdk.UploadSSHPublicKeyInput{UserName: aws.String("sam"), SSHPublicKeyBody: aws.String(line + " sam@laptop")})).SSHPublicKey
	// The fingerprint is the MD5 of the key's wire form, colon-separated.
	sum := md5.Sum(pub.Marshal())
	var hexes []string
	for _, b := range sum {
		hexes = append(hexes, fmt.Sprintf("%02x", b))
	}
	if aws.ToString(sk.Fingerprint) != strings.Join(hexes, ":") || !strings.HasPrefix(aws.ToString(sk.SSHPublicKeyId), "APKA") || aws.ToString(sk.SSHPublicKeyBody) != line {
		t.Errorf("ssh key %+v", sk)
	}
	_, err = c.iam.UploadSSHPublicKey(ctx, &iamsdk.UploadSSHPublicKeyInput{UserName: aws.String("sam"), SSHPublicKeyBody: aws.String(line)})
	wantErr(t, err, "DuplicateSSHPublicKey", 400, "The request was rejected because the SSH public key is already associated with the specified IAM user.")
	_, err = c.iam.UploadSSHPublicKey(ctx, &iamsdk.UploadSSHPublicKeyInput{UserName: aws.String("sam"), SSHPublicKeyBody: aws.String("ssh-rsa garbage")})
	wantErr(t, err, "UnrecognizedPublicKeyEncoding", 400, "The request was rejected because the public key encoding format is unsupported or unrecognized.")
	asPEM := must[*iamsdk.GetSSHPublicKeyOutput](t)(c.iam.GetSSHPublicKey(ctx, &iamsdk.GetSSHPublicKeyInput{UserName: aws.String("sam"), SSHPublicKeyId: sk.SSHPublicKeyId, Encoding: types.EncodingTypePem})).SSHPublicKey
	if !strings.HasPrefix(aws.ToString(asPEM.SSHPublicKeyBody), "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("PEM body %q", aws.ToString(asPEM.SSHPublicKeyBody))
	}

	_, err = c.iam.CreateServiceSpecificCredential(ctx, &iamsdk.CreateServiceSpecificCredentialInput{UserName: aws.String("sam"), ServiceName: aws.String("s3.amazonaws.com")})
	wantErr(t, err, "NotSupportedService", 404, "No such service s3.amazonaws.com is supported for Service-Specific Credentials")
	cred := must[*iamsdk.CreateServiceSpecificCredentialOutput](t)(c.iam.CreateServiceSpecificCredential(ctx, &iamsdk.CreateServiceSpecificCredentialInput{UserName: aws.String("sam"), ServiceName: aws.String("codecommit.amazonaws.com")})).ServiceSpecificCredential
	if aws.ToString(cred.ServiceUserName) != "sam-at-"+account || aws.ToString(cred.ServicePassword) == "" {
		t.Errorf("credential %+v", cred)
	}
	reset := must[*iamsdk.ResetServiceSpecificCredentialOutput](t)(c.iam.ResetServiceSpecificCredential(ctx, &iamsdk.ResetServiceSpecificCredentialInput{UserName: aws.String("sam"), ServiceSpecificCredentialId: cred.ServiceSpecificCredentialId})).ServiceSpecificCredential
	if aws.ToString(reset.ServicePassword) == aws.ToString(cred.ServicePassword) {
		t.Error("reset kept the password")
	}
	must[*iamsdk.CreateServiceSpecificCredentialOutput](t)(c.iam.CreateServiceSpecificCredential(ctx, &iamsdk.CreateServiceSpecificCredentialInput{UserName: aws.String("sam"), ServiceName: aws.String("codecommit.amazonaws.com")}))
	_, err = c.iam.CreateServiceSpecificCredential(ctx, &iamsdk.CreateServiceSpecificCredentialInput{UserName: aws.String("sam"), ServiceName: aws.String("codecommit.amazonaws.com")})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: 2")
	listed := must[*iamsdk.ListServiceSpecificCredentialsOutput](t)(c.iam.ListServiceSpecificCredentials(ctx, &iamsdk.ListServiceSpecificCredentialsInput{UserName: aws.String("sam"), ServiceName: aws.String("codecommit.amazonaws.com")}))
	if len(listed.ServiceSpecificCredentials) != 2 {
		t.Errorf("listed %+v", listed.ServiceSpecificCredentials)
	}

	// DeleteUser waits for each kind, in turn.
	for _, step := range []struct {
		conflict string
		remove   func()
	}{
		{"signing certificates", func() {
			must[*iamsdk.DeleteSigningCertificateOutput](t)(c.iam.DeleteSigningCertificate(ctx, &iamsdk.DeleteSigningCertificateInput{UserName: aws.String("sam"), CertificateId: sc.CertificateId}))
		}},
		{"SSH public keys", func() {
			must[*iamsdk.DeleteSSHPublicKeyOutput](t)(c.iam.DeleteSSHPublicKey(ctx, &iamsdk.DeleteSSHPublicKeyInput{UserName: aws.String("sam"), SSHPublicKeyId: sk.SSHPublicKeyId}))
		}},
		{"service specific credentials", func() {
			for _, m := range listed.ServiceSpecificCredentials {
				must[*iamsdk.DeleteServiceSpecificCredentialOutput](t)(c.iam.DeleteServiceSpecificCredential(ctx, &iamsdk.DeleteServiceSpecificCredentialInput{UserName: aws.String("sam"), ServiceSpecificCredentialId: m.ServiceSpecificCredentialId}))
			}
		}},
	} {
		_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("sam")})
		wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete "+step.conflict+" first.")
		step.remove()
	}
	must[*iamsdk.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("sam")}))
}
