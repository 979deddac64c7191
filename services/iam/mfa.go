package iam

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// kindMFA is a virtual MFA device (mfaRecord), by its serial number (the
// device's ARN).
const kindMFA = "iam:mfa"

// maxMFAPerUser is the quota of MFA devices one user may have enabled.
const maxMFAPerUser = 8

// mfaRecord is a virtual MFA device: its TOTP secret and, once enabled,
// the user it is assigned to.
type mfaRecord struct {
	Serial  string
	Secret  []byte
	Created time.Time
	Tags    []tag `json:",omitempty"`
	// UserID is the unique id of the user it is enabled for, "" when
	// unassigned.
	UserID  string    `json:",omitempty"`
	Enabled time.Time `json:",omitempty"`
}

var codeRE = regexp.MustCompile(`^[\d]+$`)

// totp is the RFC 6238 code of secret for the 30-second step counter:
// HMAC-SHA1, 6 digits, as authenticator apps compute it.
func totp(secret []byte, counter int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1000000)
}

// step is the TOTP counter of t.
func step(t time.Time) int64 { return t.Unix() / 30 }

// consecutive reports whether code1 and code2 are the codes of two
// consecutive steps within window steps of now.
func consecutive(secret []byte, now time.Time, window int64, code1, code2 string) bool {
	c := step(now)
	for d := -window; d <= window; d++ {
		if hmac.Equal([]byte(totp(secret, c+d)), []byte(code1)) && hmac.Equal([]byte(totp(secret, c+d+1)), []byte(code2)) {
			return true
		}
	}
	return false
}

// VerifyMFA reports whether code is the current code (give or take one
// 30-second step, for clocks apart) of the virtual MFA device serial in
// account, which must be enabled for a user: what STS checks a TokenCode
// with. An unknown or unassigned device is false, not an error.
func (s *Service) VerifyMFA(account, serial, code string) (bool, error) {
	var d *mfaRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		d, _, err = store.Get[mfaRecord](tx, key(account, kindMFA, serial))
		return err
	})
	if err != nil || d == nil || d.UserID == "" {
		return false, err
	}
	c := step(s.now())
	for dc := int64(-1); dc <= 1; dc++ {
		if hmac.Equal([]byte(totp(d.Secret, c+dc)), []byte(code)) {
			return true, nil
		}
	}
	return false, nil
}

func noSuchMFA(serial string) error {
	return errorf("NoSuchEntity", "VirtualMFADevice with serial number %s doesn't exist.", serial)
}

func loadMFA(tx *store.Tx, acct, serial string) (*mfaRecord, error) {
	d, ok, err := store.Get[mfaRecord](tx, key(acct, kindMFA, serial))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchMFA(serial)
	}
	return d, nil
}

func saveMFA(tx *store.Tx, acct string, d *mfaRecord) error {
	return tx.Put(key(acct, kindMFA, d.Serial), d)
}

// checkCodes checks two authentication codes' pattern (the model checks
// their length).
func checkCodes(code1, code2 string) error {
	if !codeRE.MatchString(code1) {
		return patternError("authenticationCode1", code1, `[\d]+`)
	}
	if !codeRE.MatchString(code2) {
		return patternError("authenticationCode2", code2, `[\d]+`)
	}
	return nil
}

func (s *Service) createVirtualMFADevice(ctx context.Context, in *iamapi.CreateVirtualMFADeviceRequest) (*iamapi.CreateVirtualMFADeviceResponse, error) {
	acct, name := account(ctx), *in.VirtualMFADeviceName
	if err := checkName("virtualMFADeviceName", name); err != nil {
		return nil, err
	}
	path, err := pathOf(in.Path)
	if err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 40)
	rand.Read(secret)
	d := mfaRecord{Serial: "arn:aws:iam::" + acct + ":mfa" + path + name, Secret: secret, Created: s.nowUTC(), Tags: tags}
	seed := base32.StdEncoding.EncodeToString(secret)
	// The URI authenticator apps read, as IAM's QR code carries it.
	uri := "otpauth://totp/" + url.PathEscape(name+"@"+acct) + "?secret=" + seed
	png, err := qrcode.Encode(uri, qrcode.Medium, 256)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := unused(tx, acct, kindMFA, d.Serial, errorf("EntityAlreadyExists", "MFADevice entity at the same path and name already exists.")); err != nil {
			return err
		}
		return saveMFA(tx, acct, &d)
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.VirtualMFADevice{SerialNumber: str(d.Serial), Base32StringSeed: []byte(seed), QRCodePNG: png}
	if len(tags) > 0 {
		out.Tags = apiTags(tags)
	}
	return &iamapi.CreateVirtualMFADeviceResponse{VirtualMFADevice: out}, nil
}

// userMFA loads the user named and the device serial, which must be
// enabled for that user.
func userMFA(tx *store.Tx, acct, userName, serial string) (*userRecord, *mfaRecord, error) {
	u, err := loadUser(tx, acct, userName)
	if err != nil {
		return nil, nil, err
	}
	d, ok, err := store.Get[mfaRecord](tx, key(acct, kindMFA, serial))
	if err != nil {
		return nil, nil, err
	}
	if !ok || d.UserID != u.ID {
		return nil, nil, errorf("NoSuchEntity", "MFA Device with serial number %s does not exist.", serial)
	}
	return u, d, nil
}

func invalidCode() error {
	return errorf("InvalidAuthenticationCode", "Authentication code for device is not valid.")
}

func (s *Service) enableMFADevice(ctx context.Context, in *iamapi.EnableMFADeviceRequest) (*iamapi.EnableMFADeviceOutput, error) {
	acct := account(ctx)
	if err := checkCodes(*in.AuthenticationCode1, *in.AuthenticationCode2); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		d, err := loadMFA(tx, acct, *in.SerialNumber)
		if err != nil {
			return err
		}
		if d.UserID != "" {
			return errorf("EntityAlreadyExists", "MFA Device is already in use.")
		}
		n, err := countMFA(tx, acct, u.ID)
		if err != nil {
			return err
		}
		if n >= maxMFAPerUser {
			return limitExceeded("Cannot exceed quota for MFADevicesPerUser: %d", maxMFAPerUser)
		}
		if !consecutive(d.Secret, s.now(), 2, *in.AuthenticationCode1, *in.AuthenticationCode2) {
			return invalidCode()
		}
		d.UserID, d.Enabled = u.ID, s.nowUTC()
		return saveMFA(tx, acct, d)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.EnableMFADeviceOutput{}, nil
}

// countMFA counts the devices enabled for the user with id userID.
func countMFA(tx *store.Tx, acct, userID string) (int, error) {
	all, err := store.ListAll[mfaRecord](tx, acct, "", kindMFA)
	n := 0
	for _, d := range all {
		if d.UserID == userID {
			n++
		}
	}
	return n, err
}

func (s *Service) resyncMFADevice(ctx context.Context, in *iamapi.ResyncMFADeviceRequest) (*iamapi.ResyncMFADeviceOutput, error) {
	acct := account(ctx)
	if err := checkCodes(*in.AuthenticationCode1, *in.AuthenticationCode2); err != nil {
		return nil, err
	}
	err := s.store.View(func(tx *store.Tx) error {
		_, d, err := userMFA(tx, acct, *in.UserName, *in.SerialNumber)
		if err != nil {
			return err
		}
		// The codes are checked against the seed over a day either way:
		// cloudbox keeps no drift to correct, so a resync succeeds when
		// the device is in step with itself.
		if !consecutive(d.Secret, s.now(), 2880, *in.AuthenticationCode1, *in.AuthenticationCode2) {
			return invalidCode()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.ResyncMFADeviceOutput{}, nil
}

func (s *Service) deactivateMFADevice(ctx context.Context, in *iamapi.DeactivateMFADeviceRequest) (*iamapi.DeactivateMFADeviceOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		_, d, err := userMFA(tx, acct, *in.UserName, *in.SerialNumber)
		if err != nil {
			return err
		}
		d.UserID, d.Enabled = "", time.Time{}
		return saveMFA(tx, acct, d)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeactivateMFADeviceOutput{}, nil
}

func (s *Service) deleteVirtualMFADevice(ctx context.Context, in *iamapi.DeleteVirtualMFADeviceRequest) (*iamapi.DeleteVirtualMFADeviceOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		d, err := loadMFA(tx, acct, *in.SerialNumber)
		if err != nil {
			return err
		}
		if d.UserID != "" {
			return deleteConflict("MFA device is still in use.")
		}
		_, err = tx.Delete(key(acct, kindMFA, d.Serial))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteVirtualMFADeviceOutput{}, nil
}

func (s *Service) listMFADevices(ctx context.Context, in *iamapi.ListMFADevicesRequest) (*iamapi.ListMFADevicesResponse, error) {
	acct := account(ctx)
	name, root, err := keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var mine []*mfaRecord
	var owner string
	if !root {
		err = s.store.View(func(tx *store.Tx) error {
			u, err := loadUser(tx, acct, name)
			if err != nil {
				return err
			}
			owner = u.Name
			all, err := store.ListAll[mfaRecord](tx, acct, "", kindMFA)
			for _, d := range all {
				if d.UserID == u.ID {
					mine = append(mine, d)
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	p, err := page(mine, func(d *mfaRecord) string { return d.Serial }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListMFADevicesResponse{MFADevices: []*iamapi.MFADevice{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, d := range p.items {
		out.MFADevices = append(out.MFADevices, &iamapi.MFADevice{UserName: str(owner), SerialNumber: str(d.Serial), EnableDate: timePtr(d.Enabled)})
	}
	return out, nil
}

// usersByID are the account's users by unique id.
func usersByID(tx *store.Tx, acct string) (map[string]*userRecord, error) {
	all, err := store.ListAll[userRecord](tx, acct, "", kindUser)
	m := make(map[string]*userRecord, len(all))
	for _, u := range all {
		m[u.ID] = u
	}
	return m, err
}

func (s *Service) listVirtualMFADevices(ctx context.Context, in *iamapi.ListVirtualMFADevicesRequest) (*iamapi.ListVirtualMFADevicesResponse, error) {
	acct := account(ctx)
	if err := checkEnum("assignmentStatus", in.AssignmentStatus, "Assigned", "Unassigned", "Any"); err != nil {
		return nil, err
	}
	status := "Any"
	if in.AssignmentStatus != nil {
		status = *in.AssignmentStatus
	}
	var (
		devices []*mfaRecord
		byID    map[string]*userRecord
	)
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[mfaRecord](tx, acct, "", kindMFA)
		if err != nil {
			return err
		}
		for _, d := range all {
			if status == "Any" || (status == "Assigned") == (d.UserID != "") {
				devices = append(devices, d)
			}
		}
		byID, err = usersByID(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := page(devices, func(d *mfaRecord) string { return strings.ToLower(d.Serial) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListVirtualMFADevicesResponse{VirtualMFADevices: []*iamapi.VirtualMFADevice{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, d := range p.items {
		v := &iamapi.VirtualMFADevice{SerialNumber: str(d.Serial)}
		if u := byID[d.UserID]; u != nil {
			v.User, v.EnableDate = u.api(acct, false), timePtr(d.Enabled)
		}
		if len(d.Tags) > 0 {
			v.Tags = apiTags(d.Tags)
		}
		out.VirtualMFADevices = append(out.VirtualMFADevices, v)
	}
	return out, nil
}

func (s *Service) getMFADevice(ctx context.Context, in *iamapi.GetMFADeviceRequest) (*iamapi.GetMFADeviceResponse, error) {
	acct := account(ctx)
	name, root, err := keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	if root {
		return nil, errorf("NoSuchEntity", "MFA Device with serial number %s does not exist.", *in.SerialNumber)
	}
	var out *iamapi.GetMFADeviceResponse
	err = s.store.View(func(tx *store.Tx) error {
		u, d, err := userMFA(tx, acct, name, *in.SerialNumber)
		if err != nil {
			return err
		}
		out = &iamapi.GetMFADeviceResponse{UserName: str(u.Name), SerialNumber: str(d.Serial), EnableDate: timePtr(d.Enabled)}
		return nil
	})
	return out, err
}

func mfaTagging(tx *store.Tx, acct, serial string) (tagging, error) {
	d, err := loadMFA(tx, acct, serial)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&d.Tags, func() error { return saveMFA(tx, acct, d) }}, nil
}

func (s *Service) tagMFADevice(ctx context.Context, in *iamapi.TagMFADeviceRequest) (*iamapi.TagMFADeviceOutput, error) {
	return &iamapi.TagMFADeviceOutput{}, s.tag(ctx, mfaTagging, *in.SerialNumber, in.Tags)
}

func (s *Service) untagMFADevice(ctx context.Context, in *iamapi.UntagMFADeviceRequest) (*iamapi.UntagMFADeviceOutput, error) {
	return &iamapi.UntagMFADeviceOutput{}, s.untag(ctx, mfaTagging, *in.SerialNumber, in.TagKeys)
}

func (s *Service) listMFADeviceTags(ctx context.Context, in *iamapi.ListMFADeviceTagsRequest) (*iamapi.ListMFADeviceTagsResponse, error) {
	p, err := s.listTags(ctx, mfaTagging, *in.SerialNumber, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListMFADeviceTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}
