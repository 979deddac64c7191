package daemon

import (
	"log/slog"
	"strings"
	"time"

	acmapi "github.com/cloudbox/cloudbox/api/acm"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/acm"
	"github.com/cloudbox/cloudbox/services/autoscaling"
	"github.com/cloudbox/cloudbox/services/cloudwatch"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/elbv2"
	"github.com/cloudbox/cloudbox/services/sts"
	"github.com/cloudbox/cloudbox/store"
)

// registry lists the services cloudbox serves. A service registered with
// empty Handlers is routed and decoded, and answers NotImplemented for each
// operation until its package implements them.
// The services the data plane drives are returned too.
//
// clk is the virtual clock of the time scale: CloudWatch and Auto Scaling
// run on it (periods, evaluation, cooldowns, warm-ups, grace periods).
func registry(st *store.Store, ids *identity.Resolver, now func() time.Time, clk *clock.Clock, log *slog.Logger, authority *ca.CA) ([]server.Service, backends) {
	b := backends{ec2: ec2.New(st, clk.Now, log, clk.Scale()), acm: acm.New(st, now, log, authority)}
	b.elbv2 = elbv2.New(st, clk.Now, log, clk.Scale(), b.acm)
	b.cloudwatch = cloudwatch.New(st, clk.Now, log, clk.Scale())
	ec2Inv, elbInv, cwInv := b.ec2.Invoker(), elbv2api.Bind(b.elbv2.Handlers()), cwapi.Bind(b.cloudwatch.Handlers())
	cw := alarms{cw: cwInv}
	b.autoscaling = autoscaling.New(st, clk.Now, log, fleet{st: st, ec2: ec2Inv}, targetGroups{elb: elbInv}, cw)
	b.cloudwatch.OnAction(func(account, region, alarm, action, state string) {
		if !strings.HasPrefix(action, "arn:aws:autoscaling:") {
			return
		}
		value, threshold, err := cw.latest(account, region, alarm)
		if err != nil {
			log.Warn("alarm action", "alarm", alarm, "action", action, "error", err)
			return
		}
		b.autoscaling.AlarmAction(account, region, action, alarm, state, value, threshold)
	})
	return []server.Service{
		{API: stsapi.Service, Invoker: stsapi.Bind(sts.New(ids, now).Handlers())},
		{API: ec2api.Service, Invoker: ec2Inv},
		{API: elbv2api.Service, Invoker: elbInv},
		{API: asapi.Service, Invoker: asapi.Bind(b.autoscaling.Handlers())},
		{API: cwapi.Service, Invoker: cwInv},
		{API: acmapi.Service, Invoker: acmapi.Bind(b.acm.Handlers())},
		{API: iamapi.Service, Invoker: iamapi.Bind(&iamapi.Handlers{})},
		{API: r53api.Service, Invoker: r53api.Bind(&r53api.Handlers{})},
		{API: s3api.Service, Invoker: s3api.Bind(&s3api.Handlers{})},
	}, b
}

// backends are the service implementations the data plane works with.
type backends struct {
	ec2         *ec2.Service
	elbv2       *elbv2.Service
	acm         *acm.Service
	cloudwatch  *cloudwatch.Service
	autoscaling *autoscaling.Service
}
