package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/policy"
)

// AssumeRoleWithWebIdentity is called unsigned, with an OpenID Connect ID
// token as the proof of identity. cloudbox checks what it can without the
// internet: the token is a JWT signed with a named algorithm (not "none"),
// its issuer is an OpenID Connect provider IAM has in the role's account,
// its audience one of that provider's client ids, and it has not expired;
// the trust policy then decides, with <provider>:aud, :sub and :amr. The
// signature is not verified: the issuer's keys (its JWKS) cannot be
// fetched here, so anyone who can reach cloudbox can mint a token.
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *stsapi.AssumeRoleWithWebIdentityRequest) (*stsapi.AssumeRoleWithWebIdentityResponse, error) {
	r, err := s.loadRole(*in.RoleArn)
	if err != nil {
		return nil, err
	}
	if err := checkSessionName(*in.RoleSessionName); err != nil {
		return nil, err
	}
	d, err := r.duration(in.DurationSeconds, false)
	if err != nil {
		return nil, err
	}
	c, err := parseToken(*in.WebIdentityToken)
	if err != nil {
		return nil, err
	}
	provider := strings.TrimPrefix(c.Issuer, "https://")
	providerARN := arn.ARN{Partition: r.arn.Partition, Service: "iam", Account: r.arn.Account, Resource: "oidc-provider/" + provider}.String()
	var clientIDs []string
	found := false
	if s.roles != nil {
		if clientIDs, found, err = s.roles.OIDCClientIDs(providerARN); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, api.Errorf("InvalidIdentityToken", "No OpenIDConnect provider found in your account for %s", c.Issuer)
	}
	aud, ok := c.audience(clientIDs)
	if !ok {
		return nil, api.Errorf("InvalidIdentityToken", "Incorrect token audience")
	}
	if now := s.now().Unix(); c.Expires == nil {
		return nil, api.Errorf("InvalidIdentityToken", "Missing a required claim: exp")
	} else if now >= int64(*c.Expires) {
		return nil, api.Errorf("ExpiredTokenException", "Token expired: current date/time %d must be before the expiration date/time%d", now, int64(*c.Expires))
	}
	if c.Subject == "" {
		return nil, api.Errorf("InvalidIdentityToken", "Missing a required claim: sub")
	}
	sess, keys, packed, err := session(sessionInput{policy: in.Policy, policyARNs: in.PolicyArns}, nil)
	if err != nil {
		return nil, err
	}
	keys[provider+":aud"] = []string{aud}
	keys[provider+":sub"] = []string{c.Subject}
	if len(c.AMR) > 0 {
		keys[provider+":amr"] = c.AMR
	}
	keys["aws:FederatedProvider"] = []string{providerARN}
	denied := func(string) error {
		return api.NewError(http.StatusForbidden, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
	}
	if s.roles == nil {
		return nil, denied("")
	}
	_, err = s.checkTrust(trustCheck{
		role:      *in.RoleArn,
		principal: policy.Principal{Type: policy.WebIdentity, ARN: providerARN, Account: r.arn.Account},
		actions:   []string{"sts:AssumeRoleWithWebIdentity"},
		keys:      keys,
		denied:    denied,
		strict:    true,
	})
	if err != nil {
		return nil, err
	}
	cred, err := s.ids.Issue(r.principal(*in.RoleSessionName, sess), s.now(), d)
	if err != nil {
		return nil, err
	}
	p := cred.Principal
	return &stsapi.AssumeRoleWithWebIdentityResponse{
		Credentials:                 credentials(cred),
		AssumedRoleUser:             &stsapi.AssumedRoleUser{Arn: &p.ARN, AssumedRoleId: &p.UserID},
		SubjectFromWebIdentityToken: &c.Subject,
		Audience:                    &aud,
		Provider:                    &c.Issuer,
		PackedPolicySize:            packed,
	}, nil
}

// claims are the ID token's claims STS reads.
type claims struct {
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience json.RawMessage `json:"aud"`
	Expires  *float64        `json:"exp"`
	AMR      []string        `json:"amr"`
}

// audience returns the token's audience that is one of clientIDs; aud
// is a string or a list of them.
func (c claims) audience(clientIDs []string) (string, bool) {
	var auds []string
	var one string
	if json.Unmarshal(c.Audience, &one) == nil {
		auds = []string{one}
	} else if json.Unmarshal(c.Audience, &auds) != nil {
		return "", false
	}
	for _, a := range auds {
		for _, id := range clientIDs {
			if a == id {
				return a, true
			}
		}
	}
	return "", false
}

// parseToken reads a JWT's header and claims, refusing what is not one.
func parseToken(token string) (claims, error) {
	invalid := api.Errorf("InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, invalid
	}
	var header struct {
		Alg string `json:"alg"`
	}
	var c claims
	hb, err1 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	cb, err2 := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &c) != nil {
		return claims{}, invalid
	}
	if header.Alg == "" || strings.EqualFold(header.Alg, "none") || parts[2] == "" {
		return claims{}, api.Errorf("InvalidIdentityToken", "The ID Token provided is not signed")
	}
	if c.Issuer == "" {
		return claims{}, api.Errorf("InvalidIdentityToken", "Missing a required claim: iss")
	}
	if len(c.Audience) == 0 {
		return claims{}, api.Errorf("InvalidIdentityToken", "Missing a required claim: aud")
	}
	return c, nil
}
