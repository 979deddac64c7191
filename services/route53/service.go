// Package route53 implements the control plane of Amazon Route 53: public
// and private hosted zones with their record sets, the changes and their
// PENDING -> INSYNC status, VPC associations (with cross-account
// authorizations), health checks and tags; and it contributes the zones
// to the desired world (desired.Zone), from which the data plane's DNS
// servers answer (a private zone in the VPCs it is associated with, a
// public one on the simulated internet and in every VPC), and the health
// checks, which the data plane runs and reports back.
//
// Route 53 is global: its records are kept with region "" whatever region
// a client signs for (us-east-1 is what they use).
//
// Record values are checked as Route 53 checks them, by parsing each value
// with github.com/miekg/dns as a zone-file line of its type, and are kept
// and shown as they were given. Names are case-insensitive and kept as
// Route 53 returns them: lower case, fully qualified, characters other
// than a-z, 0-9, hyphen and underscore in \ooo octal escapes (so a
// wildcard is \052.example.com.).
//
// What differs from AWS:
//
//   - A change is INSYNC ChangeDelay (virtual time) after it was submitted;
//     the data plane sees the records at once.
//   - Public zones' name servers are made up (four of the
//     ns-N.awsdns-NN.{com,net,org,co.uk} form, derived from the zone id);
//     on the simulated internet they resolve to one address per
//     top-level domain, where the data plane answers every public zone
//     authoritatively. Reusable delegation sets, traffic
//     policies, DNSSEC, query logging, CIDR collections and geoproximity
//     records are not implemented.
//   - An alias record whose HostedZoneId is not a hosted zone of the account
//     is taken to point at an AWS resource (a load balancer, CloudFront...):
//     its target is stored as given, not checked. The data plane is given
//     a load balancer's alias target without its "dualstack." prefix, as
//     ELB publishes the name.
//   - Health checks are run by the data plane from one place, the simulated
//     internet (controllers/healthchecks), not from eight regions:
//     GetHealthCheckStatus shows its last report as every region's
//     observation. CLOUDWATCH_METRIC checks follow their alarm's state,
//     read through CloudWatch's API every 10 (virtual) seconds; an alarm
//     that does not exist counts as insufficient data, not an error at
//     CreateHealthCheck. RECOVERY_CONTROL checks are refused. A record counts as healthy until
//     its health check is reported unhealthy, and again once that health
//     check is deleted.
package route53

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// The store kinds; every record is global (region "").
const (
	// kindZone is a hosted zone (zoneRecord), by zone id.
	kindZone = "route53:hostedzone"
	// kindRRSets is a zone's record sets (rrsetsRecord), by zone id.
	kindRRSets = "route53:rrsets"
	// kindChange is a change (changeRecord), by change id.
	kindChange = "route53:change"
	// kindCallerRef marks a CallerReference used to create a hosted zone:
	// it can never be used again, even after the zone is deleted.
	kindCallerRef = "route53:callerref"
)

const (
	// DefaultChangeDelay is how long a change stays PENDING.
	DefaultChangeDelay = 2 * time.Second
	// DefaultZoneLimit is Route 53's default quota of hosted zones per
	// account.
	DefaultZoneLimit = 500
	// maxTags is the number of tags a hosted zone may carry.
	maxTags = 10
	// maxVPCs is the number of VPCs a private zone may be associated with.
	maxVPCs = 300
)

// Service is the Route 53 implementation. Set its exported fields before it
// serves.
type Service struct {
	// ChangeDelay is how long (virtual time) a change stays PENDING.
	ChangeDelay time.Duration
	// ZoneLimit is the number of hosted zones an account may have.
	ZoneLimit int

	store *store.Store
	now   func() time.Time
	log   *slog.Logger
	// vpcExists reports whether a VPC exists in an account and region (EC2
	// answers, in the caller's transaction).
	vpcExists VPCChecker
}

// VPCChecker reports whether VPC id exists in account and region, reading
// tx: how Route 53 checks the VPCs private zones are associated with.
type VPCChecker func(tx *store.Tx, account, region, id string) (bool, error)

// New returns Route 53 over st, checking VPCs with vpcs.
func New(st *store.Store, now func() time.Time, log *slog.Logger, vpcs VPCChecker) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{ChangeDelay: DefaultChangeDelay, ZoneLimit: DefaultZoneLimit, store: st, now: now, log: log, vpcExists: vpcs}
}

// Handlers returns the operations Route 53 implements.
func (s *Service) Handlers() *r53api.Handlers {
	return &r53api.Handlers{
		CreateHostedZone:                  s.createHostedZone,
		GetHostedZone:                     s.getHostedZone,
		ListHostedZones:                   s.listHostedZones,
		ListHostedZonesByName:             s.listHostedZonesByName,
		ListHostedZonesByVPC:              s.listHostedZonesByVPC,
		GetHostedZoneCount:                s.getHostedZoneCount,
		DeleteHostedZone:                  s.deleteHostedZone,
		UpdateHostedZoneComment:           s.updateHostedZoneComment,
		AssociateVPCWithHostedZone:        s.associateVPC,
		DisassociateVPCFromHostedZone:     s.disassociateVPC,
		CreateVPCAssociationAuthorization: s.createVPCAuthorization,
		ListVPCAssociationAuthorizations:  s.listVPCAuthorizations,
		DeleteVPCAssociationAuthorization: s.deleteVPCAuthorization,
		ChangeResourceRecordSets:          s.changeResourceRecordSets,
		ListResourceRecordSets:            s.listResourceRecordSets,
		GetChange:                         s.getChange,
		ChangeTagsForResource:             s.changeTags,
		ListTagsForResource:               s.listTags,
		ListTagsForResources:              s.listTagsForResources,
		CreateHealthCheck:                 s.createHealthCheck,
		GetHealthCheck:                    s.getHealthCheck,
		ListHealthChecks:                  s.listHealthChecks,
		GetHealthCheckCount:               s.getHealthCheckCount,
		UpdateHealthCheck:                 s.updateHealthCheck,
		DeleteHealthCheck:                 s.deleteHealthCheck,
		GetHealthCheckStatus:              s.getHealthCheckStatus,
		GetHealthCheckLastFailureReason:   s.getHealthCheckLastFailureReason,
	}
}

// account is the account a request is made in.
func account(ctx context.Context) string { return api.RequestFrom(ctx).Caller.Account }

func key(account, kind, id string) store.Key {
	return store.Key{Account: account, Kind: kind, ID: id}
}

// errorf is a Route 53 error with the HTTP status its model gives the code.
func errorf(code, format string, args ...any) *api.Error {
	e := api.Errorf(code, format, args...)
	if sh, ok := r53api.Service.Errors[code]; ok && sh.Status != 0 {
		e.Status = sh.Status
	}
	return e
}

func invalidInput(format string, args ...any) *api.Error {
	return errorf("InvalidInput", format, args...)
}

func noSuchZone(id string) *api.Error {
	return errorf("NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

// bareID strips the "/hostedzone/" (or "/change/") prefix some callers
// leave on an id.
func bareID(id string) string {
	id = strings.TrimPrefix(id, "/")
	for _, p := range []string{"hostedzone/", "change/", "healthcheck/"} {
		id = strings.TrimPrefix(id, p)
	}
	return id
}

// newID returns prefix and 20 random upper-case letters and digits, the
// form of Route 53's newer hosted zone and change ids.
func newID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 20)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func str(s string) *string { return &s }

func i64(n int64) *int64 { return &n }

func boolp(b bool) *bool { return &b }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func timePtr(t time.Time) *time.Time { return &t }
