// Package elasticache implements Amazon ElastiCache for Redis (cluster
// mode disabled) and Memcached: cache subnet groups, cache parameter
// groups with the engines' parameters, replication groups of a primary
// and up to five replicas (their cache clusters, TestFailover, replica
// counts, modifications: modify.go, scale.go), AUTH and TLS (auth.go),
// Memcached clusters with a configuration endpoint (cacheclusters.go,
// memcached.go, mcmodify.go), snapshots of a node's RDB taken through the
// slots' exec and restored into new groups (snapshots.go, snapwork.go,
// restore.go), tags, and events (also put on the event bus).
//
// Each node is a managed compute slot (desired.Slot) behind a
// requester-managed interface (owner "elasticache") in a subnet of the
// group's subnet group: its first boot installs Debian's redis-server from
// the mirror, binds the interface's address and applies the parameter
// group (nodes.go). The endpoints are names the VPC's resolver answers
// (desired.Name, never public), in AWS's forms (names.go). A node does not
// learn its role from the control plane: it follows the primary endpoint,
// replicating whichever node that name resolves to and promoting itself
// when it resolves to its own address, so a failover is moving the name.
//
// Without a data plane (New's dataPlane false) no slot runs: a node turns
// available nodeBootTime after its creation, so the API and the waiters
// see the states a real group goes through.
package elasticache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/store"
)

// Store kinds.
const (
	kindSubnetGroup = "elasticache:subnetgroup"
	kindParamGroup  = "elasticache:parametergroup"
	kindRG          = "elasticache:replicationgroup"
	kindEvent       = "elasticache:event"
)

// Service is the ElastiCache implementation.
type Service struct {
	store     *store.Store
	clock     *clock.Clock
	log       *slog.Logger
	dataPlane bool
	// ca issues the nodes' TLS certificates (nil: no in-transit
	// encryption).
	ca *ca.CA

	mu sync.Mutex
	// onEvent receive the events recorded, once committed.
	onEvent []func(BusEvent)
	// snaps is the snapshot work's state (snapshots.go).
	snaps snapshotter
}

// New returns ElastiCache over st. dataPlane says whether the nodes' slots
// run and report (else nodes turn available on a timer); authority, when
// not nil, is the CA the instances trust, which signs the certificates of
// groups with in-transit encryption.
func New(st *store.Store, clk *clock.Clock, log *slog.Logger, dataPlane bool, authority *ca.CA) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, clock: clk, log: log, dataPlane: dataPlane, ca: authority}
	recorded, _ := st.Watch(kindEvent)
	go s.publishEvents(recorded)
	return s
}

// Handlers returns the operations implemented.
func (s *Service) Handlers() *ecapi.Handlers {
	h := &ecapi.Handlers{}
	s.registerSubnetGroups(h)
	s.registerParameterGroups(h)
	s.registerReplicationGroups(h)
	s.registerCacheClusters(h)
	s.registerTags(h)
	s.registerSnapshots(h)
	h.DescribeEvents = s.describeEvents
	h.DescribeCacheEngineVersions = s.describeEngineVersions
	return h
}

// scope is one account's region.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region}
}

func (sc scope) key(kind, id string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: kind, ID: id}
}

// arn is an ElastiCache ARN of a resource type ("replicationgroup",
// "cluster", "subnetgroup", "parametergroup").
func (sc scope) arn(typ, id string) string {
	return "arn:aws:elasticache:" + sc.region + ":" + sc.account + ":" + typ + ":" + id
}

// hash is the account's and region's part of every endpoint name (AWS's
// six characters, fixed per customer and region).
func (sc scope) hash() string {
	sum := sha256.Sum256([]byte("elasticache/" + sc.account + "/" + sc.region))
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 6)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// slotPrefix starts the ids of the scope's node slots: unique in the
// daemon, as slot ids must be.
func (sc scope) slotPrefix() string {
	sum := sha256.Sum256([]byte(sc.account + "/" + sc.region))
	return "elasticache-" + hex.EncodeToString(sum[:3]) + "-"
}

func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

func str(s string) *string { return &s }
func i64(n int64) *int64   { return &n }
func boolp(b bool) *bool   { return &b }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func invalidValue(format string, args ...any) error {
	return api.Errorf("InvalidParameterValue", format, args...)
}

func invalidCombination(format string, args ...any) error {
	return api.Errorf("InvalidParameterCombination", format, args...)
}

// page cuts a sorted list at marker (the next item's index) for
// MaxRecords (20 to 100, 100 by default, as AWS's Describe calls).
func page[T any](items []T, marker *string, maxRecords *int64) ([]T, *string, error) {
	n := int64(100)
	if maxRecords != nil {
		if *maxRecords < 20 || *maxRecords > 100 {
			return nil, nil, invalidValue("Invalid value for MaxRecords: %d. Valid values are between 20 and 100.", *maxRecords)
		}
		n = *maxRecords
	}
	start := 0
	if m := deref(marker); m != "" {
		i, err := parseMarker(m)
		if err != nil || i < 0 || i > len(items) {
			return nil, nil, invalidValue("Invalid marker: %s", m)
		}
		start = i
	}
	end := min(start+int(n), len(items))
	var next *string
	if end < len(items) {
		next = str(formatMarker(end))
	}
	return items[start:end], next, nil
}

func parseMarker(m string) (int, error) { return strconv.Atoi(m) }
func formatMarker(i int) string         { return strconv.Itoa(i) }
