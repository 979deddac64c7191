package ec2

import (
	"context"
	"net/netip"
	"strconv"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// dhcpKeys are the options a DHCP options set may hold, with the number of
// values each takes at most.
var dhcpKeys = map[string]int{
	"domain-name":                       1,
	"domain-name-servers":               4,
	"ntp-servers":                       4,
	"netbios-name-servers":              4,
	"netbios-node-type":                 1,
	"ipv6-address-preferred-lease-time": 1,
}

func checkDHCPValue(key, v string) error {
	bad := invalidParameter("Value (%s) for parameter %s is invalid.", v, key)
	switch key {
	case "domain-name-servers":
		if v == "AmazonProvidedDNS" {
			return nil
		}
		fallthrough
	case "ntp-servers", "netbios-name-servers":
		if _, err := netip.ParseAddr(v); err != nil {
			return bad
		}
	case "netbios-node-type":
		if v != "1" && v != "2" && v != "4" && v != "8" {
			return bad
		}
	case "ipv6-address-preferred-lease-time":
		if n, err := strconv.Atoi(v); err != nil || n < 140 || n > 2147483647 {
			return bad
		}
	case "domain-name":
		if v == "" || len(v) > 255 {
			return bad
		}
	}
	return nil
}

func (s *Service) CreateDhcpOptions(ctx context.Context, in *ec2api.CreateDhcpOptionsRequest) (*ec2api.CreateDhcpOptionsResult, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, kindDHCP.resourceType)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var confs []*ec2api.DhcpConfiguration
	for _, c := range in.DhcpConfigurations {
		key := deref(c.Key)
		limit, ok := dhcpKeys[key]
		if !ok {
			return nil, invalidParameter("Value (%s) for parameter name is invalid. Unrecognized DHCP option name", key)
		}
		if seen[key] {
			return nil, invalidParameter("DHCP option %s is specified more than once.", key)
		}
		seen[key] = true
		if len(c.Values) == 0 {
			return nil, api.Errorf("MissingParameter", "The request must contain the parameter value for DHCP option %s", key)
		}
		if len(c.Values) > limit {
			return nil, invalidParameter("DHCP option %s takes at most %d values.", key, limit)
		}
		conf := &ec2api.DhcpConfiguration{Key: str(key)}
		for _, v := range c.Values {
			if err := checkDHCPValue(key, deref(v)); err != nil {
				return nil, err
			}
			conf.Values = append(conf.Values, &ec2api.AttributeValue{Value: str(deref(v))})
		}
		confs = append(confs, conf)
	}
	if len(confs) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter dhcpConfiguration")
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	d := &dhcpOptionsRecord{DhcpOptions: ec2api.DhcpOptions{
		DhcpOptionsId:      str(kindDHCP.newID()),
		OwnerId:            str(sc.account),
		DhcpConfigurations: confs,
		Tags:               nonNilTags(tags),
	}}
	err = s.store.Update(func(tx *store.Tx) error {
		return save(tx, sc, kindDHCP, *d.DhcpOptionsId, d)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateDhcpOptionsResult{DhcpOptions: &d.DhcpOptions}, nil
}

func (s *Service) DeleteDhcpOptions(ctx context.Context, in *ec2api.DeleteDhcpOptionsRequest) (*ec2api.DeleteDhcpOptionsOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.DhcpOptionsId)
	err := s.store.Update(func(tx *store.Tx) error {
		if _, err := load[dhcpOptionsRecord](tx, sc, kindDHCP, id); err != nil {
			return err
		}
		vpcs, err := listAll[vpcRecord](tx, sc, kindVPC)
		if err != nil {
			return err
		}
		for _, v := range vpcs {
			if deref(v.DhcpOptionsId) == id {
				return dependencyViolation("The dhcpOptions '%s' has dependencies and cannot be deleted.", id)
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindDHCP, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteDhcpOptionsOutput{}, nil
}

var dhcpFilters = fields[dhcpOptionsRecord]{
	"dhcp-options-id": func(d *dhcpOptionsRecord) []string { return one(d.DhcpOptionsId) },
	"owner-id":        func(d *dhcpOptionsRecord) []string { return one(d.OwnerId) },
	"key": func(d *dhcpOptionsRecord) []string {
		var out []string
		for _, c := range d.DhcpConfigurations {
			out = append(out, deref(c.Key))
		}
		return out
	},
	"value": func(d *dhcpOptionsRecord) []string {
		var out []string
		for _, c := range d.DhcpConfigurations {
			for _, v := range c.Values {
				out = append(out, deref(v.Value))
			}
		}
		return out
	},
}

func (s *Service) DescribeDhcpOptions(ctx context.Context, in *ec2api.DescribeDhcpOptionsRequest) (*ec2api.DescribeDhcpOptionsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &ec2api.DescribeDhcpOptionsResult{DhcpOptions: []*ec2api.DhcpOptions{}}
	err := s.store.View(func(tx *store.Tx) error {
		page, next, err := describe(tx, sc, kindDHCP, query{ids: in.DhcpOptionsIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(d *dhcpOptionsRecord) string { return *d.DhcpOptionsId }, func(d *dhcpOptionsRecord) []*ec2api.Tag { return d.Tags }, dhcpFilters)
		for _, d := range page {
			out.DhcpOptions = append(out.DhcpOptions, &d.DhcpOptions)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) AssociateDhcpOptions(ctx context.Context, in *ec2api.AssociateDhcpOptionsRequest) (*ec2api.AssociateDhcpOptionsOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		var d *dhcpOptionsRecord
		// "default" stands for the region's default options set.
		if id := deref(in.DhcpOptionsId); id == "default" {
			d, err = s.defaultDHCPOptions(tx, sc)
		} else {
			d, err = load[dhcpOptionsRecord](tx, sc, kindDHCP, id)
		}
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		v.DhcpOptionsId = d.DhcpOptionsId
		return save(tx, sc, kindVPC, *v.VpcId, v)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateDhcpOptionsOutput{}, nil
}
