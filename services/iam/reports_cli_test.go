package iam_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/server"
)

// TestCLICredentials drives the password policy, a virtual MFA device
// enabled with TOTP codes computed here, a server certificate and the
// credential report with the aws CLI.
func TestCLICredentials(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthOff)
	cli := func(out any, args ...string) {
		t.Helper()
		c.cli(t, "test", "test", out, append([]string{"iam"}, args...)...)
	}

	cli(nil, "update-account-password-policy", "--minimum-password-length", "10", "--require-numbers")
	var pp struct {
		PasswordPolicy struct {
			MinimumPasswordLength           int
			RequireNumbers, ExpirePasswords bool
		}
	}
	cli(&pp, "get-account-password-policy")
	if pp.PasswordPolicy.MinimumPasswordLength != 10 || !pp.PasswordPolicy.RequireNumbers || pp.PasswordPolicy.ExpirePasswords {
		t.Errorf("get-account-password-policy: %+v", pp)
	}
	cli(nil, "create-user", "--user-name", "cy")
	if out, err := c.cliErr(t, "test", "test", "iam", "create-login-profile", "--user-name", "cy", "--password", "tooshort1"); err == nil || !strings.Contains(string(out), "PasswordPolicyViolation") {
		t.Errorf("short password: %v %s", err, out)
	}
	cli(nil, "create-login-profile", "--user-name", "cy", "--password", "long-enough-1")

	dir := t.TempDir()
	seedFile := filepath.Join(dir, "seed.txt")
	var dev struct{ VirtualMFADevice struct{ SerialNumber string } }
	cli(&dev, "create-virtual-mfa-device", "--virtual-mfa-device-name", "cy-phone", "--outfile", seedFile, "--bootstrap-method", "Base32StringSeed")
	seed, err := os.ReadFile(seedFile)
	if err != nil {
		t.Fatal(err)
	}
	serial := dev.VirtualMFADevice.SerialNumber
	cli(nil, "enable-mfa-device", "--user-name", "cy", "--serial-number", serial,
		"--authentication-code1", code(t, string(seed), created, 0), "--authentication-code2", code(t, string(seed), created, 1))
	var mfas struct {
		MFADevices []struct{ UserName, SerialNumber string }
	}
	cli(&mfas, "list-mfa-devices", "--user-name", "cy")
	if len(mfas.MFADevices) != 1 || mfas.MFADevices[0].SerialNumber != serial {
		t.Errorf("list-mfa-devices: %+v", mfas)
	}
	qrFile := filepath.Join(dir, "qr.png")
	cli(nil, "create-virtual-mfa-device", "--virtual-mfa-device-name", "spare", "--outfile", qrFile, "--bootstrap-method", "QRCodePNG")
	if png, _ := os.ReadFile(qrFile); !strings.HasPrefix(string(png), "\x89PNG") {
		t.Errorf("QR code file starts %q", png[:min(len(png), 8)])
	}

	caPEM, _, ca, caKey := certPEM(t, "ca", nil, nil)
	body, key, _, _ := certPEM(t, "shop.example.com", ca, caKey)
	for name, s := range map[string]string{"cert.pem": body, "key.pem": key, "chain.pem": caPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var up struct {
		ServerCertificateMetadata struct{ Arn, ServerCertificateName string }
	}
	cli(&up, "upload-server-certificate", "--server-certificate-name", "shop", "--certificate-body", "file://"+filepath.Join(dir, "cert.pem"),
		"--private-key", "file://"+filepath.Join(dir, "key.pem"), "--certificate-chain", "file://"+filepath.Join(dir, "chain.pem"))
	if up.ServerCertificateMetadata.Arn != "arn:aws:iam::"+account+":server-certificate/shop" {
		t.Errorf("upload-server-certificate: %+v", up)
	}

	var gen struct{ State string }
	cli(&gen, "generate-credential-report")
	if gen.State != "STARTED" {
		t.Errorf("generate-credential-report: %+v", gen)
	}
	var rep struct{ Content, ReportFormat string }
	cli(&rep, "get-credential-report")
	csv, err := base64.StdEncoding.DecodeString(rep.Content)
	if err != nil {
		t.Fatalf("report content %q: %v", rep.Content, err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	if rep.ReportFormat != "text/csv" || len(lines) != 3 || !strings.HasPrefix(lines[0], "user,arn,user_creation_time,password_enabled,") ||
		!strings.HasPrefix(lines[2], "cy,arn:aws:iam::"+account+":user/cy,2026-03-01T12:00:00+00:00,true,no_information,2026-03-01T12:00:00+00:00,N/A,true,") {
		t.Errorf("credential report %s:\n%s", rep.ReportFormat, csv)
	}
}
