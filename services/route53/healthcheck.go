package route53

import (
	"cmp"
	"context"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// Health checks are kept here and run by the data plane
// (controllers/healthchecks, from the simulated internet), which reports
// their status back (ReportHealthCheck); a record whose health check is
// unhealthy is contributed as such.

const (
	// kindHealthCheck is a health check (healthCheckRecord), by id.
	kindHealthCheck = "route53:healthcheck"
	// kindHCCallerRef is the CallerReference a health check was created
	// with: the id, kept after the health check is deleted.
	kindHCCallerRef = "route53:healthcheck-callerref"
	// defaultMaxHealthChecks is how many health checks a list answers by
	// default; maxHealthChecks at most.
	defaultMaxHealthChecks = 100
	maxHealthChecks        = 1000
)

var (
	healthCheckTypes = []string{
		r53api.HealthCheckTypeHTTP, r53api.HealthCheckTypeHTTPS, r53api.HealthCheckTypeHTTPSTRMATCH, r53api.HealthCheckTypeHTTPSSTRMATCH,
		r53api.HealthCheckTypeTCP, r53api.HealthCheckTypeCALCULATED, r53api.HealthCheckTypeCLOUDWATCHMETRIC, r53api.HealthCheckTypeRECOVERYCONTROL,
	}
	// checkerRegions are where Route 53's health checkers are, the
	// default Regions of a health check.
	checkerRegions = []string{
		r53api.HealthCheckRegionUsEast1, r53api.HealthCheckRegionUsWest1, r53api.HealthCheckRegionUsWest2, r53api.HealthCheckRegionEuWest1,
		r53api.HealthCheckRegionApSoutheast1, r53api.HealthCheckRegionApSoutheast2, r53api.HealthCheckRegionApNortheast1, r53api.HealthCheckRegionSaEast1,
	}
)

// healthCheckRecord is a health check with the status the data plane last
// reported.
type healthCheckRecord struct {
	ID              string
	Seq             uint64
	CallerReference string
	Version         int64
	Config          hcConfig
	Tags            []tag `json:",omitempty"`

	Reported  bool      `json:",omitempty"`
	Healthy   bool      `json:",omitempty"`
	Reason    string    `json:",omitempty"`
	CheckedAt time.Time `json:",omitzero"`
	// Alarm is a CLOUDWATCH_METRIC check's alarm as last read.
	Alarm *Alarm `json:",omitempty"`
}

// hcConfig is a health check's settings, defaults filled in.
type hcConfig struct {
	Type                   string
	IPAddress              string   `json:",omitempty"`
	Port                   int64    `json:",omitempty"`
	ResourcePath           string   `json:",omitempty"`
	FQDN                   string   `json:",omitempty"`
	SearchString           string   `json:",omitempty"`
	RequestInterval        int64    `json:",omitempty"`
	FailureThreshold       int64    `json:",omitempty"`
	MeasureLatency         bool     `json:",omitempty"`
	Inverted               bool     `json:",omitempty"`
	Disabled               bool     `json:",omitempty"`
	EnableSNI              bool     `json:",omitempty"`
	HealthThreshold        int64    `json:",omitempty"`
	ChildHealthChecks      []string `json:",omitempty"`
	Regions                []string `json:",omitempty"`
	AlarmName              string   `json:",omitempty"`
	AlarmRegion            string   `json:",omitempty"`
	InsufficientDataStatus string   `json:",omitempty"`
}

func (c *hcConfig) endpoint() bool {
	switch c.Type {
	case r53api.HealthCheckTypeCALCULATED, r53api.HealthCheckTypeCLOUDWATCHMETRIC, r53api.HealthCheckTypeRECOVERYCONTROL:
		return false
	}
	return true
}

func (c *hcConfig) https() bool { return strings.HasPrefix(c.Type, "HTTPS") }

// readHCConfig reads a CreateHealthCheck's settings and fills in
// Route 53's defaults.
func readHCConfig(in *r53api.HealthCheckConfig) (hcConfig, error) {
	c := hcConfig{
		Type: deref(in.Type), IPAddress: deref(in.IPAddress), ResourcePath: deref(in.ResourcePath),
		FQDN: deref(in.FullyQualifiedDomainName), SearchString: deref(in.SearchString),
		MeasureLatency: in.MeasureLatency != nil && *in.MeasureLatency, Inverted: in.Inverted != nil && *in.Inverted,
		Disabled: in.Disabled != nil && *in.Disabled, InsufficientDataStatus: deref(in.InsufficientDataHealthStatus),
	}
	if !slices.Contains(healthCheckTypes, c.Type) {
		return c, enumError(c.Type, "healthCheckConfig.type", healthCheckTypes)
	}
	if c.Type == r53api.HealthCheckTypeRECOVERYCONTROL {
		return c, invalidInput("Invalid parameter : cloudbox has no Route 53 Application Recovery Controller: RECOVERY_CONTROL health checks are not supported.")
	}
	if in.Port != nil {
		c.Port = *in.Port
	}
	if in.RequestInterval != nil {
		c.RequestInterval = *in.RequestInterval
	}
	if in.FailureThreshold != nil {
		c.FailureThreshold = *in.FailureThreshold
	}
	if in.HealthThreshold != nil {
		c.HealthThreshold = *in.HealthThreshold
	}
	if in.EnableSNI != nil {
		c.EnableSNI = *in.EnableSNI
	} else {
		c.EnableSNI = c.https()
	}
	c.ChildHealthChecks = derefs(in.ChildHealthChecks)
	c.Regions = derefs(in.Regions)
	if a := in.AlarmIdentifier; a != nil {
		c.AlarmName, c.AlarmRegion = deref(a.Name), deref(a.Region)
	}
	if c.endpoint() {
		if c.RequestInterval == 0 {
			c.RequestInterval = 30
		}
		if c.FailureThreshold == 0 {
			c.FailureThreshold = 3
		}
		if c.Port == 0 && c.Type != r53api.HealthCheckTypeTCP {
			c.Port = 80
			if c.https() {
				c.Port = 443
			}
		}
	}
	return c, c.check()
}

// check refuses settings Route 53 refuses.
func (c *hcConfig) check() error {
	switch {
	case c.AlarmName != "" && c.Type != r53api.HealthCheckTypeCLOUDWATCHMETRIC:
		return invalidInput("Invalid parameter : Basic health checks must not have an metric region specified.")
	case c.Type == r53api.HealthCheckTypeCLOUDWATCHMETRIC && c.AlarmName == "":
		return invalidInput("Invalid parameter : A CloudWatch metric health check must have an AlarmIdentifier.")
	case c.Type == r53api.HealthCheckTypeCALCULATED && c.HealthThreshold > int64(len(c.ChildHealthChecks)):
		return invalidInput("Invalid parameter : The HealthThreshold (%d) is greater than the number of child health checks (%d).", c.HealthThreshold, len(c.ChildHealthChecks))
	case !c.endpoint():
		return nil
	case c.IPAddress == "" && c.FQDN == "":
		return invalidInput("Invalid parameter : Either an IP address or a fully qualified domain name must be specified.")
	case c.Type == r53api.HealthCheckTypeTCP && c.Port == 0:
		return invalidInput("Invalid parameter : A port must be specified for TCP health checks.")
	case strings.HasSuffix(c.Type, "_STR_MATCH") && c.SearchString == "":
		return invalidInput("Invalid parameter : A search string must be specified for string matching health checks.")
	case c.RequestInterval != 10 && c.RequestInterval != 30:
		return invalidInput("Invalid parameter : The request interval must be 10 or 30 seconds.")
	case len(c.Regions) > 0 && len(c.Regions) < 3:
		return invalidInput("Invalid parameter : At least 3 regions must be specified.")
	}
	if c.IPAddress != "" {
		if _, err := netip.ParseAddr(c.IPAddress); err != nil {
			return invalidInput("Invalid parameter : %s is not a valid IP address.", c.IPAddress)
		}
	}
	return nil
}

func derefs(ps []*string) []string {
	var out []string
	for _, p := range ps {
		out = append(out, deref(p))
	}
	return out
}

func (h *healthCheckRecord) api() *r53api.HealthCheck {
	c := h.Config
	cfg := &r53api.HealthCheckConfig{Type: str(c.Type), Inverted: boolp(c.Inverted), Disabled: boolp(c.Disabled)}
	set := func(p **string, v string) {
		if v != "" {
			*p = str(v)
		}
	}
	set(&cfg.IPAddress, c.IPAddress)
	set(&cfg.ResourcePath, c.ResourcePath)
	set(&cfg.FullyQualifiedDomainName, c.FQDN)
	set(&cfg.SearchString, c.SearchString)
	set(&cfg.InsufficientDataHealthStatus, c.InsufficientDataStatus)
	if c.endpoint() {
		cfg.RequestInterval, cfg.FailureThreshold, cfg.MeasureLatency = i64(c.RequestInterval), i64(c.FailureThreshold), boolp(c.MeasureLatency)
		if c.Port != 0 {
			cfg.Port = i64(c.Port)
		}
		if c.https() {
			cfg.EnableSNI = boolp(c.EnableSNI)
		}
	}
	if c.Type == r53api.HealthCheckTypeCALCULATED {
		cfg.HealthThreshold, cfg.ChildHealthChecks = i64(c.HealthThreshold), ptrs(c.ChildHealthChecks)
	}
	if len(c.Regions) > 0 {
		cfg.Regions = ptrs(c.Regions)
	}
	if c.AlarmName != "" {
		cfg.AlarmIdentifier = &r53api.AlarmIdentifier{Name: str(c.AlarmName), Region: str(c.AlarmRegion)}
	}
	return &r53api.HealthCheck{Id: str(h.ID), CallerReference: str(h.CallerReference), HealthCheckConfig: cfg,
		HealthCheckVersion: i64(h.Version), CloudWatchAlarmConfiguration: h.Alarm.api()}
}

func noSuchHealthCheck(id string) error {
	return errorf("NoSuchHealthCheck", "No health check exists with the specified ID %s", id)
}

func loadHealthCheck(tx *store.Tx, acct, id string) (*healthCheckRecord, error) {
	h, ok, err := store.Get[healthCheckRecord](tx, key(acct, kindHealthCheck, id))
	if err == nil && !ok {
		err = noSuchHealthCheck(id)
	}
	return h, err
}

func saveHealthCheck(tx *store.Tx, acct string, h *healthCheckRecord) error {
	return tx.Put(key(acct, kindHealthCheck, h.ID), h)
}

// checkChildren refuses a CALCULATED check whose children do not exist.
func checkChildren(tx *store.Tx, acct string, c hcConfig) error {
	for _, id := range c.ChildHealthChecks {
		if _, err := loadHealthCheck(tx, acct, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) createHealthCheck(ctx context.Context, in *r53api.CreateHealthCheckRequest) (*r53api.CreateHealthCheckResponse, error) {
	acct := account(ctx)
	cfg, err := readHCConfig(in.HealthCheckConfig)
	if err != nil {
		return nil, err
	}
	ref := deref(in.CallerReference)
	var h *healthCheckRecord
	err = s.store.Update(func(tx *store.Tx) error {
		var prev struct{ ID string }
		ok, err := tx.Get(key(acct, kindHCCallerRef, ref), &prev)
		if err != nil {
			return err
		}
		if ok {
			// The same request again answers the same health check; any
			// other, or one whose health check is gone, is refused.
			h, ok, err = store.Get[healthCheckRecord](tx, key(acct, kindHealthCheck, prev.ID))
			if err == nil && (!ok || !reflect.DeepEqual(h.Config, cfg)) {
				err = errorf("HealthCheckAlreadyExists", "A health check has already been created with the specified caller reference.")
			}
			return err
		}
		if err := checkChildren(tx, acct, cfg); err != nil {
			return err
		}
		seq, err := tx.NextID(acct, "", kindHealthCheck)
		if err != nil {
			return err
		}
		h = &healthCheckRecord{ID: uuid.New(), Seq: seq, CallerReference: ref, Version: 1, Config: cfg}
		if err := tx.Put(key(acct, kindHCCallerRef, ref), struct{ ID string }{h.ID}); err != nil {
			return err
		}
		return saveHealthCheck(tx, acct, h)
	})
	if err != nil {
		return nil, err
	}
	return &r53api.CreateHealthCheckResponse{HealthCheck: h.api(), Location: str("https://route53.amazonaws.com/2013-04-01/healthcheck/" + h.ID)}, nil
}

func (s *Service) getHealthCheck(ctx context.Context, in *r53api.GetHealthCheckRequest) (*r53api.GetHealthCheckResponse, error) {
	var h *healthCheckRecord
	err := s.store.View(func(tx *store.Tx) (err error) {
		h, err = loadHealthCheck(tx, account(ctx), deref(in.HealthCheckId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53api.GetHealthCheckResponse{HealthCheck: h.api()}, nil
}

func healthChecks(tx *store.Tx, acct string) ([]*healthCheckRecord, error) {
	all, err := store.ListAll[healthCheckRecord](tx, acct, "", kindHealthCheck)
	slices.SortFunc(all, func(a, b *healthCheckRecord) int { return cmp.Compare(a.Seq, b.Seq) })
	return all, err
}

func (s *Service) listHealthChecks(ctx context.Context, in *r53api.ListHealthChecksRequest) (*r53api.ListHealthChecksResponse, error) {
	limit, shown, err := maxItems(in.MaxItems, maxHealthChecks)
	if err != nil {
		return nil, err
	}
	if in.MaxItems == nil {
		limit, shown = defaultMaxHealthChecks, "100"
	}
	out := &r53api.ListHealthChecksResponse{HealthChecks: []*r53api.HealthCheck{}, MaxItems: str(shown), IsTruncated: boolp(false), Marker: str(deref(in.Marker))}
	err = s.store.View(func(tx *store.Tx) error {
		all, err := healthChecks(tx, account(ctx))
		if err != nil {
			return err
		}
		start := 0
		if m := deref(in.Marker); m != "" {
			if start = slices.IndexFunc(all, func(h *healthCheckRecord) bool { return h.ID == m }); start < 0 {
				return invalidInput("The marker %s is not the id of a health check", m)
			}
		}
		for _, h := range all[start:] {
			if len(out.HealthChecks) == limit {
				out.IsTruncated, out.NextMarker = boolp(true), str(h.ID)
				break
			}
			out.HealthChecks = append(out.HealthChecks, h.api())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) getHealthCheckCount(ctx context.Context, _ *r53api.GetHealthCheckCountRequest) (*r53api.GetHealthCheckCountResponse, error) {
	var n int
	err := s.store.View(func(tx *store.Tx) (err error) {
		n, err = tx.Count(account(ctx), "", kindHealthCheck)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53api.GetHealthCheckCountResponse{HealthCheckCount: i64(int64(n))}, nil
}

// deleteHealthCheck deletes a health check even when records name it, as
// Route 53 does: they then count as healthy.
func (s *Service) deleteHealthCheck(ctx context.Context, in *r53api.DeleteHealthCheckRequest) (*r53api.DeleteHealthCheckResponse, error) {
	acct, id := account(ctx), deref(in.HealthCheckId)
	err := s.store.Update(func(tx *store.Tx) error {
		if _, err := loadHealthCheck(tx, acct, id); err != nil {
			return err
		}
		_, err := tx.Delete(key(acct, kindHealthCheck, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53api.DeleteHealthCheckResponse{}, nil
}

func (s *Service) updateHealthCheck(ctx context.Context, in *r53api.UpdateHealthCheckRequest) (*r53api.UpdateHealthCheckResponse, error) {
	acct, id := account(ctx), deref(in.HealthCheckId)
	var h *healthCheckRecord
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if h, err = loadHealthCheck(tx, acct, id); err != nil {
			return err
		}
		if in.HealthCheckVersion != nil && *in.HealthCheckVersion != h.Version {
			return errorf("HealthCheckVersionMismatch", "The value of HealthCheckVersion in the request doesn't match the value of HealthCheckVersion in the health check.")
		}
		c := h.Config
		for _, e := range derefs(in.ResetElements) {
			switch e {
			case r53api.ResettableElementNameFullyQualifiedDomainName:
				c.FQDN = ""
			case r53api.ResettableElementNameRegions:
				c.Regions = nil
			case r53api.ResettableElementNameResourcePath:
				c.ResourcePath = ""
			case r53api.ResettableElementNameChildHealthChecks:
				c.ChildHealthChecks = nil
			default:
				return enumError(e, "resetElements", []string{"FullyQualifiedDomainName", "Regions", "ResourcePath", "ChildHealthChecks"})
			}
		}
		setS := func(p *string, v *string) {
			if v != nil {
				*p = *v
			}
		}
		setI := func(p *int64, v *int64) {
			if v != nil {
				*p = *v
			}
		}
		setB := func(p *bool, v *bool) {
			if v != nil {
				*p = *v
			}
		}
		setS(&c.IPAddress, in.IPAddress)
		setS(&c.FQDN, in.FullyQualifiedDomainName)
		setS(&c.ResourcePath, in.ResourcePath)
		setS(&c.SearchString, in.SearchString)
		setS(&c.InsufficientDataStatus, in.InsufficientDataHealthStatus)
		setI(&c.Port, in.Port)
		setI(&c.FailureThreshold, in.FailureThreshold)
		setI(&c.HealthThreshold, in.HealthThreshold)
		setB(&c.Inverted, in.Inverted)
		setB(&c.Disabled, in.Disabled)
		setB(&c.EnableSNI, in.EnableSNI)
		if in.ChildHealthChecks != nil {
			c.ChildHealthChecks = derefs(in.ChildHealthChecks)
		}
		if in.Regions != nil {
			c.Regions = derefs(in.Regions)
		}
		if a := in.AlarmIdentifier; a != nil {
			c.AlarmName, c.AlarmRegion = deref(a.Name), deref(a.Region)
		}
		if err := c.check(); err != nil {
			return err
		}
		if err := checkChildren(tx, acct, c); err != nil {
			return err
		}
		if !reflect.DeepEqual(c, h.Config) {
			if c.AlarmName != h.Config.AlarmName || c.AlarmRegion != h.Config.AlarmRegion {
				h.Alarm = nil // another alarm: read afresh
			}
			h.Config = c
			h.Version++
		}
		return saveHealthCheck(tx, acct, h)
	})
	if err != nil {
		return nil, err
	}
	return &r53api.UpdateHealthCheckResponse{HealthCheck: h.api()}, nil
}

// observations are what GetHealthCheckStatus shows: the last reported
// status, as seen from each of the check's regions (cloudbox checks from
// one place, the simulated internet); none before the first report.
func (h *healthCheckRecord) observations() []*r53api.HealthCheckObservation {
	out := []*r53api.HealthCheckObservation{}
	if !h.Reported {
		return out
	}
	regions := h.Config.Regions
	if len(regions) == 0 {
		regions = checkerRegions
	}
	for _, r := range regions {
		out = append(out, &r53api.HealthCheckObservation{Region: str(r), IPAddress: str("198.18.0.1"),
			StatusReport: &r53api.StatusReport{Status: str(h.Reason), CheckedTime: timePtr(h.CheckedAt)}})
	}
	return out
}

func (s *Service) getHealthCheckStatus(ctx context.Context, in *r53api.GetHealthCheckStatusRequest) (*r53api.GetHealthCheckStatusResponse, error) {
	var h *healthCheckRecord
	err := s.store.View(func(tx *store.Tx) (err error) {
		h, err = loadHealthCheck(tx, account(ctx), deref(in.HealthCheckId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53api.GetHealthCheckStatusResponse{HealthCheckObservations: h.observations()}, nil
}

func (s *Service) getHealthCheckLastFailureReason(ctx context.Context, in *r53api.GetHealthCheckLastFailureReasonRequest) (*r53api.GetHealthCheckLastFailureReasonResponse, error) {
	var h *healthCheckRecord
	err := s.store.View(func(tx *store.Tx) (err error) {
		h, err = loadHealthCheck(tx, account(ctx), deref(in.HealthCheckId))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &r53api.GetHealthCheckLastFailureReasonResponse{HealthCheckObservations: []*r53api.HealthCheckObservation{}}
	if h.Reported && !h.Healthy {
		out.HealthCheckObservations = h.observations()
	}
	return out, nil
}

// ReportHealthCheck implements desired.HealthCheckReporter: the status the
// data plane sees, and why, in Route 53's words ("Success: HTTP Status Code
// 200, OK").
func (s *Service) ReportHealthCheck(acct, id string, healthy bool, reason string) error {
	return s.store.Update(func(tx *store.Tx) error {
		h, ok, err := store.Get[healthCheckRecord](tx, key(acct, kindHealthCheck, id))
		if err != nil || !ok {
			return err
		}
		h.Reported, h.Healthy, h.Reason, h.CheckedAt = true, healthy, reason, s.now()
		return saveHealthCheck(tx, acct, h)
	})
}

var _ desired.HealthCheckReporter = (*Service)(nil)

// dnsHealthCheck is the health check as the data plane runs it.
func (h *healthCheckRecord) desired(acct string) *desired.DNSHealthCheck {
	c := h.Config
	d := &desired.DNSHealthCheck{
		ID: h.ID, Account: acct, Type: c.Type, IP: c.IPAddress, FQDN: c.FQDN, Port: int(c.Port),
		ResourcePath: c.ResourcePath, SearchString: c.SearchString, RequestInterval: int(c.RequestInterval),
		FailureThreshold: int(c.FailureThreshold), Inverted: c.Inverted, Disabled: c.Disabled,
		ChildHealthChecks: slices.Clone(c.ChildHealthChecks), HealthThreshold: int(c.HealthThreshold),
	}
	if healthy, known := h.status(); known && (c.Disabled || c.Type == r53api.HealthCheckTypeCLOUDWATCHMETRIC) {
		d.Status = &healthy
	}
	return d
}
