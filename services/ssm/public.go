package ssm

import (
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/ami"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
)

// publicPrefix is where AWS publishes its public parameters; nobody may
// write under it (nor under any name beginning with "aws").
const publicPrefix = "/aws/"

// isPublic reports whether name is in the public namespace: it is read from
// the public parameters, never from the account's.
func isPublic(name string) bool { return strings.HasPrefix(name, publicPrefix) }

// publicParams returns the public parameters of a region, by name, as
// records of one version: type String, data type text (what AWS shows for
// its AMI parameters), last modified when the image was created.
func publicParams(region string) map[string]*paramRecord {
	created := map[string]time.Time{}
	for _, img := range ami.Stock(region) {
		if t, err := time.Parse("2006-01-02T15:04:05.000Z", img.Created); err == nil {
			created[img.ID] = t
		}
	}
	out := map[string]*paramRecord{}
	for name, id := range ami.Parameters(region) {
		out[name] = &paramRecord{Name: name, Versions: []paramVersion{{
			Version:  1,
			Type:     ssmapi.ParameterTypeString,
			Value:    id,
			DataType: dataTypeText,
			Tier:     ssmapi.ParameterTierStandard,
			Modified: created[id],
		}}}
	}
	return out
}

// publicParam returns the public parameter name of a region, or nil.
func publicParam(region, name string) *paramRecord {
	if !isPublic(name) {
		return nil
	}
	return publicParams(region)[name]
}

// publicUnder returns the public parameters under path (which ends with
// a slash), sorted by name: its children, or every descendant if recursive.
func publicUnder(region, path string, recursive bool) []*paramRecord {
	var out []*paramRecord
	for name, r := range publicParams(region) {
		if under(name, path, recursive) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// under reports whether name is below path (ending with "/"): a child, or
// any descendant if recursive.
func under(name, path string, recursive bool) bool {
	rest, ok := strings.CutPrefix(name, path)
	return ok && rest != "" && (recursive || !strings.Contains(rest, "/"))
}
