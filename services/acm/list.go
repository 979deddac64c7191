package acm

import (
	"cmp"
	"context"
	"encoding/base64"
	"slices"
	"strconv"

	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/store"
)

// defaultKeyTypes are the key types ListCertificates shows when the request
// names none, as AWS documents.
var defaultKeyTypes = []string{acmapi.KeyAlgorithmRSA1024, acmapi.KeyAlgorithmRSA2048}

const defaultMaxItems = 1000

func (s *Service) listCertificates(ctx context.Context, in *acmapi.ListCertificatesRequest) (*acmapi.ListCertificatesResponse, error) {
	sc := scopeOf(ctx)
	offset := 0
	if in.NextToken != nil {
		b, err := base64.RawURLEncoding.DecodeString(*in.NextToken)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 {
			return nil, api.Errorf("InvalidArgsException", "The NextToken %s is not valid.", *in.NextToken)
		}
		offset = n
	}
	limit := defaultMaxItems
	if in.MaxItems != nil {
		limit = int(*in.MaxItems)
	}
	statuses := derefAll(in.CertificateStatuses)
	keyTypes, keyUsage, extUsage := defaultKeyTypes, []string(nil), []string(nil)
	if f := in.Includes; f != nil {
		if len(f.KeyTypes) > 0 {
			keyTypes = derefAll(f.KeyTypes)
		}
		keyUsage, extUsage = derefAll(f.KeyUsage), derefAll(f.ExtendedKeyUsage)
	}

	var all []*certRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		all, err = store.ListAll[certRecord](tx, sc.account, sc.region, certKind)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	var match []*certRecord
	for _, r := range all {
		r.settle(now)
		if len(statuses) > 0 && !slices.Contains(statuses, r.Status) {
			continue
		}
		if !slices.Contains(keyTypes, r.KeyAlgo) {
			continue
		}
		if (len(keyUsage) > 0 || len(extUsage) > 0) && !r.hasUsages(keyUsage, extUsage) {
			continue
		}
		match = append(match, r)
	}
	slices.SortFunc(match, func(a, b *certRecord) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ARN, b.ARN))
	})
	if deref(in.SortOrder) == acmapi.SortOrderDESCENDING {
		slices.Reverse(match)
	}
	out := &acmapi.ListCertificatesResponse{CertificateSummaryList: []*acmapi.CertificateSummary{}}
	if offset >= len(match) {
		return out, nil
	}
	end := min(offset+limit, len(match))
	for _, r := range match[offset:end] {
		out.CertificateSummaryList = append(out.CertificateSummaryList, r.summary())
	}
	if end < len(match) {
		out.NextToken = str(base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
	}
	return out, nil
}

// hasUsages reports whether the certificate has every key usage and every
// extended key usage asked for.
func (r *certRecord) hasUsages(keyUsage, extUsage []string) bool {
	c, err := ca.ParseCertificate([]byte(r.CertPEM))
	if err != nil || !r.hasCertificate() {
		return false
	}
	have := keyUsages(c)
	for _, u := range keyUsage {
		if u != acmapi.KeyUsageNameANY && !slices.Contains(have, u) {
			return false
		}
	}
	var haveExt []string
	for _, u := range c.ExtKeyUsage {
		name, _ := extKeyUsage(u)
		haveExt = append(haveExt, name)
	}
	for _, u := range extUsage {
		switch {
		case u == acmapi.ExtendedKeyUsageNameANY:
		case u == acmapi.ExtendedKeyUsageNameNONE:
			if len(haveExt) > 0 {
				return false
			}
		case !slices.Contains(haveExt, u):
			return false
		}
	}
	return true
}

func derefAll(ps []*string) []string {
	var out []string
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}
