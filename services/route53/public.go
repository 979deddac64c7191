package route53

import (
	"strings"

	"github.com/cloudbox/cloudbox/store"
)

// PublicRecords implements acm.PublicDNS: the values of the records of
// name and type in the public hosted zones, which the simulated internet
// resolves (of any account, as the internet's resolver answers them).
// name is lower case without the trailing dot.
func (s *Service) PublicRecords(name, rtype string) []string {
	var out []string
	fqdn := strings.ToLower(strings.TrimSuffix(name, ".")) + "."
	_ = s.store.View(func(tx *store.Tx) error {
		return eachZone(tx, func(owner string, z *zoneRecord) error {
			if z.Private || (fqdn != z.Name && !strings.HasSuffix(fqdn, "."+z.Name)) {
				return nil
			}
			sets, err := loadSets(tx, owner, z.ID)
			for _, r := range sets {
				if r.Name == fqdn && r.Type == rtype {
					out = append(out, r.Values...)
				}
			}
			return err
		})
	})
	return out
}
