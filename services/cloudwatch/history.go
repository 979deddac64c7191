package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/store"
)

const (
	maxHistory         = 10000 // items kept per account and region, oldest dropped first
	defaultHistoryPage = 100
)

// addHistory records one history item in tx.
func (s *Service) addHistory(tx *store.Tx, sc scope, alarm, typ, summary string, data any, now time.Time) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	seq, err := tx.NextID(sc.account, sc.region, kindHistory)
	if err != nil {
		return err
	}
	item := cwapi.AlarmHistoryItem{
		AlarmName: str(alarm), AlarmType: str(cwapi.AlarmTypeMetricAlarm), HistoryItemType: str(typ),
		HistorySummary: str(summary), HistoryData: str(string(raw)), Timestamp: tm(now),
	}
	if err := tx.Put(store.Key{Account: sc.account, Region: sc.region, Kind: kindHistory, ID: fmt.Sprintf("%020d", seq)}, item); err != nil {
		return err
	}
	n, err := tx.Count(sc.account, sc.region, kindHistory)
	if err != nil || n <= maxHistory {
		return err
	}
	var oldest string
	err = tx.List(sc.account, sc.region, kindHistory, func(id string, _ []byte) error {
		oldest = id
		return store.ErrStop
	})
	if err != nil {
		return err
	}
	_, err = tx.Delete(store.Key{Account: sc.account, Region: sc.region, Kind: kindHistory, ID: oldest})
	return err
}

func (s *Service) describeAlarmHistory(ctx context.Context, in *cwapi.DescribeAlarmHistoryInput) (*cwapi.DescribeAlarmHistoryOutput, error) {
	sc := scopeOf(ctx)
	offset, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	if in.StartDate != nil && in.EndDate != nil && in.EndDate.Before(*in.StartDate) {
		return nil, api.Errorf("InvalidParameterValue", "The parameter StartDate must be less than the parameter EndDate.")
	}
	metricType := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		metricType = metricType || deref(t) == cwapi.AlarmTypeMetricAlarm
	}
	var items []*cwapi.AlarmHistoryItem
	err = s.store.View(func(tx *store.Tx) error {
		return tx.List(sc.account, sc.region, kindHistory, func(_ string, raw []byte) error {
			var it cwapi.AlarmHistoryItem
			if err := json.Unmarshal(raw, &it); err != nil {
				return err
			}
			ts := deref(it.Timestamp)
			if !metricType ||
				in.AlarmName != nil && deref(it.AlarmName) != *in.AlarmName ||
				in.HistoryItemType != nil && deref(it.HistoryItemType) != *in.HistoryItemType ||
				in.StartDate != nil && ts.Before(*in.StartDate) ||
				in.EndDate != nil && ts.After(*in.EndDate) {
				return nil
			}
			items = append(items, &it)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if deref(in.ScanBy) != cwapi.ScanByTimestampAscending {
		slices.Reverse(items) // stored oldest first
	}
	if offset > len(items) {
		return nil, api.Errorf("InvalidNextToken", "The service couldn't process the pagination token.")
	}
	page := int(deref(in.MaxRecords))
	if page == 0 {
		page = defaultHistoryPage
	}
	end := min(offset+page, len(items))
	out := &cwapi.DescribeAlarmHistoryOutput{AlarmHistoryItems: append([]*cwapi.AlarmHistoryItem{}, items[offset:end]...)}
	if end < len(items) {
		out.NextToken = encodeToken(end)
	}
	return out, nil
}
