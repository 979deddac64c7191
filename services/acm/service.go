// Package acm implements AWS Certificate Manager: imported certificates,
// and requested ones that cloudbox's own CA (package ca) signs, for the
// load balancer's HTTPS listeners.
//
// A request is PENDING_VALIDATION and shows the DNS record (or the e-mail
// addresses) AWS asks for. DNS validation is real when Route 53 is there
// (SetPublicDNS): the certificate is ISSUED once every CNAME resolves on
// the simulated internet, from a public hosted zone. E-mail validation
// has no mailbox to reach: such a request is ISSUED by itself after
// ValidationDelay. Clients see AWS's sequence of states (the SDK waiter
// CertificateValidated works), and `curl --cacert <cloudbox CA>` verifies
// the certificate.
package acm

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/store"
)

const (
	// DefaultValidationDelay is how long a requested certificate stays
	// PENDING_VALIDATION.
	DefaultValidationDelay = 2 * time.Second
	// DefaultLimit is ACM's default quota of certificates per account and
	// region.
	DefaultLimit = 2500
	// issuedValidity is the lifetime of the certificates ACM issues (395
	// days, as AWS's public certificates had until 2026).
	issuedValidity = 395 * 24 * time.Hour
	// tokenTTL is how long an idempotency token returns the same ARN.
	tokenTTL = time.Hour
)

// Service is the ACM implementation. Set its exported fields before it
// serves.
type Service struct {
	// ValidationDelay is how long a requested certificate waits in
	// PENDING_VALIDATION before it is ISSUED.
	ValidationDelay time.Duration
	// Limit is the number of certificates an account may hold per region.
	Limit int

	store *store.Store
	now   func() time.Time
	log   *slog.Logger
	ca    *ca.CA
	// dns, when set, validates DNS-method requests for real (validate.go).
	dns PublicDNS
}

// New returns ACM over st, issuing certificates with authority.
func New(st *store.Store, now func() time.Time, log *slog.Logger, authority *ca.CA) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{ValidationDelay: DefaultValidationDelay, Limit: DefaultLimit, store: st, now: now, log: log, ca: authority}
}

// Handlers returns the operations ACM implements.
func (s *Service) Handlers() *acmapi.Handlers {
	return &acmapi.Handlers{
		ImportCertificate:         s.importCertificate,
		RequestCertificate:        s.requestCertificate,
		DescribeCertificate:       s.describeCertificate,
		ListCertificates:          s.listCertificates,
		GetCertificate:            s.getCertificate,
		DeleteCertificate:         s.deleteCertificate,
		ExportCertificate:         s.exportCertificate,
		UpdateCertificateOptions:  s.updateCertificateOptions,
		AddTagsToCertificate:      s.addTags,
		RemoveTagsFromCertificate: s.removeTags,
		ListTagsForCertificate:    s.listTags,
	}
}

// scope is the account and region of a request.
type scope struct {
	account, region string
}

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region}
}

const certKind = "acm:certificate"

func (sc scope) key(id string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: certKind, ID: id}
}

func (sc scope) arn(id string) string {
	return arn.New("acm", sc.region, sc.account, "certificate/"+id).String()
}

// arnPattern is the model's pattern for an ARN; a string that fails it is
// refused before ACM looks at it.
var arnPattern = regexp.MustCompile(`^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:[\w+=/,.@-]*:[0-9]+:[\w+=,.@-]+(/[\w+=,.@-]+)*$`)

// certID returns the id in a certificate ARN of this scope, or AWS's error
// for a string that is no ARN, the ARN of something else, or a certificate
// of another account or region (which this caller cannot see).
func (sc scope) certID(s string) (string, error) {
	if !arnPattern.MatchString(s) {
		return "", api.Errorf("ValidationException", "1 validation error detected: Value '%s' at 'certificateArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:[\\w+=/,.@-]*:[0-9]+:[\\w+=,.@-]+(/[\\w+=,.@-]+)*", s)
	}
	a, err := arn.Parse(s)
	id, ok := strings.CutPrefix(a.Resource, "certificate/")
	if err != nil || a.Service != "acm" || !ok || id == "" || strings.Contains(id, "/") {
		return "", api.Errorf("InvalidArnException", "String '%s' is not a valid ARN.", s)
	}
	if a.Account != sc.account || a.Region != sc.region || a.Partition != arn.Partition(sc.region) {
		return "", notFound(s)
	}
	return id, nil
}

func notFound(arn string) error {
	return api.Errorf("ResourceNotFoundException", "Could not find certificate with arn %s.", arn)
}

// load reads the certificate an ARN names, settled to the present.
func (s *Service) load(tx *store.Tx, sc scope, certARN string) (*certRecord, error) {
	id, err := sc.certID(certARN)
	if err != nil {
		return nil, err
	}
	r, ok, err := store.Get[certRecord](tx, sc.key(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound(certARN)
	}
	r.settle(s.now())
	return r, nil
}

func (s *Service) save(tx *store.Tx, sc scope, r *certRecord) error {
	return tx.Put(sc.key(r.ID), r)
}

// checkLimit refuses a new certificate beyond the account's quota.
func (s *Service) checkLimit(tx *store.Tx, sc scope) error {
	n, err := tx.Count(sc.account, sc.region, certKind)
	if err != nil {
		return err
	}
	if n >= s.Limit {
		return api.Errorf("LimitExceededException", "You have reached the maximum number of certificates (%d) in this account and region.", s.Limit)
	}
	return nil
}

func str(s string) *string { return &s }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
