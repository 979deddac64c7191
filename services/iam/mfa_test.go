package iam_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"image/png"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/iam"
)

// code is the RFC 6238 code an authenticator app shows for the base32
// seed at time at, offset by steps 30-second steps.
func code(t *testing.T, seed string, at time.Time, steps int64) string {
	t.Helper()
	secret, err := base32.StdEncoding.DecodeString(seed)
	if err != nil {
		t.Fatalf("seed %q: %v", seed, err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(at.Unix()/30+steps))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[19] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1000000)
}

func TestVirtualMFA(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("mia")}))
	dev := must[*iamsdk.CreateVirtualMFADeviceOutput](t)(c.iam.CreateVirtualMFADevice(ctx, &iamsdk.CreateVirtualMFADeviceInput{
		VirtualMFADeviceName: aws.String("mia-phone"), Path: aws.String("/team/"), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("mia")}},
	})).VirtualMFADevice
	serial := aws.ToString(dev.SerialNumber)
	if serial != "arn:aws:iam::"+account+":mfa/team/mia-phone" {
		t.Errorf("serial %s", serial)
	}
	seed := string(dev.Base32StringSeed)
	if _, err := png.Decode(bytes.NewReader(dev.QRCodePNG)); err != nil {
		t.Errorf("QRCodePNG is no PNG: %v", err)
	}
	_, err := c.iam.CreateVirtualMFADevice(ctx, &iamsdk.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("mia-phone"), Path: aws.String("/team/")})
	wantErr(t, err, "EntityAlreadyExists", 409, "MFADevice entity at the same path and name already exists.")

	unassigned := must[*iamsdk.ListVirtualMFADevicesOutput](t)(c.iam.ListVirtualMFADevices(ctx, &iamsdk.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeUnassigned}))
	if len(unassigned.VirtualMFADevices) != 1 || unassigned.VirtualMFADevices[0].User != nil {
		t.Errorf("unassigned %+v", unassigned.VirtualMFADevices)
	}

	// Codes that are not two consecutive ones of the seed are refused.
	_, err = c.iam.EnableMFADevice(ctx, &iamsdk.EnableMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber,
		AuthenticationCode1: aws.String(code(t, seed, created, 1)), AuthenticationCode2: aws.String(code(t, seed, created, 0))})
	wantErr(t, err, "InvalidAuthenticationCode", 403, "Authentication code for device is not valid.")
	_, err = c.iam.EnableMFADevice(ctx, &iamsdk.EnableMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber,
		AuthenticationCode1: aws.String("12345a"), AuthenticationCode2: aws.String("123456")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value '12345a' at 'authenticationCode1' failed to satisfy constraint: Member must satisfy regular expression pattern: [\d]+`)
	must[*iamsdk.EnableMFADeviceOutput](t)(c.iam.EnableMFADevice(ctx, &iamsdk.EnableMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber,
		AuthenticationCode1: aws.String(code(t, seed, created, 0)), AuthenticationCode2: aws.String(code(t, seed, created, 1))}))
	_, err = c.iam.EnableMFADevice(ctx, &iamsdk.EnableMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber,
		AuthenticationCode1: aws.String(code(t, seed, created, 0)), AuthenticationCode2: aws.String(code(t, seed, created, 1))})
	wantErr(t, err, "EntityAlreadyExists", 409, "MFA Device is already in use.")

	listed := must[*iamsdk.ListMFADevicesOutput](t)(c.iam.ListMFADevices(ctx, &iamsdk.ListMFADevicesInput{UserName: aws.String("mia")})).MFADevices
	if len(listed) != 1 || aws.ToString(listed[0].SerialNumber) != serial || !aws.ToTime(listed[0].EnableDate).Equal(created) {
		t.Errorf("ListMFADevices %+v", listed)
	}
	assigned := must[*iamsdk.ListVirtualMFADevicesOutput](t)(c.iam.ListVirtualMFADevices(ctx, &iamsdk.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned})).VirtualMFADevices
	if len(assigned) != 1 || aws.ToString(assigned[0].User.UserName) != "mia" || len(assigned[0].Tags) != 1 {
		t.Errorf("assigned %+v", assigned)
	}
	got := must[*iamsdk.GetMFADeviceOutput](t)(c.iam.GetMFADevice(ctx, &iamsdk.GetMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber}))
	if aws.ToString(got.UserName) != "mia" || aws.ToString(got.SerialNumber) != serial {
		t.Errorf("GetMFADevice %+v", got)
	}
	summary := must[*iamsdk.GetAccountSummaryOutput](t)(c.iam.GetAccountSummary(ctx, &iamsdk.GetAccountSummaryInput{})).SummaryMap
	if summary["MFADevices"] != 1 || summary["MFADevicesInUse"] != 1 {
		t.Errorf("summary MFADevices %d, in use %d", summary["MFADevices"], summary["MFADevicesInUse"])
	}

	// STS checks a TokenCode through VerifyMFA.
	svc := iam.New(c.st, func() time.Time { return created })
	if ok, err := svc.VerifyMFA(account, serial, code(t, seed, created, 0)); !ok || err != nil {
		t.Errorf("VerifyMFA current code: %v %v", ok, err)
	}
	if ok, _ := svc.VerifyMFA(account, serial, code(t, seed, created, 5)); ok {
		t.Error("VerifyMFA took a code 5 steps ahead")
	}

	must[*iamsdk.ResyncMFADeviceOutput](t)(c.iam.ResyncMFADevice(ctx, &iamsdk.ResyncMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber,
		AuthenticationCode1: aws.String(code(t, seed, created, 40)), AuthenticationCode2: aws.String(code(t, seed, created, 41))}))

	must[*iamsdk.TagMFADeviceOutput](t)(c.iam.TagMFADevice(ctx, &iamsdk.TagMFADeviceInput{SerialNumber: dev.SerialNumber, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}))
	must[*iamsdk.UntagMFADeviceOutput](t)(c.iam.UntagMFADevice(ctx, &iamsdk.UntagMFADeviceInput{SerialNumber: dev.SerialNumber, TagKeys: []string{"owner"}}))
	tags := must[*iamsdk.ListMFADeviceTagsOutput](t)(c.iam.ListMFADeviceTags(ctx, &iamsdk.ListMFADeviceTagsInput{SerialNumber: dev.SerialNumber})).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "team" {
		t.Errorf("tags %+v", tags)
	}

	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("mia")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete MFA device first.")
	_, err = c.iam.DeleteVirtualMFADevice(ctx, &iamsdk.DeleteVirtualMFADeviceInput{SerialNumber: dev.SerialNumber})
	wantErr(t, err, "DeleteConflict", 409, "MFA device is still in use.")
	must[*iamsdk.DeactivateMFADeviceOutput](t)(c.iam.DeactivateMFADevice(ctx, &iamsdk.DeactivateMFADeviceInput{UserName: aws.String("mia"), SerialNumber: dev.SerialNumber}))
	if ok, _ := svc.VerifyMFA(account, serial, code(t, seed, created, 0)); ok {
		t.Error("VerifyMFA took a code of a deactivated device")
	}
	must[*iamsdk.DeleteVirtualMFADeviceOutput](t)(c.iam.DeleteVirtualMFADevice(ctx, &iamsdk.DeleteVirtualMFADeviceInput{SerialNumber: dev.SerialNumber}))
	_, err = c.iam.DeleteVirtualMFADevice(ctx, &iamsdk.DeleteVirtualMFADeviceInput{SerialNumber: dev.SerialNumber})
	wantErr(t, err, "NoSuchEntity", 404, "VirtualMFADevice with serial number "+serial+" doesn't exist.")
	must[*iamsdk.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("mia")}))
}

// TestMFAPages pages ListVirtualMFADevices.
func TestMFAPages(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	for _, n := range []string{"a", "b", "c"} {
		must[*iamsdk.CreateVirtualMFADeviceOutput](t)(c.iam.CreateVirtualMFADevice(ctx, &iamsdk.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(n)}))
	}
	var serials []string
	p := iamsdk.NewListVirtualMFADevicesPaginator(c.iam, &iamsdk.ListVirtualMFADevicesInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out := must[*iamsdk.ListVirtualMFADevicesOutput](t)(p.NextPage(ctx))
		pages++
		for _, d := range out.VirtualMFADevices {
			serials = append(serials, aws.ToString(d.SerialNumber))
		}
	}
	if pages != 2 || len(serials) != 3 || serials[2] != "arn:aws:iam::"+account+":mfa/c" {
		t.Errorf("%d pages: %v", pages, serials)
	}
}
