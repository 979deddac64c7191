package sts

import (
	"net/http"

	"github.com/cloudbox/cloudbox/api"
)

// MFAVerifier checks a code of an IAM MFA device (services/iam).
type MFAVerifier interface {
	VerifyMFA(account, serial, code string) (bool, error)
}

// errBadMFA is AWS's answer to a TokenCode the device did not show.
var errBadMFA = api.NewError(http.StatusForbidden, "AccessDenied", "MultiFactorAuthentication failed with invalid MFA one time pass code.")

// checkMFA reports whether a call that gave serial and code authenticated
// with MFA: false when it gave neither, an AccessDenied when the code is
// not the device's current one. Without IAM (no devices to check against)
// a code is taken on trust.
func (s *Service) checkMFA(account string, serial, code *string) (bool, error) {
	if serial == nil || code == nil {
		return false, nil
	}
	v, ok := s.roles.(MFAVerifier)
	if !ok {
		return true, nil
	}
	good, err := v.VerifyMFA(account, *serial, *code)
	if err != nil {
		return false, err
	}
	if !good {
		return false, errBadMFA
	}
	return true, nil
}
