package iam

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"time"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// kindSAML is a SAML provider (samlRecord), by the lower-case name.
const kindSAML = "iam:saml"

// maxSAMLProviders is the quota of SAML providers in an account.
const maxSAMLProviders = 100

const samlNamePattern = `[\w._-]+`

var samlNameRE = regexp.MustCompile(`^` + samlNamePattern + `$`)

// samlRecord is a SAML 2.0 identity provider: its metadata document as
// given.
type samlRecord struct {
	Name       string
	Metadata   string
	Created    time.Time
	ValidUntil time.Time `json:",omitempty"`
	Tags       []tag     `json:",omitempty"`
}

func (p *samlRecord) arn(acct string) string {
	return "arn:aws:iam::" + acct + ":saml-provider/" + p.Name
}

// samlMetadata checks that doc is an XML document whose root is a SAML
// metadata EntityDescriptor, and returns its validUntil (zero if none).
func samlMetadata(doc string) (time.Time, error) {
	bad := errorf("InvalidInput", "Could not parse metadata")
	d := xml.NewDecoder(strings.NewReader(doc))
	var root *xml.StartElement
	for {
		tok, err := d.Token()
		if err == io.EOF && root != nil {
			break
		}
		if err != nil {
			return time.Time{}, bad
		}
		switch tok := tok.(type) {
		case xml.CharData:
			// Only spaces may be outside the root element.
			if len(bytes.TrimSpace(tok)) > 0 {
				return time.Time{}, bad
			}
		case xml.Directive:
			if root != nil {
				return time.Time{}, bad
			}
		case xml.StartElement:
			// One root, an EntityDescriptor, well-formed to its end.
			if root != nil || tok.Name.Local != "EntityDescriptor" || d.Skip() != nil {
				return time.Time{}, bad
			}
			root = &tok
		}
	}
	for _, a := range root.Attr {
		if a.Name.Local == "validUntil" {
			if t, err := time.Parse(time.RFC3339, a.Value); err == nil {
				return t.UTC(), nil
			}
		}
	}
	return time.Time{}, nil
}

// samlName returns the name of the provider samlARN names in acct.
func samlName(acct, samlARN string) (string, error) {
	name, ok := strings.CutPrefix(samlARN, "arn:aws:iam::"+acct+":saml-provider/")
	if !ok || !samlNameRE.MatchString(name) {
		return "", noSuchSAML(samlARN)
	}
	return name, nil
}

func noSuchSAML(samlARN string) error {
	return errorf("NoSuchEntity", "Manifest not found for arn %s", samlARN)
}

func loadSAML(tx *store.Tx, acct, samlARN string) (*samlRecord, error) {
	name, err := samlName(acct, samlARN)
	if err != nil {
		return nil, err
	}
	p, ok, err := store.Get[samlRecord](tx, key(acct, kindSAML, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchSAML(samlARN)
	}
	return p, nil
}

func (s *Service) createSAMLProvider(ctx context.Context, in *iamapi.CreateSAMLProviderRequest) (*iamapi.CreateSAMLProviderResponse, error) {
	acct, name := account(ctx), *in.Name
	if !samlNameRE.MatchString(name) {
		return nil, patternError("name", name, samlNamePattern)
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	until, err := samlMetadata(*in.SAMLMetadataDocument)
	if err != nil {
		return nil, err
	}
	p := samlRecord{Name: name, Metadata: *in.SAMLMetadataDocument, Created: s.nowUTC(), ValidUntil: until, Tags: tags}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := unused(tx, acct, kindSAML, name, errorf("EntityAlreadyExists", "SAMLProvider entity with name %s already exists.", name)); err != nil {
			return err
		}
		n, err := tx.Count(acct, "", kindSAML)
		if err != nil {
			return err
		}
		if n >= maxSAMLProviders {
			return limitExceeded("Cannot exceed quota for SAMLProvidersPerAccount: %d", maxSAMLProviders)
		}
		return tx.Put(key(acct, kindSAML, name), p)
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.CreateSAMLProviderResponse{SAMLProviderArn: str(p.arn(acct))}
	if len(tags) > 0 {
		out.Tags = apiTags(tags)
	}
	return out, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Service) getSAMLProvider(ctx context.Context, in *iamapi.GetSAMLProviderRequest) (*iamapi.GetSAMLProviderResponse, error) {
	acct := account(ctx)
	var p *samlRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		p, err = loadSAML(tx, acct, *in.SAMLProviderArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetSAMLProviderResponse{SAMLMetadataDocument: str(p.Metadata), CreateDate: timePtr(p.Created), ValidUntil: optTime(p.ValidUntil)}
	if len(p.Tags) > 0 {
		out.Tags = apiTags(p.Tags)
	}
	return out, nil
}

func (s *Service) listSAMLProviders(ctx context.Context, _ *iamapi.ListSAMLProvidersRequest) (*iamapi.ListSAMLProvidersResponse, error) {
	acct := account(ctx)
	out := &iamapi.ListSAMLProvidersResponse{SAMLProviderList: []*iamapi.SAMLProviderListEntry{}}
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[samlRecord](tx, acct, "", kindSAML)
		for _, p := range all {
			out.SAMLProviderList = append(out.SAMLProviderList, &iamapi.SAMLProviderListEntry{Arn: str(p.arn(acct)), CreateDate: timePtr(p.Created), ValidUntil: optTime(p.ValidUntil)})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) updateSAMLProvider(ctx context.Context, in *iamapi.UpdateSAMLProviderRequest) (*iamapi.UpdateSAMLProviderResponse, error) {
	acct := account(ctx)
	until, err := samlMetadata(*in.SAMLMetadataDocument)
	if err != nil {
		return nil, err
	}
	var arn string
	err = s.store.Update(func(tx *store.Tx) error {
		p, err := loadSAML(tx, acct, *in.SAMLProviderArn)
		if err != nil {
			return err
		}
		p.Metadata, p.ValidUntil, arn = *in.SAMLMetadataDocument, until, p.arn(acct)
		return tx.Put(key(acct, kindSAML, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateSAMLProviderResponse{SAMLProviderArn: str(arn)}, nil
}

func (s *Service) deleteSAMLProvider(ctx context.Context, in *iamapi.DeleteSAMLProviderRequest) (*iamapi.DeleteSAMLProviderOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := loadSAML(tx, acct, *in.SAMLProviderArn)
		if err != nil {
			return err
		}
		_, err = tx.Delete(key(acct, kindSAML, p.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteSAMLProviderOutput{}, nil
}

func samlTagging(tx *store.Tx, acct, samlARN string) (tagging, error) {
	p, err := loadSAML(tx, acct, samlARN)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&p.Tags, func() error { return tx.Put(key(acct, kindSAML, p.Name), p) }}, nil
}

func (s *Service) tagSAMLProvider(ctx context.Context, in *iamapi.TagSAMLProviderRequest) (*iamapi.TagSAMLProviderOutput, error) {
	return &iamapi.TagSAMLProviderOutput{}, s.tag(ctx, samlTagging, *in.SAMLProviderArn, in.Tags)
}

func (s *Service) untagSAMLProvider(ctx context.Context, in *iamapi.UntagSAMLProviderRequest) (*iamapi.UntagSAMLProviderOutput, error) {
	return &iamapi.UntagSAMLProviderOutput{}, s.untag(ctx, samlTagging, *in.SAMLProviderArn, in.TagKeys)
}

func (s *Service) listSAMLProviderTags(ctx context.Context, in *iamapi.ListSAMLProviderTagsRequest) (*iamapi.ListSAMLProviderTagsResponse, error) {
	p, err := s.listTags(ctx, samlTagging, *in.SAMLProviderArn, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListSAMLProviderTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}
