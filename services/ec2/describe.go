package ec2

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// fields maps each filter name a Describe* supports to the values a record
// has for it. Tag filters (tag:Key, tag-key, tag-value) come for free.
type fields[T any] map[string]func(*T) []string

// query is what every Describe* takes: ids, filters and a page.
type query struct {
	ids        []*string
	filters    []*ec2api.Filter
	maxResults *int64
	nextToken  *string
	// idsParam names the id list parameter in errors ("vpcIds").
	idsParam string
	// candidates, when indexed, are the only records that can match the
	// filters (an index lookup): the others are not read.
	candidates []string
	indexed    bool
}

// lookupCandidates returns the records of kind k that may match one of
// filters, from the store's index name: each filter of byFilter (filter
// name -> the index value's prefix) whose values hold no wildcard can
// answer alone, since every filter must match. ok is false when none can.
func lookupCandidates(tx *store.Tx, sc scope, k *kind, name string, filters []*ec2api.Filter, byFilter map[string]string) (ids []string, ok bool) {
	for _, f := range filters {
		prefix, known := byFilter[deref(f.Name)]
		if !known || len(f.Values) == 0 {
			continue
		}
		var out []string
		literal := true
		for _, v := range f.Values {
			if v == nil || strings.ContainsAny(*v, "*?") {
				literal = false
				break
			}
			got, has := tx.Lookup(sc.account, sc.region, k.store, name, prefix+*v)
			if !has {
				return nil, false
			}
			out = append(out, got...)
		}
		if literal {
			slices.Sort(out)
			return slices.Compact(out), true
		}
	}
	return nil, false
}

// loadSome decodes the records of kind k with the given ids that exist,
// in the ids' order.
func loadSome[T any](tx *store.Tx, sc scope, k *kind, ids []string) ([]*T, error) {
	var out []*T
	for _, id := range ids {
		v, ok, err := store.Get[T](tx, sc.key(k, id))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// tagPrefilter returns a test on a record's raw JSON that is false only for
// records that cannot match the exact-valued tag filters among filters, or
// nil when there are none. Decoding a record costs far more than searching
// its bytes, so Describe* with a tag filter decodes only the candidates:
// that keeps "tag:role=web" over thousands of instances fast. Tags are
// stored as {"Key":k,"Value":v}, the form searched for.
func tagPrefilter(filters []*ec2api.Filter) func(raw []byte) bool {
	var alts [][][]byte // per filter, the encodings one of which must appear
	for _, f := range filters {
		if f == nil || f.Name == nil || !strings.HasPrefix(*f.Name, "tag:") {
			continue
		}
		key, _ := json.Marshal(strings.TrimPrefix(*f.Name, "tag:"))
		var enc [][]byte
		for _, v := range f.Values {
			if v == nil || strings.ContainsAny(*v, "*?") {
				enc = nil // a wildcard value: the bytes cannot rule anything out
				break
			}
			val, _ := json.Marshal(*v)
			enc = append(enc, []byte(`{"Key":`+string(key)+`,"Value":`+string(val)+`}`))
		}
		if len(enc) > 0 {
			alts = append(alts, enc)
		}
	}
	if len(alts) == 0 {
		return nil
	}
	return func(raw []byte) bool {
		for _, enc := range alts {
			found := false
			for _, e := range enc {
				if bytes.Contains(raw, e) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
}

// listMatching decodes the records of kind k that pass keep (all when keep
// is nil), in id order.
func listMatching[T any](tx *store.Tx, sc scope, k *kind, keep func(raw []byte) bool) ([]*T, error) {
	if keep == nil {
		return listAll[T](tx, sc, k)
	}
	var out []*T
	err := tx.List(sc.account, sc.region, k.store, func(_ string, raw []byte) error {
		if !keep(raw) {
			return nil
		}
		v := new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

// describe lists the records of kind k in scope that match q: every id of
// q.ids must exist (else k's not-found error), then filters apply, then the
// page is cut. It returns the page and the next token.
func describe[T any](tx *store.Tx, sc scope, k *kind, q query, idOf func(*T) string, tagsOf func(*T) []*ec2api.Tag, fs fields[T]) ([]*T, *string, error) {
	if len(q.ids) > 0 && q.maxResults != nil && q.idsParam != "" {
		return nil, nil, api.Errorf("InvalidParameterCombination", "The parameter %s cannot be used with the parameter maxResults", q.idsParam)
	}
	// Unknown filter names are refused even when nothing is there to filter.
	if err := checkFilterNames(q.filters, fs); err != nil {
		return nil, nil, err
	}
	var out []*T
	if len(q.ids) > 0 {
		seen := map[string]bool{}
		for _, id := range q.ids {
			if id == nil || seen[*id] {
				continue
			}
			seen[*id] = true
			v, err := load[T](tx, sc, k, *id)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, v)
		}
		sort.Slice(out, func(i, j int) bool { return idOf(out[i]) < idOf(out[j]) })
	} else if q.indexed {
		some, err := loadSome[T](tx, sc, k, q.candidates)
		if err != nil {
			return nil, nil, err
		}
		out = some
	} else {
		all, err := listMatching[T](tx, sc, k, tagPrefilter(q.filters))
		if err != nil {
			return nil, nil, err
		}
		out = all
	}
	matched := out[:0]
	for _, v := range out {
		ok, err := matchFilters(q.filters, v, tagsOf, fs)
		if err != nil {
			return nil, nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	return paginate(matched, idOf, q.maxResults, q.nextToken)
}

// checkFilterNames refuses a filter a Describe* does not know, as AWS
// does even when nothing would be listed.
func checkFilterNames[T any](filters []*ec2api.Filter, fs fields[T]) error {
	for _, f := range filters {
		if f == nil || f.Name == nil {
			return invalidParameter("The filter 'null' is invalid")
		}
		n := *f.Name
		if _, ok := fs[n]; !ok && !strings.HasPrefix(n, "tag:") && n != "tag-key" && n != "tag-value" {
			return invalidParameter("The filter '%s' is invalid", n)
		}
	}
	return nil
}

// matchFilters applies EC2 filter semantics: a record matches when every
// filter has at least one value matching (values may use * and ?).
func matchFilters[T any](filters []*ec2api.Filter, v *T, tagsOf func(*T) []*ec2api.Tag, fs fields[T]) (bool, error) {
	for _, f := range filters {
		if f == nil || f.Name == nil {
			return false, api.Errorf("InvalidParameterValue", "The filter 'null' is invalid")
		}
		name := *f.Name
		var have []string
		switch {
		case strings.HasPrefix(name, "tag:"):
			key := strings.TrimPrefix(name, "tag:")
			for _, t := range tagsOf(v) {
				if deref(t.Key) == key {
					have = append(have, deref(t.Value))
				}
			}
		case name == "tag-key":
			for _, t := range tagsOf(v) {
				have = append(have, deref(t.Key))
			}
		case name == "tag-value":
			for _, t := range tagsOf(v) {
				have = append(have, deref(t.Value))
			}
		default:
			get, ok := fs[name]
			if !ok {
				return false, api.Errorf("InvalidParameterValue", "The filter '%s' is invalid", name)
			}
			have = get(v)
		}
		if !anyMatch(f.Values, have) {
			return false, nil
		}
	}
	return true, nil
}

func anyMatch(patterns []*string, have []string) bool {
	for _, p := range patterns {
		if p == nil {
			continue
		}
		for _, h := range have {
			if globMatch(*p, h) {
				return true
			}
		}
	}
	return false
}

// globMatch matches EC2 filter wildcards: * any run, ? one character.
// path.Match has the same two; its other specials ([ and \) are escaped.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	escaped := strings.NewReplacer(`\`, `\\`, `[`, `\[`).Replace(pattern)
	// path.Match does not let * cross "/", which EC2 values (CIDRs) contain.
	ok, err := path.Match(strings.ReplaceAll(escaped, "/", "\x00"), strings.ReplaceAll(s, "/", "\x00"))
	return err == nil && ok
}

const (
	minPage = 5
	maxPage = 1000
)

// paginate cuts one page. The token is the id the next page starts at.
func paginate[T any](items []*T, idOf func(*T) string, maxResults *int64, nextToken *string) ([]*T, *string, error) {
	start := 0
	if nextToken != nil && *nextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(*nextToken)
		if err != nil {
			return nil, nil, api.Errorf("InvalidNextToken", "The token '%s' is invalid", *nextToken)
		}
		start = sort.Search(len(items), func(i int) bool { return idOf(items[i]) >= string(b) })
	}
	if maxResults == nil {
		return items[start:], nil, nil
	}
	n := int(*maxResults)
	if n < minPage || n > maxPage {
		return nil, nil, api.Errorf("InvalidParameterValue", "Value ( %d ) for parameter maxResults is invalid. Expecting a value between %d and %d.", n, minPage, maxPage)
	}
	end := start + n
	if end >= len(items) {
		return items[start:], nil, nil
	}
	tok := base64.RawURLEncoding.EncodeToString([]byte(idOf(items[end])))
	return items[start:end], &tok, nil
}

// one returns a one-value filter field.
func one(s *string) []string {
	if s == nil {
		return nil
	}
	return []string{*s}
}

func int64Field(n *int64) []string {
	if n == nil {
		return nil
	}
	return []string{strconv.FormatInt(*n, 10)}
}

func boolField(b *bool) []string {
	if b == nil {
		return nil
	}
	if *b {
		return []string{"true"}
	}
	return []string{"false"}
}
