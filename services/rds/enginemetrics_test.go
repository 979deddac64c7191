package rds

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// mysqlAnswers plays a node's mysql client answering engineQuery.
type mysqlAnswers map[string]string

func (m mysqlAnswers) ExecSlot(_ context.Context, slot string, _ []string, _ io.Reader, stdout io.Writer) (int, error) {
	out, ok := m[slot]
	if !ok {
		return 1, nil
	}
	io.WriteString(stdout, out)
	return 0, nil
}

type published struct {
	mu   sync.Mutex
	data map[string][]metric.Datum
}

func (p *published) Publish(account, region, namespace string, data []metric.Datum) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.data[region+" "+namespace] = append(p.data[region+" "+namespace], data...)
	return nil
}

// DatabaseConnections from each available primary, MariaDB's or
// PostgreSQL's, ReplicaLag from the replicas only, nothing from a node
// that does not answer.
func TestEngineMetrics(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	s := New(st, time.Now, slog.New(slog.DiscardHandler), 1, true)
	sc := scope{account: "000000000000", region: "us-east-1"}
	put := func(r *instanceRecord) {
		if err := st.Update(func(tx *store.Tx) error { return tx.Put(sc.key(kindInstance, r.ID), r) }); err != nil {
			t.Fatal(err)
		}
	}
	put(&instanceRecord{ID: "src", ResourceID: "db-SRC", Engine: "mysql", Status: "available"})
	put(&instanceRecord{ID: "rep", ResourceID: "db-REP", Engine: "mysql", Status: "available", Source: &instanceRef{Account: sc.account, Region: "ap-northeast-2", ID: "bts-db"}})
	put(&instanceRecord{ID: "quiet", ResourceID: "db-QUIET", Engine: "mysql", Status: "available"})
	put(&instanceRecord{ID: "stopped", ResourceID: "db-STOPPED", Engine: "mysql", Status: "stopped"})
	// PostgreSQL's answers: a line each, the lag empty (NULL) when the
	// node does not stream.
	put(&instanceRecord{ID: "pg", ResourceID: "db-PG", Engine: "postgres", Port: 5432, Status: "available"})
	put(&instanceRecord{ID: "pg-rep", ResourceID: "db-PGREP", Engine: "postgres", Port: 5432, Status: "available", Source: &instanceRef{Account: sc.account, Region: "us-east-1", ID: "pg"}})
	s.UseSlotExec(mysqlAnswers{
		"rds-db-src":     "Threads_connected\t4\n",
		"rds-db-rep":     "Threads_connected\t2\n*************************** 1. row ***************************\n        Seconds_Behind_Master: 3\n",
		"rds-db-stopped": "Threads_connected\t9\n",
		"rds-db-pg":      "5\n\n",
		"rds-db-pgrep":   "0\n2\n",
	})
	pub := &published{data: map[string][]metric.Datum{}}
	s.publishEngineMetrics(context.Background(), pub)
	var got bytes.Buffer
	for _, d := range pub.data["us-east-1 AWS/RDS"] {
		got.WriteString(d.Dimensions["DBInstanceIdentifier"] + " " + d.Name + " " + d.Unit + " ")
		got.WriteString(time.Duration(d.Value*float64(time.Second)).String() + "\n")
	}
	want := "pg DatabaseConnections Count 5s\npg-rep DatabaseConnections Count 0s\npg-rep ReplicaLag Seconds 2s\n" +
		"rep DatabaseConnections Count 1s\nrep ReplicaLag Seconds 3s\nsrc DatabaseConnections Count 3s\n"
	if got.String() != want {
		t.Fatalf("published:\n%s\nwant\n%s", got.String(), want)
	}
}
