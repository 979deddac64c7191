package rds

// page returns the items from the one marker names, at most max (RDS's MaxRecords: 20 to 100, 100 when absent), and
// the marker of the next page ("" when none).
func page[T any](items []T, name func(T) string, marker *string, maxRecords *int64) ([]T, *string, error) {
	limit := 100
	if maxRecords != nil {
		if *maxRecords < 20 || *maxRecords > 100 {
			return nil, nil, invalidValue("Invalid value %d for MaxRecords. Must be between 20 and 100", *maxRecords)
		}
		limit = int(*maxRecords)
	}
	start := 0
	if m := deref(marker); m != "" {
		for start < len(items) && name(items[start]) != m {
			start++
		}
	}
	items = items[start:]
	if len(items) > limit {
		return items[:limit], ptr(name(items[limit])), nil
	}
	return items, nil, nil
}
