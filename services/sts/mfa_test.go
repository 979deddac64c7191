package sts_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// totp is the RFC 6238 code of seed at t, as an authenticator app shows it.
func totp(t *testing.T, seed []byte, at time.Time) string {
	t.Helper()
	key, err := base32.StdEncoding.DecodeString(string(seed))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30))
	h := hmac.New(sha1.New, key)
	h.Write(msg[:])
	sum := h.Sum(nil)
	o := sum[len(sum)-1] & 0xf
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[o:])&0x7fffffff)%1_000_000)
}

// A policy that allows only MFA sessions: GetSessionToken with a wrong
// code is refused, with the device's code it gives a session that may.
func TestMFASession(t *testing.T) {
	c := newCloud(t, "enforce")
	riam := c.iam(root)
	must[*iamsdk.CreateUserOutput](t)(riam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("carol")}))
	must[*iamsdk.PutUserPolicyOutput](t)(riam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("carol"), PolicyName: aws.String("mfa-only"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*",
			"Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}`)}))
	key := must[*iamsdk.CreateAccessKeyOutput](t)(riam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("carol")}))
	carol := credentials.NewStaticCredentialsProvider(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	dev := must[*iamsdk.CreateVirtualMFADeviceOutput](t)(riam.CreateVirtualMFADevice(ctx, &iamsdk.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("carol")}))
	seed, serial := dev.VirtualMFADevice.Base32StringSeed, dev.VirtualMFADevice.SerialNumber
	now := time.Now()
	must[*iamsdk.EnableMFADeviceOutput](t)(riam.EnableMFADevice(ctx, &iamsdk.EnableMFADeviceInput{UserName: aws.String("carol"), SerialNumber: serial,
		AuthenticationCode1: aws.String(totp(t, seed, now.Add(-30*time.Second))), AuthenticationCode2: aws.String(totp(t, seed, now))}))

	_, err := c.iam(carol).ListUsers(ctx, &iamsdk.ListUsersInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("ListUsers without MFA: %v", err)
	}

	code := totp(t, seed, time.Now())
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	_, err = c.sts(carol).GetSessionToken(ctx, &stssdk.GetSessionTokenInput{SerialNumber: serial, TokenCode: aws.String(wrong)})
	wantErr(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed with invalid MFA one time pass code.")

	out := must[*stssdk.GetSessionTokenOutput](t)(c.sts(carol).GetSessionToken(ctx, &stssdk.GetSessionTokenInput{SerialNumber: serial, TokenCode: aws.String(code)}))
	must[*iamsdk.ListUsersOutput](t)(c.iam(session(out.Credentials)).ListUsers(ctx, &iamsdk.ListUsersInput{}))
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}
