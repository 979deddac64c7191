package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

const (
	r53Batch = 1000 // records per ChangeResourceRecordSets
	r53Runs  = 5
)

// benchRoute53Batch times ChangeResourceRecordSets of 1,000 A records in
// one batch, against cloudbox and moto started fresh, as the issue asks.
func benchRoute53Batch(ctx context.Context, r *runner) (section, error) {
	s := section{
		title: "Route 53 ChangeResourceRecordSets, 1,000 records per batch",
		method: fmt.Sprintf("aws-sdk-go-v2's Route 53 client (key test/test, retries off) against a freshly started server. "+
			"Untimed: CreateHostedZone example.com and one warm-up batch of 10 records. Then %d timed calls, one at a time, "+
			"each a batch of %d CREATEs of new A records (TTL 300, one value each), so every batch finds the earlier ones in "+
			"the zone; then one ListResourceRecordSets of the whole zone, page by page (MaxItems 300).", r53Runs, r53Batch),
		table: table{header: []string{"Server", "Batch p50", "min", "max", "List all (pages)", "Runs"}},
	}
	targets, err := r.freshTargets()
	if err != nil {
		return s, err
	}
	p50 := make([]time.Duration, len(targets))
	for i, t := range targets {
		r.logf("  %s: %d x ChangeResourceRecordSets of %d", t.name, r53Runs, r53Batch)
		p, err := r.start(ctx, t)
		if err != nil {
			return s, err
		}
		times, list, pages, err := r53Batches(ctx, p.endpoint)
		p.stop()
		if err != nil {
			s.table.rows = append(s.table.rows, []string{t.name, errCell(err), "", "", "", strconv.Itoa(len(times))})
			continue
		}
		slices.Sort(times)
		p50[i] = percentile(times, 50)
		s.table.rows = append(s.table.rows, []string{t.name, ms(p50[i]), ms(times[0]), ms(times[len(times)-1]),
			fmt.Sprintf("%s (%d)", ms(list), pages), strconv.Itoa(len(times))})
	}
	for _, i := range []int{cbMem, cbDisk} {
		if p50[i] > 0 && p50[motoSrv] > 0 {
			s.notes = append(s.notes, fmt.Sprintf("%s applies a 1,000-record batch **%s** than moto (p50 %s vs %s).",
				targets[i].name, faster(speedup(p50[motoSrv], p50[i])), ms(p50[i]), ms(p50[motoSrv])))
		}
	}
	return s, nil
}

// r53Batches makes the zone and times the batches and the full listing.
func r53Batches(ctx context.Context, endpoint string) (batches []time.Duration, list time.Duration, pages int, err error) {
	api := route53.New(route53.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}}, // loopback only
		Retryer:      aws.NopRetryer{},
	})
	zone, err := api.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String(strconv.FormatInt(time.Now().UnixNano(), 10))})
	if err != nil {
		return nil, 0, 0, err
	}
	id := zone.HostedZone.Id
	batch := func(run, n int) error {
		changes := make([]types.Change, n)
		for j := range changes {
			changes[j] = types.Change{Action: types.ChangeActionCreate, ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String(fmt.Sprintf("r%d-%d.example.com", run, j)), Type: types.RRTypeA, TTL: aws.Int64(300),
				ResourceRecords: []types.ResourceRecord{{Value: aws.String(fmt.Sprintf("10.%d.%d.%d", run, j/250, j%250+1))}},
			}}
		}
		_, err := api.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: id, ChangeBatch: &types.ChangeBatch{Changes: changes}})
		return err
	}
	if err := batch(0, 10); err != nil {
		return nil, 0, 0, err
	}
	for run := 1; run <= r53Runs; run++ {
		t0 := time.Now()
		if err := batch(run, r53Batch); err != nil {
			return batches, 0, 0, err
		}
		batches = append(batches, time.Since(t0))
	}
	t0 := time.Now()
	in := &route53.ListResourceRecordSetsInput{HostedZoneId: id, MaxItems: aws.Int32(300)}
	seen := 0
	for {
		out, err := api.ListResourceRecordSets(ctx, in)
		if err != nil {
			return batches, 0, pages, err
		}
		pages++
		seen += len(out.ResourceRecordSets)
		if !out.IsTruncated {
			break
		}
		in.StartRecordName, in.StartRecordType, in.StartRecordIdentifier = out.NextRecordName, out.NextRecordType, out.NextRecordIdentifier
	}
	list = time.Since(t0)
	if want := 10 + r53Runs*r53Batch + 2; seen != want { // the records, NS and SOA
		return batches, list, pages, fmt.Errorf("the listing has %d record sets, want %d", seen, want)
	}
	return batches, list, pages, nil
}
