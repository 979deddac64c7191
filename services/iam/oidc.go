package iam

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// kindOIDC is an OpenID Connect identity provider (oidcRecord), keyed by
// its URL without the scheme: the resource part of its ARN after
// "oidc-provider/", kept as given (IAM does not normalize it).
const kindOIDC = "iam:oidcprovider"

// oidcRecord is an OpenID Connect identity provider.
type oidcRecord struct {
	// URL is the issuer without its scheme ("token.example.com/id/1"), as
	// GetOpenIDConnectProvider answers it.
	URL         string
	ClientIDs   []string `json:",omitempty"`
	Thumbprints []string `json:",omitempty"`
	Created     time.Time
	Tags        []tag `json:",omitempty"`
}

// The quotas of a provider.
const (
	maxClientIDs   = 100
	maxThumbprints = 5
)

var thumbprintRE = regexp.MustCompile(`^[0-9A-Fa-f]{40}$`)

// oidcKey is where the provider of ARN resource id (host/path) is kept.
func oidcKey(acct, id string) store.Key {
	return store.Key{Account: acct, Kind: kindOIDC, ID: id}
}

func oidcARN(acct, id string) string {
	return arn.New("iam", "", acct, "oidc-provider/"+id).String()
}

// oidcID is the provider id an issuer URL names: the URL without
// https://, as the ARN and the tokens' iss claim (scheme dropped) say it.
func oidcID(issuer string) string {
	return strings.TrimPrefix(strings.TrimPrefix(issuer, "https://"), "http://")
}

// checkIssuerURL applies IAM's rules to a provider URL: https, a host, no
// query or fragment.
func checkIssuerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw, "https://") || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(raw, "?") || strings.Contains(raw, "#") {
		return validationError("Invalid Open ID Connect Provider URL")
	}
	return nil
}

func checkThumbprints(ts []*string) error {
	if len(ts) > maxThumbprints {
		return errorf("InvalidInput", "Thumbprint list must contain fewer than %d entries.", maxThumbprints)
	}
	for _, t := range ts {
		if !thumbprintRE.MatchString(deref(t)) {
			return validationError("1 validation error detected: Value '%s' at 'thumbprintList' failed to satisfy constraint: Member must have length greater than or equal to 40", deref(t))
		}
	}
	return nil
}

// addClientIDs adds ids not already there, in order, within the quota.
func addClientIDs(have []string, ids ...string) ([]string, error) {
	for _, id := range ids {
		if id == "" || len(id) > 255 {
			return nil, validationError("1 validation error detected: Value '%s' at 'clientID' failed to satisfy constraint: Member must have length less than or equal to 255", id)
		}
		if !slices.Contains(have, id) {
			have = append(have, id)
		}
	}
	if len(have) > maxClientIDs {
		return nil, limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	return have, nil
}

// oidcFromARN reads the provider an ARN names in acct.
func oidcFromARN(tx *store.Tx, acct, providerARN string) (*oidcRecord, error) {
	id, ok := oidcIDOf(acct, providerARN)
	if ok {
		if p, found, err := store.Get[oidcRecord](tx, oidcKey(acct, id)); err != nil || found {
			return p, err
		}
	}
	return nil, errorf("NoSuchEntity", "OpenIDConnect Provider not found for arn %s", providerARN)
}

// oidcIDOf is the provider id of an ARN of acct's.
func oidcIDOf(acct, providerARN string) (string, bool) {
	a, err := arn.Parse(providerARN)
	if err != nil || a.Service != "iam" || a.Account != acct || !strings.HasPrefix(a.Resource, "oidc-provider/") {
		return "", false
	}
	return strings.TrimPrefix(a.Resource, "oidc-provider/"), true
}

func values(p []*string) []string {
	out := make([]string, len(p))
	for i, s := range p {
		out[i] = deref(s)
	}
	return out
}

func (s *Service) createOpenIDConnectProvider(ctx context.Context, in *iamapi.CreateOpenIDConnectProviderRequest) (*iamapi.CreateOpenIDConnectProviderResponse, error) {
	acct := account(ctx)
	if err := checkIssuerURL(*in.Url); err != nil {
		return nil, err
	}
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	ids, err := addClientIDs(nil, values(in.ClientIDList)...)
	if err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	id := oidcID(*in.Url)
	rec := &oidcRecord{URL: id, ClientIDs: ids, Thumbprints: values(in.ThumbprintList), Created: s.nowUTC(), Tags: tags}
	err = s.store.Update(func(tx *store.Tx) error {
		if _, found, err := store.Get[oidcRecord](tx, oidcKey(acct, id)); err != nil || found {
			if found {
				return errorf("EntityAlreadyExists", "Provider with url %s already exists.", *in.Url)
			}
			return err
		}
		return tx.Put(oidcKey(acct, id), rec)
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.CreateOpenIDConnectProviderResponse{OpenIDConnectProviderArn: str(oidcARN(acct, id))}
	if len(tags) > 0 {
		out.Tags = apiTags(tags)
	}
	return out, nil
}

func (s *Service) getOpenIDConnectProvider(ctx context.Context, in *iamapi.GetOpenIDConnectProviderRequest) (*iamapi.GetOpenIDConnectProviderResponse, error) {
	var p *oidcRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		p, err = oidcFromARN(tx, account(ctx), *in.OpenIDConnectProviderArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetOpenIDConnectProviderResponse{
		Url: str(p.URL), ClientIDList: strs(p.ClientIDs), ThumbprintList: strs(p.Thumbprints),
		CreateDate: timePtr(p.Created), Tags: apiTags(p.Tags),
	}, nil
}

func (s *Service) listOpenIDConnectProviders(ctx context.Context, _ *iamapi.ListOpenIDConnectProvidersRequest) (*iamapi.ListOpenIDConnectProvidersResponse, error) {
	acct := account(ctx)
	out := &iamapi.ListOpenIDConnectProvidersResponse{OpenIDConnectProviderList: []*iamapi.OpenIDConnectProviderListEntry{}}
	err := s.store.View(func(tx *store.Tx) error {
		return tx.List(acct, "", kindOIDC, func(id string, _ []byte) error {
			out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, &iamapi.OpenIDConnectProviderListEntry{Arn: str(oidcARN(acct, id))})
			return nil
		})
	})
	return out, err
}

func (s *Service) deleteOpenIDConnectProvider(ctx context.Context, in *iamapi.DeleteOpenIDConnectProviderRequest) (*iamapi.DeleteOpenIDConnectProviderOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := oidcFromARN(tx, acct, *in.OpenIDConnectProviderArn)
		if err != nil {
			return err
		}
		_, err = tx.Delete(oidcKey(acct, p.URL))
		return err
	})
	return &iamapi.DeleteOpenIDConnectProviderOutput{}, err
}

// updateOIDC changes the provider providerARN names with fn.
func (s *Service) updateOIDC(ctx context.Context, providerARN string, fn func(*oidcRecord) error) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		p, err := oidcFromARN(tx, acct, providerARN)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return tx.Put(oidcKey(acct, p.URL), p)
	})
}

func (s *Service) addClientIDToOpenIDConnectProvider(ctx context.Context, in *iamapi.AddClientIDToOpenIDConnectProviderRequest) (*iamapi.AddClientIDToOpenIDConnectProviderOutput, error) {
	err := s.updateOIDC(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRecord) error {
		ids, err := addClientIDs(p.ClientIDs, *in.ClientID)
		p.ClientIDs = ids
		return err
	})
	return &iamapi.AddClientIDToOpenIDConnectProviderOutput{}, err
}

// removeClientIDFromOpenIDConnectProvider succeeds for an id the provider
// does not have, as IAM does.
func (s *Service) removeClientIDFromOpenIDConnectProvider(ctx context.Context, in *iamapi.RemoveClientIDFromOpenIDConnectProviderRequest) (*iamapi.RemoveClientIDFromOpenIDConnectProviderOutput, error) {
	err := s.updateOIDC(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRecord) error {
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(id string) bool { return id == *in.ClientID })
		return nil
	})
	return &iamapi.RemoveClientIDFromOpenIDConnectProviderOutput{}, err
}

func (s *Service) updateOpenIDConnectProviderThumbprint(ctx context.Context, in *iamapi.UpdateOpenIDConnectProviderThumbprintRequest) (*iamapi.UpdateOpenIDConnectProviderThumbprintOutput, error) {
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	err := s.updateOIDC(ctx, *in.OpenIDConnectProviderArn, func(p *oidcRecord) error {
		p.Thumbprints = values(in.ThumbprintList)
		return nil
	})
	return &iamapi.UpdateOpenIDConnectProviderThumbprintOutput{}, err
}

func oidcTagging(tx *store.Tx, acct, providerARN string) (tagging, error) {
	p, err := oidcFromARN(tx, acct, providerARN)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&p.Tags, func() error { return tx.Put(oidcKey(acct, p.URL), p) }}, nil
}

func (s *Service) tagOpenIDConnectProvider(ctx context.Context, in *iamapi.TagOpenIDConnectProviderRequest) (*iamapi.TagOpenIDConnectProviderOutput, error) {
	return &iamapi.TagOpenIDConnectProviderOutput{}, s.tag(ctx, oidcTagging, *in.OpenIDConnectProviderArn, in.Tags)
}

func (s *Service) untagOpenIDConnectProvider(ctx context.Context, in *iamapi.UntagOpenIDConnectProviderRequest) (*iamapi.UntagOpenIDConnectProviderOutput, error) {
	return &iamapi.UntagOpenIDConnectProviderOutput{}, s.untag(ctx, oidcTagging, *in.OpenIDConnectProviderArn, in.TagKeys)
}

func (s *Service) listOpenIDConnectProviderTags(ctx context.Context, in *iamapi.ListOpenIDConnectProviderTagsRequest) (*iamapi.ListOpenIDConnectProviderTagsResponse, error) {
	p, err := s.listTags(ctx, oidcTagging, *in.OpenIDConnectProviderArn, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListOpenIDConnectProviderTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}
