package rds

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// Snapshots of postgres: a physical copy of the whole cluster (every
// database, role and setting), pg_basebackup's tar with the WAL that makes
// it consistent, taken inside the primary as rdsadmin and streamed out
// through the slots' exec like MariaDB's dumps. A restored node's first
// boot, once its server runs, waits while RDS stops the server, puts the
// tar in place of its data directory and starts it again (PostgreSQL
// recovers to the backup's end); the script then gives the replication
// user this instance's password.

// pgDataDir is Debian's data directory of the nodes' cluster.
const pgDataDir = "/var/lib/postgresql/15/main"

// pgDumpCommand streams a base backup of the node's cluster as one tar to
// stdout: its WAL fetched into it (-X fetch; streaming needs a directory),
// a checkpoint at once rather than at the next one.
func pgDumpCommand(port int) []string {
	return []string{"pg_basebackup", "-h", "/run/postgresql", "-p", strconv.Itoa(port), "-U", "rdsadmin",
		"-D", "-", "-F", "t", "-X", "fetch", "-c", "fast", "--no-manifest"}
}

// pgSizeCommand is what the cluster's databases hold, by PostgreSQL's
// count: what a snapshot's progress is measured against.
func pgSizeCommand(port int) []string {
	return []string{"psql", "-h", "/run/postgresql", "-p", strconv.Itoa(port), "-U", "rdsadmin", "-d", "postgres", "-tAX",
		"-c", "SELECT sum(pg_database_size(oid)) FROM pg_database"}
}

// pgLoadScript replaces the node's cluster with the tar on its stdin,
// without the source's replication settings, and starts it; it ends once
// the server takes connections.
func pgLoadScript(port int) string {
	return fmt.Sprintf(`set -e
systemctl stop rds-postgresql
find %[1]s -mindepth 1 -delete
tar -x -C %[1]s
rm -f %[1]s/standby.signal
# The source's standby naming is not this instance's: a commit would wait
# for a standby that is not there (rds-pg-follow names its own).
sed -i -e '/^synchronous_standby_names/d' -e '/^primary_conninfo/d' %[1]s/postgresql.auto.conf
chown -R postgres:postgres %[1]s
chmod 700 %[1]s
systemctl start rds-postgresql
until pg_isready -q -h /run/postgresql -p %[2]d; do sleep 1; done
`, pgDataDir, port)
}

// pgLoad puts a snapshot's tar in place of a restored node's cluster.
func (s *Service) pgLoad(ctx context.Context, ex desired.SlotExec, slot, path string, port int) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	code, err := ex.ExecSlot(ctx, slot, []string{"bash", "-c", pgLoadScript(port)}, f, io.Discard)
	if err == nil && code != 0 {
		err = fmt.Errorf("restoring the base backup exited with status %d", code)
	}
	if err == nil {
		s.log.Info("rds: loaded a base backup", "slot", slot, "took", time.Since(start).Round(time.Millisecond))
	}
	return err
}
