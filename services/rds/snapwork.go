package rds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// The work behind snapshots and restores: dumps taken inside the nodes
// and loaded into new ones through the SlotExec the daemon hands RDS, and
// without a data plane, snapshots moved on the virtual clock.

// snapshotDelay is how long (virtual time) a snapshot takes without a
// data plane, and a copy.
const snapshotDelay = 2 * time.Second

// dumpCommand takes a consistent logical dump of every MariaDB database, the
// users and grants (the mysql schema) included, as root over the node's
// socket; its head records, commented out, the GTID position it is
// consistent with, where a point-in-time restore replays the binary
// logs from.
var dumpCommand = []string{"mariadb-dump", "--protocol=socket", "-uroot", "--all-databases", "--single-transaction",
	"--routines", "--events", "--triggers", "--hex-blob", "--gtid", "--master-data=2"}

// restoreDir holds a restored node's handshake with RDS: its first-boot
// script says ready once MariaDB serves and waits for loaded (or failed).
const restoreDir = "/var/lib/rds-restore"

// slotGrace is how long (wall time) a snapshot waits for a node that does
// not run yet (the data plane's first sync after a restart); a restore
// waits for its node as long as the instance is creating (the data plane
// fails a boot that does not end).
const slotGrace = 5 * time.Minute

// execTimeout bounds a dump or a load.
const execTimeout = 2 * time.Hour

// snapshotter is the state of the snapshot work.
type snapshotter struct {
	mu sync.Mutex
	// exec runs commands in RDS's slots; files is where dumps are kept.
	exec  desired.SlotExec
	files string
	// busy are the snapshots and restores being worked on, by key;
	// waiting since when a snapshot's node has not been running.
	busy    map[store.Key]bool
	waiting map[store.Key]time.Time
}

// waited is how long the snapshot k has waited for its node (zero the
// first time); done forgets it.
func (sn *snapshotter) waited(k store.Key, done bool) time.Duration {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if done {
		delete(sn.waiting, k)
		return 0
	}
	if sn.waiting == nil {
		sn.waiting = map[store.Key]time.Time{}
	}
	if since, ok := sn.waiting[k]; ok {
		return time.Since(since)
	}
	sn.waiting[k] = time.Now()
	return 0
}

// UseSlotExec implements desired.SlotExecUser.
func (s *Service) UseSlotExec(e desired.SlotExec) {
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	s.snaps.exec = e
}

// UseFiles sets the directory under which snapshots' dumps are kept (a
// subdirectory rds/), before RDS serves: without one, as without a data
// plane, snapshots have no content. A dump a crash cut short left its
// temporary file there; none runs yet, so they go.
func (s *Service) UseFiles(dir string) {
	s.snaps.mu.Lock()
	defer s.snaps.mu.Unlock()
	s.snaps.files = dir
	if dir == "" {
		return
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, "rds", "*", "*", "snapshots", "*.tmp"))
	for _, f := range tmps {
		os.Remove(f)
	}
}

func (sn *snapshotter) execer() desired.SlotExec {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.exec == nil {
		return desired.NoDataPlane{}
	}
	return sn.exec
}

func (sn *snapshotter) path(rel string) string {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return filepath.Join(sn.files, rel)
}

func (sn *snapshotter) hasFiles() bool {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.files != ""
}

// claim marks k as worked on; false if it already is.
func (sn *snapshotter) claim(k store.Key) bool {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.busy == nil {
		sn.busy = map[store.Key]bool{}
	}
	if sn.busy[k] {
		return false
	}
	sn.busy[k] = true
	return true
}

func (sn *snapshotter) release(k store.Key) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	delete(sn.busy, k)
}

// link makes a new name for a dump in sc's directory sub (dumps are
// written once, so a copy or a restore shares the file) and returns it,
// relative to the files directory.
func (sn *snapshotter) link(sc scope, from, sub string) (string, error) {
	return sn.linkAs(sc, from, sub, filepath.Ext(from))
}

// linkAs is link with the name's extension.
func (sn *snapshotter) linkAs(sc scope, from, sub, ext string) (string, error) {
	// The name starts with the time, which sweepRestores reads (a link's
	// inode keeps the dump's times).
	rel := filepath.Join(snapshotDir(sc, sub), fmt.Sprintf("%d-%s%s", time.Now().Unix(), randomLabel(12), ext))
	to := sn.path(rel)
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		return "", err
	}
	if err := os.Link(sn.path(from), to); err != nil {
		return "", err
	}
	return rel, syncDir(filepath.Dir(to))
}

// sweepRestores removes the restore links no instance waits for any
// more (one deleted before its node loaded its dump); one younger than a
// minute may belong to a restore being made.
func (s *Service) sweepRestores() error {
	if !s.snaps.hasFiles() {
		return nil
	}
	want := map[string]bool{}
	err := s.store.View(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(_ scope, r *instanceRecord) error {
			want[r.RestoreFile] = true
			for _, l := range r.Replay {
				want[l.File] = true
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	root := s.snaps.path("")
	links, _ := filepath.Glob(filepath.Join(root, "rds", "*", "*", "restore", "*.sql"))
	logs, _ := filepath.Glob(filepath.Join(root, "rds", "*", "*", "restore", "*.binlog"))
	tars, _ := filepath.Glob(filepath.Join(root, "rds", "*", "*", "restore", "*.tar"))
	links = append(append(links, logs...), tars...)
	for _, l := range links {
		rel, err := filepath.Rel(root, l)
		var made int64
		if _, serr := fmt.Sscanf(filepath.Base(l), "%d-", &made); err != nil || serr != nil || want[rel] || time.Since(time.Unix(made, 0)) < time.Minute {
			continue
		}
		if err := os.Remove(l); err != nil {
			return err
		}
		s.log.Info("rds: removed a restore's dump no instance waits for", "path", l)
	}
	return nil
}

// runSnapshots moves snapshots, copies and restores on, a few times a
// second of wall time, until the store closes.
func (s *Service) runSnapshots(events <-chan store.Event) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-sweep.C:
			if err := s.sweepRestores(); err != nil {
				s.log.Warn("rds: sweeping restores", "error", err)
			}
		case <-tick.C:
			if err := s.backups(); err != nil {
				s.log.Warn("rds: automated backups", "error", err)
			}
			if err := s.archiveStep(); err != nil {
				s.log.Warn("rds: archiving the binary logs", "error", err)
			}
			if err := s.snapshotStep(); err != nil {
				s.log.Warn("rds: snapshots", "error", err)
			}
		}
	}
}

// snapshotStep starts the work each creating snapshot and each restored
// instance waiting for its dump needs, once.
func (s *Service) snapshotStep() error {
	type job struct {
		sc   scope
		snap *snapshotRecord
		inst *instanceRecord
	}
	var jobs []job
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindSnapshot)
		if err != nil {
			return err
		}
		for _, p := range scopes {
			sc := scope{account: p[0], region: p[1]}
			snaps, err := store.ListAll[snapshotRecord](tx, sc.account, sc.region, kindSnapshot)
			if err != nil {
				return err
			}
			for _, r := range snaps {
				if r.Status == "creating" {
					jobs = append(jobs, job{sc: sc, snap: r})
				}
			}
		}
		if !s.dataPlane.Load() {
			return nil
		}
		return s.eachInstance(tx, func(sc scope, r *instanceRecord) error {
			if r.RestoreFile != "" && r.Status == "creating" {
				jobs = append(jobs, job{sc: sc, inst: r})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		k := j.sc.key(kindInstance, "")
		if j.snap != nil {
			k = j.sc.snapshotKey(j.snap.ID)
		} else {
			k.ID = j.inst.ID
		}
		if !s.snaps.claim(k) {
			continue
		}
		go func() {
			defer s.snaps.release(k)
			if j.snap != nil {
				s.takeSnapshot(j.sc, j.snap)
			} else {
				s.restore(j.sc, j.inst)
			}
		}()
	}
	return nil
}

// takeSnapshot makes a creating snapshot's content: a copy links its
// source's dump after the copy's time, a new snapshot dumps its node (or,
// without a data plane, only waits its time).
func (s *Service) takeSnapshot(sc scope, snap *snapshotRecord) {
	var err error
	switch {
	case snap.SourceARN != "" || !s.dataPlane.Load() || !s.snaps.hasFiles():
		if s.now().Sub(snap.StatusSince) < snapshotDelay {
			return // next step
		}
		if snap.CopyOf != "" {
			snap.File, err = s.snaps.link(sc, snap.CopyOf, "snapshots")
			snap.CopyOf = ""
		}
	default:
		err = s.dump(sc, snap)
	}
	if errors.Is(err, errNotYet) {
		return
	}
	s.finishSnapshot(sc, snap, err)
}

// errNotYet: the node does not run yet; the next step tries again.
var errNotYet = errors.New("not yet")

// dump streams the node's dump into the snapshot's file, written
// durably: a temporary file synced, then renamed and its directory
// synced, so a crash leaves the whole dump or none.
func (s *Service) dump(sc scope, snap *snapshotRecord) error {
	var slot string
	var port int
	err := s.store.View(func(tx *store.Tx) error {
		r, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, snap.Instance))
		if err != nil || !ok || r.ResourceID != snap.InstanceResourceID {
			return errors.Join(err, fmt.Errorf("the DB instance %s is gone", snap.Instance))
		}
		slot, port = primarySlot(r), r.Port
		return nil
	})
	if err != nil {
		return err
	}
	// MariaDB's dump is SQL; PostgreSQL's a base backup's tar.
	cmd, sizeCmd, ext := dumpCommand, dataSizeCommand, ".sql"
	if snap.Engine == "postgres" {
		cmd, sizeCmd, ext = pgDumpCommand(port), pgSizeCommand(port), ".tar"
	}
	rel := filepath.Join(snapshotDir(sc, "snapshots"), randomLabel(20)+ext)
	final := s.snaps.path(rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return err
	}
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	ex := s.snaps.execer()
	out := &counter{w: f}
	stop := s.followProgress(sc, snap, s.dataSize(ctx, ex, slot, sizeCmd), out)
	code, err := ex.ExecSlot(ctx, slot, cmd, nil, out)
	stop()
	if err == nil && code != 0 {
		err = fmt.Errorf("%s exited with status %d", cmd[0], code)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	k := sc.snapshotKey(snap.ID)
	if errors.Is(err, desired.ErrSlotNotRunning) && s.snaps.waited(k, false) < slotGrace {
		return errNotYet
	}
	s.snaps.waited(k, true)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return err
	}
	fi, err := os.Stat(final)
	if err != nil {
		return err
	}
	snap.File, snap.Size = rel, fi.Size()
	if f, err := os.Open(final); err == nil && snap.Engine != "postgres" {
		f.Seek(max(0, snap.Size-dumpTailLimit), io.SeekStart)
		snap.GTID, snap.HasGTID = dumpPosition(f)
		f.Close()
	}
	s.log.Info("rds: dumped a DB instance", "account", sc.account, "region", sc.region, "snapshot", snap.ID,
		"instance", snap.Instance, "bytes", snap.Size, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// dataSizeCommand asks MariaDB what its databases hold.
var dataSizeCommand = []string{"mariadb", "--protocol=socket", "-uroot", "-N", "-e",
	"SELECT COALESCE(SUM(data_length), 0) FROM information_schema.tables WHERE table_schema NOT IN ('information_schema', 'performance_schema', 'sys')"}

// dataSize is what the node's databases hold, by the engine's count (cmd
// answers it; 0 when it cannot say): what a dump's progress is measured
// against.
func (s *Service) dataSize(ctx context.Context, ex desired.SlotExec, slot string, cmd []string) int64 {
	var out bytes.Buffer
	code, err := ex.ExecSlot(ctx, slot, cmd, nil, &out)
	n, perr := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
	if err != nil || code != 0 || perr != nil {
		return 0
	}
	return n
}

// counter counts the bytes written through it.
type counter struct {
	w io.Writer
	n atomic.Int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// followProgress shows a dump's PercentProgress, every second: the bytes
// dumped against the data's size (an estimate: up to 99 until it ends).
// The returned func stops it.
func (s *Service) followProgress(sc scope, snap *snapshotRecord, size int64, out *counter) (stop func()) {
	done := make(chan struct{})
	if size <= 0 {
		return func() {}
	}
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		shown := 0
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			p := int(min(99, out.n.Load()*100/size))
			if p == shown {
				continue
			}
			shown = p
			err := s.store.Update(func(tx *store.Tx) error {
				cur, ok, err := store.Get[snapshotRecord](tx, sc.snapshotKey(snap.ID))
				if err != nil || !ok || cur.Status != "creating" || cur.Created != snap.Created {
					return err
				}
				cur.Progress = p
				return tx.Put(sc.snapshotKey(cur.ID), cur)
			})
			if err != nil {
				s.log.Warn("rds: a snapshot's progress", "snapshot", snap.ID, "error", err)
			}
		}
	}()
	return func() { close(done) }
}

// finishSnapshot records the outcome: available (or failed, with the
// reason) and the node free to stop, if a stop or a delete waits for it.
func (s *Service) finishSnapshot(sc scope, snap *snapshotRecord, failure error) {
	now := s.now()
	err := s.store.Update(func(tx *store.Tx) error {
		cur, ok, err := store.Get[snapshotRecord](tx, sc.snapshotKey(snap.ID))
		if err != nil {
			return err
		}
		if !ok || cur.Status != "creating" || cur.Created != snap.Created {
			// Deleted meanwhile (an automated one with its instance): its
			// dump is no one's, and the node is free.
			if snap.File != "" {
				os.Remove(s.snaps.path(snap.File))
			}
			return s.freeNode(tx, sc, snap, now)
		}
		cur.File, cur.Size, cur.CopyOf, cur.StatusSince = snap.File, snap.Size, "", now
		cur.GTID, cur.HasGTID = snap.GTID, snap.HasGTID
		msg := msgSnapshotCreated
		switch {
		case failure != nil:
			cur.Status, cur.Reason = "failed", failure.Error()
			msg = msgSnapshotFailed
			s.log.Error("rds: a DB snapshot failed", "account", sc.account, "region", sc.region, "snapshot", cur.ID, "error", failure)
		case cur.SourceRegion != "":
			cur.Status, cur.Progress = "available", 100
			msg = msgCopyFinished(cur.SourceARN, cur.SourceRegion)
		default:
			cur.Status, cur.Progress = "available", 100
			if cur.Type == "automated" {
				msg = msgAutoSnapshotCreated
			}
		}
		if err := snapshotEvent(tx, sc, cur.ID, now, msg); err != nil {
			return err
		}
		if err := tx.Put(sc.snapshotKey(cur.ID), cur); err != nil {
			return err
		}
		if cur.SourceARN != "" {
			return nil // a copy: no node involved
		}
		return s.freeNode(tx, sc, cur, now)
	})
	if err != nil {
		s.log.Warn("rds: recording a DB snapshot", "snapshot", snap.ID, "error", err)
	}
}

// freeNode ends the snapshot's hold on its instance: a stop or a delete
// waiting for it goes on, a backing-up instance is available again (an
// automated backup's end is the instance's "Finished DB Instance
// backup").
func (s *Service) freeNode(tx *store.Tx, sc scope, snap *snapshotRecord, now time.Time) error {
	r, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, snap.Instance))
	if err != nil || !ok || r.Snapshotting != snap.ID {
		return err
	}
	r.Snapshotting = ""
	if r.Status != "backing-up" {
		return tx.Put(sc.key(kindInstance, r.ID), r)
	}
	if snap.Type == "automated" {
		return s.move(tx, sc, r, "available", now, msgBackupDone)
	}
	return s.move(tx, sc, r, "available", now)
}

// restore loads a restored instance's dump into its node: once the
// node's first boot says the engine serves, the dump is streamed into
// MariaDB as root and the privileges reloaded (PostgreSQL's cluster is
// replaced by the snapshot's, pgLoad), and the boot let go on (the
// instance turns available when it ends). A failed load leaves the
// instance incompatible-restore, as AWS's does.
func (s *Service) restore(sc scope, r *instanceRecord) {
	slot := primarySlot(r)
	ex := s.snaps.execer()
	ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
	defer cancel()
	code, failure := ex.ExecSlot(ctx, slot, []string{"test", "-e", restoreDir + "/ready"}, nil, nil)
	if (failure == nil && code != 0) || errors.Is(failure, desired.ErrSlotNotRunning) {
		return // not ready yet: the next step asks again
	}
	switch {
	case failure != nil:
	case r.Engine == "postgres":
		failure = s.pgLoad(ctx, ex, slot, s.snaps.path(r.RestoreFile), r.Port)
	default:
		failure = s.load(ctx, ex, slot, s.snaps.path(r.RestoreFile), r.ReplPassword, func() error { return s.replay(ctx, ex, slot, r) })
	}
	flag := "loaded"
	if failure != nil {
		flag = "failed"
		s.log.Error("rds: restoring a DB instance", "account", sc.account, "region", sc.region, "id", r.ID, "snapshot", r.Restore, "error", failure)
	}
	// The node's boot goes on either way; a node that is gone needs no word.
	ex.ExecSlot(ctx, slot, []string{"touch", restoreDir + "/" + flag}, nil, nil)
	now := s.now()
	uerr := s.store.Update(func(tx *store.Tx) error {
		cur, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, r.ID))
		if err != nil || !ok || cur.ResourceID != r.ResourceID || cur.RestoreFile == "" {
			return err
		}
		cur.RestoreFile, cur.Replay = "", nil
		if failure != nil {
			cur.Reason = failure.Error()
			return s.move(tx, sc, cur, "incompatible-restore", now, msgFailed)
		}
		msg := msgRestored(cur.Restore)
		if cur.RestoreSource != "" {
			msg = msgRestoredTo(cur.RestoreSource, cur.RestoreTo)
		}
		if err := event(tx, sc, cur.ID, now, msg); err != nil {
			return err
		}
		return tx.Put(sc.key(kindInstance, cur.ID), cur)
	})
	if uerr != nil {
		s.log.Warn("rds: recording a restore", "id", r.ID, "error", uerr)
		return
	}
	os.Remove(s.snaps.path(r.RestoreFile))
	for _, l := range r.Replay {
		os.Remove(s.snaps.path(l.File))
	}
}

// load streams a dump into the node's engine, then replays what a
// point-in-time restore adds (then), gives the replication user its
// password and reloads the privileges the dump's mysql schema brought.
func (s *Service) load(ctx context.Context, ex desired.SlotExec, slot, path, replPassword string, then func() error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	code, err := ex.ExecSlot(ctx, slot, []string{"mariadb", "--protocol=socket", "-uroot"}, f, nil)
	if err == nil && code != 0 {
		err = fmt.Errorf("loading the dump: mariadb exited with status %d", code)
	}
	if err == nil {
		err = then()
	}
	if err != nil {
		return err
	}
	// The dump brought its source's replication user: this instance's
	// nodes know it by their own password.
	sql := "CREATE USER IF NOT EXISTS 'rdsrepl'@'%' IDENTIFIED BY '" + sqlString(replPassword) + "'; " +
		"ALTER USER 'rdsrepl'@'%' IDENTIFIED BY '" + sqlString(replPassword) + "'; GRANT ALL PRIVILEGES ON *.* TO 'rdsrepl'@'%'; FLUSH PRIVILEGES"
	code, err = ex.ExecSlot(ctx, slot, []string{"mariadb", "--protocol=socket", "-uroot", "-e", sql}, nil, io.Discard)
	if err == nil && code != 0 {
		err = fmt.Errorf("reloading the privileges: mariadb exited with status %d", code)
	}
	if err == nil {
		s.log.Info("rds: loaded a dump", "slot", slot, "took", time.Since(start).Round(time.Millisecond))
	}
	return err
}

// restoreWait is the part of a restored instance's first node's
// first-boot script that hands over to RDS once the engine serves and the
// master user exists ("" for other nodes: they copy the loaded primary).
func restoreWait(r *instanceRecord, n nodeSpec) string {
	if r.Restore == "" || !n.Primary {
		return ""
	}
	return "# Restored from a snapshot: RDS loads its dump now.\nmkdir -p " + restoreDir + "\ntouch " + restoreDir + "/ready\n" +
		"until [ -e " + restoreDir + "/loaded ] || [ -e " + restoreDir + "/failed ]; do sleep 1; done\n" +
		"[ -e " + restoreDir + "/loaded ]\n"
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
