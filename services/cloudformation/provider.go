package cloudformation

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
)

// A provider makes one resource type through its service's API, as
// CloudFormation's resource handlers do. Providers register in a table by
// type; a type without one fails the stack, naming it.
type provider struct {
	// Services are the services it calls (the registration requires
	// them).
	Create func(c *call, p props) (*state, error)
	Delete func(c *call, s *state, p props) error
	// Update changes the resource in place; nil: every change replaces
	// it.
	Update func(c *call, s *state, old, new props) (*state, error)
	// Replace lists the properties whose change needs a new resource (the
	// reference's "Update requires: Replacement").
	Replace []string
	// Read returns the resource's current properties, those the
	// template may set, in the template's terms (drift detection); nil:
	// the type is not checked.
	Read func(c *call, s *state, p props) (props, error)
	// Normalize spells the template's properties as Read does, where
	// the two differ for the same thing ("All" and "-1").
	Normalize func(p props) props
	// Capability is the capability a template with this type needs.
	Capability string
}

var providers = map[string]*provider{}

func register(typ string, p *provider) {
	if _, dup := providers[typ]; dup {
		panic("cloudformation: provider for " + typ + " registered twice")
	}
	providers[typ] = p
}

// state is what a provider made: the physical id, what Ref returns (the
// physical id when empty) and the attributes Fn::GetAtt reads.
type state struct {
	Physical string
	Ref      string
	Attrs    map[string]any
}

// call is one provider call: the stack's caller in its account and
// region, reaching the services through their APIs.
type call struct {
	ctx                context.Context
	svc                func(name string) api.Invoker
	account, region    string
	stackName, logical string
	stackTags          [][2]string
	poll               time.Duration
	log                *slog.Logger
	// deletionPolicy is the resource's DeletionPolicy, for the types
	// whose deletion it changes (a final snapshot).
	deletionPolicy string
	// cfn and stackID serve the types CloudFormation itself keeps (wait
	// conditions); note records an event on the resource in its status.
	cfn     *Service
	stackID string
	note    func(reason string)
}

// invoke calls op of a service as the stack's caller.
func (c *call) invoke(service, op string, in any) (any, error) {
	return c.svc(service).Invoke(c.ctx, op, in)
}

// wait polls done until it says so, the context ends, or it fails.
func (c *call) wait(what string, done func() (bool, error)) error {
	logged := false
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if !logged {
			// A long wait is visible: the resource stays in progress
			// and the log says what it waits for.
			c.log.Info("cloudformation: waiting", "stack", c.stackName, "resource", c.logical, "for", what)
			logged = true
		}
		select {
		case <-c.ctx.Done():
			return fmt.Errorf("Resource creation cancelled")
		case <-time.After(c.poll):
		}
	}
}

// physicalName is the name CloudFormation gives a resource the template
// does not name: stack-logical-RANDOM, within max characters.
func (c *call) physicalName(max int, lower bool) string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	suffix := make([]byte, 12)
	for i := range suffix {
		suffix[i] = letters[rand.IntN(len(letters))]
	}
	stackPart, logical := c.stackName, c.logical
	room := max - len(suffix) - 2
	if len(stackPart)+len(logical) > room {
		if len(stackPart) > room/2 {
			stackPart = stackPart[:room/2]
		}
		if len(stackPart)+len(logical) > room {
			logical = logical[:room-len(stackPart)]
		}
	}
	n := stackPart + "-" + logical + "-" + string(suffix)
	if lower {
		n = strings.ToLower(n)
	}
	return n
}

// props are a resource's resolved properties.
type props map[string]any

func (p props) has(k string) bool { _, ok := p[k]; return ok }

func (p props) str(k string) string { return template.String(p[k]) }

func (p props) strp(k string) *string {
	if !p.has(k) {
		return nil
	}
	s := p.str(k)
	return &s
}

func (p props) boolp(k string) *bool {
	if !p.has(k) {
		return nil
	}
	b := p.str(k) == "true"
	return &b
}

func (p props) int64p(k string) *int64 {
	if !p.has(k) {
		return nil
	}
	n, err := strconv.ParseInt(p.str(k), 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

func (p props) list(k string) []any {
	l, _ := p[k].([]any)
	return l
}

func (p props) strs(k string) []*string {
	var out []*string
	for _, e := range p.list(k) {
		s := template.String(e)
		out = append(out, &s)
	}
	return out
}

func (p props) maps(k string) []props {
	var out []props
	for _, e := range p.list(k) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, props(m))
		}
	}
	return out
}

func (p props) sub(k string) props {
	m, _ := p[k].(map[string]any)
	return props(m)
}

// tags returns the resource's Tags over the stack's, sorted by key. The
// aws:cloudformation:* tags AWS adds are not set: they are in the space
// services refuse to callers, and a provider writes no service's records.
func (c *call) tags(p props) [][2]string {
	m := map[string]string{}
	for _, t := range c.stackTags {
		m[t[0]] = t[1]
	}
	for _, t := range p.maps("Tags") {
		m[t.str("Key")] = t.str("Value")
	}
	out := make([][2]string, 0, len(m))
	for k, v := range m {
		out = append(out, [2]string{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func str(s string) *string { return &s }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
