package desired

// Zone is a Route 53 hosted zone as the DNS servers answer it
// (services/route53 contributes them). A public zone is answered on the
// simulated internet and by every VPC's resolver after the VPC's own
// names; a private zone only by the resolvers of the VPCs it is
// associated with, before anything else.
type Zone struct {
	ID      string // the hosted zone id, Z...
	Account string
	// Name is fully qualified, lower case, without the trailing dot
	// ("vprofile.in").
	Name    string
	Private bool
	// VPCs are the VPCs a private zone is associated with (of any region).
	VPCs    []string
	Records []*Record
}

// Record is one resource record set of a zone.
type Record struct {
	// Name is fully qualified, lower case, without the trailing dot; a
	// wildcard starts with "*.".
	Name string
	// Type is the record type as Route 53 names it: A, AAAA, CNAME, MX,
	// TXT, NS, SOA, SRV, CAA, PTR, SPF, NAPTR, DS.
	Type string
	TTL  uint32
	// Values are the records' data in zone-file presentation, as Route 53
	// shows them ("10 mail.example.com", "\"v=spf1 -all\"").
	Values []string
	// AliasTarget, when set, makes this an alias record: its answer is the
	// target's records of Type (a load balancer's or another record's
	// name), lower case, without the trailing dot.
	AliasTarget string
	// EvaluateTargetHealth: an alias whose target has no healthy address
	// counts as unhealthy for the routing policy.
	EvaluateTargetHealth bool

	// Routing policy. SetID tells records of one name and type apart; a
	// record without it is simple routing.
	SetID string
	// Weight is set for weighted records.
	Weight *int64
	// Failover is "PRIMARY" or "SECONDARY" for failover records.
	Failover string
	// Region is set for latency records.
	Region string
	// MultiValue is set for multivalue answer records.
	MultiValue bool
	// GeoLocation is set for geolocation records: a continent
	// ("continent:EU"), country ("KR"), subdivision ("US-WA") or "*".
	GeoLocation string
	// HealthCheck is the id of the health check the record depends on, ""
	// for none; Healthy is what the data plane last saw of it.
	HealthCheck string
	Healthy     bool
}

// DNSHealthCheck is a Route 53 health check the data plane runs from the
// simulated internet (services/route53 contributes them; the outcome is
// reported back, HealthCheckReporter).
type DNSHealthCheck struct {
	ID      string
	Account string
	// Type is HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP,
	// CALCULATED or CLOUDWATCH_METRIC.
	Type string
	// IP and FQDN say where to connect (IP wins; FQDN is resolved as the
	// internet resolves it) and FQDN is also the Host header and SNI.
	IP           string
	FQDN         string
	Port         int
	ResourcePath string
	SearchString string
	// RequestInterval is in seconds (10 or 30) and FailureThreshold the
	// number of consecutive results that flip the status.
	RequestInterval  int
	FailureThreshold int
	Inverted         bool
	Disabled         bool
	// ChildHealthChecks and HealthThreshold make a CALCULATED check.
	ChildHealthChecks []string
	HealthThreshold   int
	// Status is what Route 53 knows of a check the data plane does not
	// run (a disabled one, healthy; a CLOUDWATCH_METRIC one, from its
	// alarm), for the CALCULATED checks that count it; nil for the rest.
	Status *bool
}

// HealthCheckReporter takes the data plane's view of the health checks
// (services/route53 implements it): the status flips when
// FailureThreshold consecutive checks agree; reason is the last failure's,
// as GetHealthCheckStatus shows it.
type HealthCheckReporter interface {
	ReportHealthCheck(account, id string, healthy bool, reason string) error
}
