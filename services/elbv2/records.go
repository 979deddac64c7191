package elbv2

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// Store kinds; each record is keyed by the 16 hex digits ending its ARN.
const (
	kindLB       = "elbv2:load-balancer"
	kindTG       = "elbv2:target-group"
	kindListener = "elbv2:listener"
	kindRule     = "elbv2:rule"
)

// lbRecord is a load balancer: the shape Describe returns, plus its
// attributes, nodes and tags.
type lbRecord struct {
	elbv2api.LoadBalancer
	ID         string
	Attributes map[string]string
	Nodes      []lbNode
	Tags       []*elbv2api.Tag
}

// lbNode is a node of a load balancer: its interface in one subnet.
type lbNode struct {
	Subnet    string
	AZ        string
	ENI       string
	PrivateIP netip.Addr
	PublicIP  netip.Addr
}

// tgRecord is a target group. LoadBalancerArns is not stored: it is
// derived from the listeners and rules that forward to the group.
type tgRecord struct {
	elbv2api.TargetGroup
	ID         string
	Attributes map[string]string
	Targets    []*target
	Tags       []*elbv2api.Tag
}

// target is a registration: a target id and port.
type target struct {
	ID   string
	Port int64
	// AZ is the AvailabilityZone given at registration (ip targets), or "".
	AZ           string
	RegisteredAt time.Time
	// DrainUntil is set while the target is deregistering; it is removed
	// then.
	DrainUntil time.Time
}

func (t *target) draining() bool { return !t.DrainUntil.IsZero() }

// listenerRecord is a listener; its default rule lives in it (DefaultActions,
// DefaultRuleID, DefaultRuleTags). Certificates in the embedded shape hold
// the default one; Extra the ones added with AddListenerCertificates.
type listenerRecord struct {
	elbv2api.Listener
	ID              string
	LBID            string
	DefaultRuleID   string
	DefaultRuleTags []*elbv2api.Tag
	Extra           []string
	Tags            []*elbv2api.Tag
}

// ruleRecord is a listener rule other than the default one.
type ruleRecord struct {
	elbv2api.Rule
	ID         string
	ListenerID string
	Tags       []*elbv2api.Tag
}

func (r *ruleRecord) priority() int {
	n, _ := strconv.Atoi(deref(r.Priority))
	return n
}

// ARNs.

func lbARN(sc scope, name, id string) string {
	return arn.New("elasticloadbalancing", sc.region, sc.account, "loadbalancer/app/"+name+"/"+id).String()
}

func tgARN(sc scope, name, id string) string {
	return arn.New("elasticloadbalancing", sc.region, sc.account, "targetgroup/"+name+"/"+id).String()
}

func listenerARN(sc scope, lbName, lbID, id string) string {
	return arn.New("elasticloadbalancing", sc.region, sc.account, "listener/app/"+lbName+"/"+lbID+"/"+id).String()
}

func ruleARN(sc scope, lbName, lbID, listenerID, id string) string {
	return arn.New("elasticloadbalancing", sc.region, sc.account, "listener-rule/app/"+lbName+"/"+lbID+"/"+listenerID+"/"+id).String()
}

// arnParts checks that s is an ELB ARN of resource type typ in scope sc and
// returns the parts of its resource after the type; ok is false for an ARN
// of another account or region (not found there). A malformed ARN is a
// ValidationError.
func arnParts(sc scope, s, typ string, parts int) (rest []string, ok bool, err error) {
	a, perr := arn.Parse(s)
	fields := strings.Split(a.Resource, "/")
	if perr != nil || a.Service != "elasticloadbalancing" || len(fields) != parts+1 || fields[0] != typ {
		return nil, false, validation("'%s' is not a valid %s ARN", s, strings.ReplaceAll(typ, "-", " "))
	}
	return fields[1:], a.Account == sc.account && a.Region == sc.region, nil
}

func loadLB(tx *store.Tx, sc scope, lbArn string) (*lbRecord, error) {
	parts, ok, err := arnParts(sc, lbArn, "loadbalancer", 3)
	if err != nil {
		return nil, err
	}
	if ok {
		r, found, err := store.Get[lbRecord](tx, sc.key(kindLB, parts[2]))
		if err != nil {
			return nil, err
		}
		if found && deref(r.LoadBalancerArn) == lbArn {
			return r, nil
		}
	}
	return nil, api.Errorf("LoadBalancerNotFound", "Load balancer '%s' not found", lbArn)
}

func loadTG(tx *store.Tx, sc scope, tgArn string) (*tgRecord, error) {
	parts, ok, err := arnParts(sc, tgArn, "targetgroup", 2)
	if err != nil {
		return nil, err
	}
	if ok {
		r, found, err := store.Get[tgRecord](tx, sc.key(kindTG, parts[1]))
		if err != nil {
			return nil, err
		}
		if found && deref(r.TargetGroupArn) == tgArn {
			return r, nil
		}
	}
	return nil, api.Errorf("TargetGroupNotFound", "Target group '%s' not found", tgArn)
}

func loadListener(tx *store.Tx, sc scope, lArn string) (*listenerRecord, error) {
	parts, ok, err := arnParts(sc, lArn, "listener", 4)
	if err != nil {
		return nil, err
	}
	if ok {
		r, found, err := store.Get[listenerRecord](tx, sc.key(kindListener, parts[3]))
		if err != nil {
			return nil, err
		}
		if found && deref(r.ListenerArn) == lArn {
			return r, nil
		}
	}
	return nil, api.Errorf("ListenerNotFound", "Listener '%s' not found", lArn)
}

// loadRule returns a rule; for a listener's default rule, rule is nil and
// listener is its listener.
func loadRule(tx *store.Tx, sc scope, rArn string) (rule *ruleRecord, listener *listenerRecord, err error) {
	parts, ok, err := arnParts(sc, rArn, "listener-rule", 5)
	if err != nil {
		return nil, nil, err
	}
	notFound := api.Errorf("RuleNotFound", "One or more rules not found")
	if !ok {
		return nil, nil, notFound
	}
	r, found, err := store.Get[ruleRecord](tx, sc.key(kindRule, parts[4]))
	if err != nil {
		return nil, nil, err
	}
	if found && deref(r.RuleArn) == rArn {
		l, found, err := store.Get[listenerRecord](tx, sc.key(kindListener, r.ListenerID))
		if err != nil || !found {
			return nil, nil, cmpErr(err, notFound)
		}
		return r, l, nil
	}
	l, found, err := store.Get[listenerRecord](tx, sc.key(kindListener, parts[3]))
	if err != nil {
		return nil, nil, err
	}
	if found && l.DefaultRuleID == parts[4] {
		return nil, l, nil
	}
	return nil, nil, notFound
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

func listAll[T any](tx *store.Tx, sc scope, kind string) ([]*T, error) {
	return store.ListAll[T](tx, sc.account, sc.region, kind)
}

func put(tx *store.Tx, sc scope, kind, id string, v any) error {
	return tx.Put(sc.key(kind, id), v)
}

// page returns one page of items after marker (an index AWS treats as
// opaque) and the marker of the next page.
func page[T any](items []T, marker *string, size *int64) ([]T, *string, error) {
	start := 0
	if m := deref(marker); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, validation("Invalid marker '%s'", m)
		}
		start = n
	}
	n := 400
	if size != nil {
		n = int(*size)
	}
	end := min(start+n, len(items))
	var next *string
	if end < len(items) {
		next = str(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

// sortedBy sorts records by a string key, for stable pages.
func sortedBy[T any](items []*T, key func(*T) string) []*T {
	slices.SortFunc(items, func(a, b *T) int { return strings.Compare(key(a), key(b)) })
	return items
}

// lbByID returns the load balancer a listener belongs to.
func lbByID(tx *store.Tx, sc scope, id string) (*lbRecord, error) {
	r, ok, err := store.Get[lbRecord](tx, sc.key(kindLB, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, api.Errorf("LoadBalancerNotFound", "The load balancer of this listener is gone")
	}
	return r, nil
}
