// Package controllers runs the simulated world of one daemon. Its
// Supervisor follows the store and keeps a list of controllers in step
// with the desired world the services contribute (desired.Contributor),
// each one concern of the data plane:
//
//   - network (controllers/network): the VPCs' network in the kernel, each
//     VPC's Amazon DNS server, the internet's echo server and resolver;
//   - loadbalancers (controllers/loadbalancers): an ALB node per node ENI,
//     their targets' health and the edge;
//   - instances (controllers/instances): the instances' and the services'
//     slots' processes (dataplane/compute), their SSH servers and IMDS;
//   - metrics (controllers/metrics): the built-in metrics.
//
// The supervisor holds what they share: the kernel handles, the state
// directory, the latest snapshot, the store watch and the life lock that
// makes Down wait for the work under way. Services never call into it:
// what the controllers make flows back through reports (an instance's
// state and console to EC2, targets' health to ELB). After a change it
// re-reads only the accounts and regions whose records changed.
// Everything here is level-triggered: after a restart the first sync
// rebuilds the world from the store and removes what the store no longer
// knows.
package controllers

import (
	"context"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
)

// Controller keeps one concern of the data plane in step with the
// snapshot. The supervisor syncs its controllers in order, each after the
// ones it depends on (the network first), and closes them in reverse.
type Controller interface {
	Name() string
	// Sync makes the world match snap; it is level-triggered, so the next
	// sync retries what failed. An error means the world cannot be used
	// (the sync stops there and a boot waiting for it fails); a failure
	// confined to the controller's own part it logs instead.
	Sync(ctx context.Context, snap *desired.World) error
	// Close stops the controller's engines; what it made in the kernel
	// stays for a restarted daemon to take over.
	Close() error
}

// Pruner is a controller holding sockets inside namespaces. Before any
// controller syncs, Prune closes those of what snap no longer has: a
// socket keeps its namespace alive after the network removes it.
type Pruner interface {
	Prune(snap *desired.World)
}

// Starter is a controller with work to do once, when the daemon starts,
// after the first sync built the world. An error fails the start.
type Starter interface {
	Start(ctx context.Context) error
}

// Namer is a controller that knows DNS names. The supervisor chains their
// resolvers, in the controllers' order, into the one the VPCs' and the
// internet's DNS servers answer from (as CoreDNS chains its plugins).
type Namer interface {
	Names() vpcdns.Resolver
}
