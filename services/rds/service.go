// Package rds implements Amazon RDS for the mysql and mariadb engines: DB
// subnet groups, DB parameter groups with each family's parameters, the
// engine versions and instance classes on offer, tags, events, and DB
// instances that really run.
//
// A DB instance is one node: a requester-managed interface (owner "rds")
// in a subnet of its DB subnet group, made by EC2 in RDS's transaction
// (ec2.CreateServiceENI), and a managed compute slot (desired.Slot) behind
// it whose first-boot script installs Debian's mariadb-server from the
// package mirror and configures it as asked (port, master user, database,
// the parameter group's values). Both engines run MariaDB: Debian has no
// MySQL server; EngineVersion keeps what was asked (AWS's 8.0.x list), and
// SELECT VERSION() says MariaDB. The endpoint,
// <id>.<12 chars>.<region>.rds.amazonaws.com, is a desired.Name: resolved
// in the VPC, or everywhere to the public address when publicly
// accessible. The slot's reports (ReportSlot) move the instance through
// creating, backing-up and available; without a data plane the lifecycle
// loop moves it on the virtual clock instead (lifecycle.go).
package rds

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// Service is the RDS implementation.
type Service struct {
	store     *store.Store
	now       func() time.Time
	scale     float64
	log       *slog.Logger
	dataPlane atomic.Bool

	mu      sync.Mutex
	onEvent []func(BusEvent)
	snaps   snapshotter
}

// New returns RDS over st; now is the virtual clock, scale times faster
// than the wall clock. With dataPlane, instances become available from
// their slots' reports; without it, on the virtual clock.
func New(st *store.Store, now func() time.Time, log *slog.Logger, scale float64, dataPlane bool) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, now: now, scale: max(scale, 1), log: log}
	s.dataPlane.Store(dataPlane)
	events, _ := st.Watch(kindInstance)
	go s.runLifecycle(events)
	recorded, _ := st.Watch(kindEvent)
	go s.publishEvents(recorded)
	snapEvents, _ := st.Watch(kindSnapshot)
	go s.runSnapshots(snapEvents)
	return s
}

// Handlers returns the operations RDS implements.
func (s *Service) Handlers() *rdsapi.Handlers {
	return &rdsapi.Handlers{
		CreateDBSubnetGroup:    s.CreateDBSubnetGroup,
		DescribeDBSubnetGroups: s.DescribeDBSubnetGroups,
		ModifyDBSubnetGroup:    s.ModifyDBSubnetGroup,
		DeleteDBSubnetGroup:    s.DeleteDBSubnetGroup,

		CreateDBParameterGroup:    s.CreateDBParameterGroup,
		DescribeDBParameterGroups: s.DescribeDBParameterGroups,
		DescribeDBParameters:      s.DescribeDBParameters,
		ModifyDBParameterGroup:    s.ModifyDBParameterGroup,
		ResetDBParameterGroup:     s.ResetDBParameterGroup,
		DeleteDBParameterGroup:    s.DeleteDBParameterGroup,

		DescribeDBEngineVersions:           s.DescribeDBEngineVersions,
		DescribeOrderableDBInstanceOptions: s.DescribeOrderableDBInstanceOptions,

		AddTagsToResource:      s.AddTagsToResource,
		ListTagsForResource:    s.ListTagsForResource,
		RemoveTagsFromResource: s.RemoveTagsFromResource,

		CreateDBInstance:    s.CreateDBInstance,
		DescribeDBInstances: s.DescribeDBInstances,
		DeleteDBInstance:    s.DeleteDBInstance,
		ModifyDBInstance:    s.ModifyDBInstance,
		RebootDBInstance:    s.RebootDBInstance,
		StopDBInstance:      s.StopDBInstance,
		StartDBInstance:     s.StartDBInstance,

		CreateOptionGroup:    s.CreateOptionGroup,
		DescribeOptionGroups: s.DescribeOptionGroups,
		ModifyOptionGroup:    s.ModifyOptionGroup,
		DeleteOptionGroup:    s.DeleteOptionGroup,

		CreateDBInstanceReadReplica: s.CreateDBInstanceReadReplica,
		PromoteReadReplica:          s.PromoteReadReplica,
		DescribeEvents:              s.DescribeEvents,

		CreateDBSnapshot:                s.CreateDBSnapshot,
		DescribeDBSnapshots:             s.DescribeDBSnapshots,
		DeleteDBSnapshot:                s.DeleteDBSnapshot,
		CopyDBSnapshot:                  s.CopyDBSnapshot,
		RestoreDBInstanceFromDBSnapshot: s.RestoreDBInstanceFromDBSnapshot,
		RestoreDBInstanceToPointInTime:  s.RestoreDBInstanceToPointInTime,
	}
}

// scope is one account and region.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region}
}

func (sc scope) key(kind, id string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: kind, ID: id}
}

// arn names an RDS resource: kind is db, subgrp, pg.
func (sc scope) arn(kind, name string) string {
	return "arn:aws:rds:" + sc.region + ":" + sc.account + ":" + kind + ":" + name
}

// fault is an error with the status RDS's model gives its code (404 for
// the not-found faults).
func fault(code, format string, args ...any) *api.Error {
	e := api.Errorf(code, format, args...)
	if sh, ok := rdsapi.Service.Errors[code]; ok && sh.Status != 0 {
		e.Status = sh.Status
	}
	return e
}

func invalidValue(format string, args ...any) *api.Error {
	return api.Errorf("InvalidParameterValue", format, args...)
}

func invalidCombination(format string, args ...any) *api.Error {
	return api.Errorf("InvalidParameterCombination", format, args...)
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func ptr[T any](v T) *T { return &v }
