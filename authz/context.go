package authz

import (
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/policy"
)

// requestKeys sets the global condition keys the request itself carries.
// The principal's keys (aws:PrincipalArn, aws:userid, aws:username...)
// the policy package derives from r.Principal.
func requestKeys(r *policy.Request, req *api.Request) {
	r.Time = req.Time
	if req.Region != "" {
		r.Context.Set("aws:RequestedRegion", req.Region)
	}
	if req.SourceIP.IsValid() {
		r.Context.Set("aws:SourceIp", req.SourceIP.String())
	}
	r.Context.Set("aws:SecureTransport", strconv.FormatBool(req.TLS))
	// "This key is not present when [...] long-term credentials" are
	// used; temporary credentials say whether MFA made them.
	if s := req.Caller.Session; s != nil && !req.Anonymous {
		r.Context.Set("aws:MultiFactorAuthPresent", strconv.FormatBool(s.MFA))
	}
}

// sessionTags are a session's aws:PrincipalTag/ values: its role's (or
// user's) tags, with the session's tags overriding those of the same key
// (IAM tag keys are case-insensitive).
func sessionTags(own, session map[string]string) map[string]string {
	if len(session) == 0 {
		return own
	}
	out := make(map[string]string, len(own)+len(session))
	for k, v := range own {
		out[k] = v
	}
	for k, v := range session {
		for o := range out {
			if strings.EqualFold(o, k) {
				delete(out, o)
			}
		}
		out[k] = v
	}
	return out
}
