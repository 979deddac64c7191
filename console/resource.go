package console

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/cloudbox/cloudbox/events"
)

// Resource is what GET /_cloudbox/console/api/resource?id= answers: the
// resource as its Describe operation returns it (Operation names which),
// the events that name it, and for an instance its console output.
type Resource struct {
	ID        string         `json:"id"`
	Service   string         `json:"service"`
	Operation string         `json:"operation"`
	Describe  map[string]any `json:"describe"`
	// Health is a target group's DescribeTargetHealth answer.
	Health        map[string]any `json:"health,omitempty"`
	Events        []events.Event `json:"events"`
	ConsoleOutput *string        `json:"consoleOutput,omitempty"`
}

// describer is how one kind of resource is described: the service, the
// operation and its parameters for the id.
type describer struct {
	service, op string
	params      func(id string) map[string]any
}

func ids(member string) func(string) map[string]any {
	return func(id string) map[string]any { return map[string]any{member: []string{id}} }
}

// describerOf picks the Describe operation by the id's form: EC2's
// prefixes, ELB's ARNs, and the rds: and elasticache: names the diagram
// gives database and cache nodes.
func describerOf(id string) (describer, bool) {
	ec2 := map[string]describer{
		"i-":      {"ec2", "DescribeInstances", ids("InstanceIds")},
		"vpc-":    {"ec2", "DescribeVpcs", ids("VpcIds")},
		"subnet-": {"ec2", "DescribeSubnets", ids("SubnetIds")},
		"nat-":    {"ec2", "DescribeNatGateways", ids("NatGatewayIds")},
		"igw-":    {"ec2", "DescribeInternetGateways", ids("InternetGatewayIds")},
		"pcx-":    {"ec2", "DescribeVpcPeeringConnections", ids("VpcPeeringConnectionIds")},
		"rtb-":    {"ec2", "DescribeRouteTables", ids("RouteTableIds")},
		"sg-":     {"ec2", "DescribeSecurityGroups", ids("GroupIds")},
		"acl-":    {"ec2", "DescribeNetworkAcls", ids("NetworkAclIds")},
		"eni-":    {"ec2", "DescribeNetworkInterfaces", ids("NetworkInterfaceIds")},
	}
	for prefix, d := range ec2 {
		if strings.HasPrefix(id, prefix) {
			return d, true
		}
	}
	switch {
	case strings.HasPrefix(id, "arn:aws:elasticloadbalancing:") && strings.Contains(id, ":loadbalancer/"):
		return describer{"elbv2", "DescribeLoadBalancers", ids("LoadBalancerArns")}, true
	case strings.HasPrefix(id, "arn:aws:elasticloadbalancing:") && strings.Contains(id, ":targetgroup/"):
		return describer{"elbv2", "DescribeTargetGroups", ids("TargetGroupArns")}, true
	case strings.HasPrefix(id, "rds:"):
		return describer{"rds", "DescribeDBInstances", func(id string) map[string]any {
			return map[string]any{"DBInstanceIdentifier": strings.TrimPrefix(id, "rds:")}
		}}, true
	case strings.HasPrefix(id, "elasticache:"):
		return describer{"elasticache", "DescribeCacheClusters", func(id string) map[string]any {
			return map[string]any{"CacheClusterId": strings.TrimPrefix(id, "elasticache:"), "ShowCacheNodeInfo": true}
		}}, true
	}
	return describer{}, false
}

func (c *Console) resource(w http.ResponseWriter, r *http.Request) {
	account, region, known, ok := c.scopeOf(w, r)
	if !ok {
		return
	}
	if !known {
		fail(w, http.StatusBadRequest, "InvalidParameterValue", "account "+account+" has no resources in "+region)
		return
	}
	id := r.URL.Query().Get("id")
	d, ok := describerOf(id)
	if !ok {
		fail(w, http.StatusBadRequest, "InvalidParameterValue", "the console does not describe "+strings.TrimSpace(id+" ")+"(an EC2 id, a load balancer's or target group's ARN, rds:<id> or elasticache:<id>)")
		return
	}
	res, err := c.describe(r.Context(), account, region, id, d)
	if err != nil {
		failAPI(w, err)
		return
	}
	writeJSON(w, res)
}

func (c *Console) describe(ctx context.Context, account, region, id string, d describer) (*Resource, error) {
	out, err := c.call(ctx, account, region, d.service, d.op, d.params(id))
	if err != nil {
		return nil, err
	}
	res := &Resource{ID: id, Service: d.service, Operation: d.op, Describe: out, Events: c.eventsOf(account, region, id)}
	switch {
	case strings.HasPrefix(id, "i-"):
		got, err := c.call(ctx, account, region, "ec2", "GetConsoleOutput", map[string]any{"InstanceId": id})
		if err != nil {
			return nil, err
		}
		text := ""
		if b, err := base64.StdEncoding.DecodeString(str(got, "Output")); err == nil {
			text = string(b)
		}
		res.ConsoleOutput = &text
	case d.op == "DescribeTargetGroups":
		if res.Health, err = c.call(ctx, account, region, "elbv2", "DescribeTargetHealth", map[string]any{"TargetGroupArn": id}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// maxResourceEvents bounds the events shown with a resource.
const maxResourceEvents = 50

// eventsOf are the latest events of the account and region that name the
// resource, among their resources or in their detail, newest first.
func (c *Console) eventsOf(account, region, id string) []events.Event {
	out := []events.Event{}
	if c.cfg.Events == nil {
		return out
	}
	name := strings.TrimPrefix(strings.TrimPrefix(id, "rds:"), "elasticache:")
	all := c.cfg.Events()
	for i := len(all) - 1; i >= 0 && len(out) < maxResourceEvents; i-- {
		ev := all[i]
		if ev.Account != account || ev.Region != region {
			continue
		}
		if names(ev, name) {
			out = append(out, ev)
		}
	}
	return out
}

// names reports whether an event is about the resource id: one of its
// resources is the id or an ARN that ends with it, or its detail names it.
func names(ev events.Event, id string) bool {
	for _, r := range ev.Resources {
		if r == id || strings.HasSuffix(r, "/"+id) || strings.HasSuffix(r, ":"+id) {
			return true
		}
	}
	b, _ := json.Marshal(ev.Detail)
	return strings.Contains(string(b), `"`+id+`"`)
}
