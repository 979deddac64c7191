package rds

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// A parameter group's change reaches the MariaDB nodes of the instances
// that use it: every value, computed for the instance's class, goes into
// 99-rds-params.cnf (read after the first boot's 90-rds.cnf, so it wins
// at the next start), and the dynamic parameters changed are set at once
// (SET GLOBAL). As on RDS the instances show `applying` until the dynamic
// values are in, `pending-reboot` while a static one waits for a restart
// (a reboot, a class change) and `in-sync` after it; values computed
// from the class's memory follow a class change only with the group's
// next change. PostgreSQL nodes take their values at creation only.

// paramsFile is where a node's current parameter values are kept.
const paramsFile = "/etc/mysql/mariadb.conf.d/99-rds-params.cnf"

// applyTimeout bounds the commands of one node's change.
const applyTimeout = time.Minute

// applyStatus is what a change of the params named does to an instance's
// ParameterApplyStatus: a static one waits for a restart.
func applyStatus(current string, family string, names []string) string {
	for _, n := range names {
		for _, fp := range paramsOf(family) {
			if fp.Name == n && fp.Apply != "dynamic" {
				return "pending-reboot"
			}
		}
	}
	if current == "pending-reboot" {
		return current
	}
	return "applying"
}

// nodeChange is one node's part of a change: its slot, its new
// parameters file and the statements that set the dynamic ones.
type nodeChange struct {
	slot, file string
	set        []string
}

// applyParams pushes group's values to the running nodes of the instances
// in sc that use it, setting the dynamic ones named at once, then marks
// the instances whose change is complete in-sync. It runs after the
// change is committed, outside any request.
func (s *Service) applyParams(sc scope, group string, names []string) {
	var changes []nodeChange
	err := s.store.View(func(tx *store.Tx) error {
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, r := range insts {
			if r.ParameterGroup != group || r.Engine == "postgres" || !r.wantsRunning() {
				continue
			}
			pg, err := loadParamGroup(tx, sc, group)
			if err != nil {
				return err
			}
			// A class change waiting for the restart brings its values.
			class, _ := findClass(cmp.Or(r.PendingClass, r.Class))
			file := "[mysqld]\n" + strings.Join(configLines(pg, class), "\n") + "\n"
			var set []string
			for _, fp := range paramsOf(pg.Family) {
				if fp.Apply != "dynamic" || !containsName(names, fp.Name) {
					continue
				}
				if v, ok := valueFor(pg, fp, class); ok {
					set = append(set, "SET GLOBAL "+fp.Name+" = "+sqlValue(fp, v))
				}
			}
			slots := []string{primarySlot(r)}
			if r.Standby != nil {
				slots = append(slots, r.Standby.Slot)
			}
			for _, sl := range slots {
				changes = append(changes, nodeChange{slot: sl, file: file, set: set})
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("rds: applying parameters", "group", group, "error", err)
		return
	}
	exec := s.snaps.execer()
	for _, c := range changes {
		ctx, cancel := context.WithTimeout(context.Background(), applyTimeout)
		code, err := exec.ExecSlot(ctx, c.slot, []string{"sh", "-c", "cat > " + paramsFile}, strings.NewReader(c.file), nil)
		for _, stmt := range c.set {
			if err != nil || code != 0 {
				break
			}
			code, err = exec.ExecSlot(ctx, c.slot, []string{"mysql", "--protocol=socket", "-uroot", "-e", stmt}, nil, nil)
		}
		cancel()
		if err != nil || code != 0 {
			// A node that does not run misses the change until the
			// group changes again; the status moves on regardless.
			s.log.Warn("rds: applying parameters to a node", "group", group, "slot", c.slot, "code", code, "error", err)
		}
	}
	err = s.store.Update(func(tx *store.Tx) error {
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, r := range insts {
			if r.ParameterGroup == group && r.ParamApply == "applying" {
				r.ParamApply = "in-sync"
				if err := tx.Put(sc.key(kindInstance, r.ID), r); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("rds: applying parameters", "group", group, "error", err)
	}
}

func containsName(names []string, n string) bool {
	for _, m := range names {
		if strings.EqualFold(m, n) {
			return true
		}
	}
	return false
}

// valueFor is a parameter's value in a group (the user's, else the
// family's), a formula computed for the class; ok is false when it has
// none.
func valueFor(pg *paramGroupRecord, fp familyParam, class instanceClass) (string, bool) {
	for _, kv := range paramValues(pg, class) {
		if kv[0] == fp.Name {
			return kv[1], true
		}
	}
	return "", false
}

// sqlValue is a value as SET GLOBAL takes it: numbers and booleans as
// they are, anything else as a string.
func sqlValue(fp familyParam, v string) string {
	switch fp.Type {
	case "integer", "boolean", "float":
		return v
	}
	return fmt.Sprintf("'%s'", sqlString(v))
}

// restarted is a MariaDB primary's restart: it read the parameters file,
// so the static values waiting for it are in.
func (r *instanceRecord) restarted() {
	if r.ParamApply == "pending-reboot" && r.Engine != "postgres" {
		r.ParamApply = "in-sync"
	}
}
