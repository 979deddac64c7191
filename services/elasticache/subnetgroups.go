package elasticache

import (
	"context"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// subnetGroup is a cache subnet group: subnets of one VPC the nodes are
// placed in.
type subnetGroup struct {
	Name, Description, VPC string
	Subnets                []groupSubnet
}

type groupSubnet struct{ ID, AZ string }

func (s *Service) registerSubnetGroups(h *ecapi.Handlers) {
	h.CreateCacheSubnetGroup = s.createSubnetGroup
	h.DescribeCacheSubnetGroups = s.describeSubnetGroups
	h.ModifyCacheSubnetGroup = s.modifySubnetGroup
	h.DeleteCacheSubnetGroup = s.deleteSubnetGroup
}

func subnetGroupNotFound(name string) error {
	return api.Errorf("CacheSubnetGroupNotFoundFault", "Cache subnet group %s does not exist.", name)
}

// loadSubnetGroup reads a group; names are kept in lower case, as AWS
// keeps them.
func loadSubnetGroup(tx *store.Tx, sc scope, name string) (*subnetGroup, error) {
	g, ok, err := store.Get[subnetGroup](tx, sc.key(kindSubnetGroup, strings.ToLower(name)))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, subnetGroupNotFound(name)
	}
	return g, nil
}

// resolveSubnets checks subnet ids as AWS does: each must exist, all in
// one VPC.
func resolveSubnets(tx *store.Tx, sc scope, ids []*string) (string, []groupSubnet, error) {
	if len(ids) == 0 {
		return "", nil, invalidValue("The parameter SubnetIds must be provided.")
	}
	var out []groupSubnet
	var vpc, first string
	for _, p := range ids {
		id := deref(p)
		sn, ok, err := ec2.LookupSubnet(tx, sc.account, sc.region, id)
		if err != nil {
			return "", nil, err
		}
		if !ok {
			names := make([]string, len(ids))
			for i, p := range ids {
				names[i] = deref(p)
			}
			return "", nil, invalidValue("Some input subnets in :[%s] are invalid.", strings.Join(names, ", "))
		}
		if vpc == "" {
			vpc, first = sn.VPC, id
		} else if sn.VPC != vpc {
			return "", nil, api.Errorf("InvalidSubnet", "Subnets %s and %s are not in the same VPC.", first, id)
		}
		if !slices.ContainsFunc(out, func(g groupSubnet) bool { return g.ID == id }) {
			out = append(out, groupSubnet{ID: id, AZ: sn.AZ})
		}
	}
	return vpc, out, nil
}

func (s *Service) createSubnetGroup(ctx context.Context, in *ecapi.CreateCacheSubnetGroupMessage) (*ecapi.CreateCacheSubnetGroupResult, error) {
	sc := scopeOf(ctx)
	name := strings.ToLower(deref(in.CacheSubnetGroupName))
	if err := checkName("CacheSubnetGroupName", name, 255); err != nil {
		return nil, err
	}
	var g *subnetGroup
	err := s.store.Update(func(tx *store.Tx) error {
		if ok, err := tx.Get(sc.key(kindSubnetGroup, name), &subnetGroup{}); err != nil || ok {
			if ok {
				return api.Errorf("CacheSubnetGroupAlreadyExists", "Cache subnet group %s already exists.", name)
			}
			return err
		}
		vpc, subnets, err := resolveSubnets(tx, sc, in.SubnetIds)
		if err != nil {
			return err
		}
		g = &subnetGroup{Name: name, Description: deref(in.CacheSubnetGroupDescription), VPC: vpc, Subnets: subnets}
		if err := setTags(tx, sc, "subnetgroup:"+name, in.Tags); err != nil {
			return err
		}
		return tx.Put(sc.key(kindSubnetGroup, name), g)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.CreateCacheSubnetGroupResult{CacheSubnetGroup: sc.subnetGroupOut(g)}, nil
}

func (sc scope) subnetGroupOut(g *subnetGroup) *ecapi.CacheSubnetGroup {
	out := &ecapi.CacheSubnetGroup{ARN: str(sc.arn("subnetgroup", g.Name)), CacheSubnetGroupName: str(g.Name),
		CacheSubnetGroupDescription: str(g.Description), VpcId: str(g.VPC), SupportedNetworkTypes: []*string{str("ipv4")}}
	for _, sn := range g.Subnets {
		out.Subnets = append(out.Subnets, &ecapi.Subnet{SubnetIdentifier: str(sn.ID),
			SubnetAvailabilityZone: &ecapi.AvailabilityZone{Name: str(sn.AZ)}, SupportedNetworkTypes: []*string{str("ipv4")}})
	}
	return out
}

func (s *Service) describeSubnetGroups(ctx context.Context, in *ecapi.DescribeCacheSubnetGroupsMessage) (*ecapi.CacheSubnetGroupMessage, error) {
	sc := scopeOf(ctx)
	var all []*ecapi.CacheSubnetGroup
	err := s.store.View(func(tx *store.Tx) error {
		if name := deref(in.CacheSubnetGroupName); name != "" {
			g, err := loadSubnetGroup(tx, sc, name)
			if err == nil {
				all = append(all, sc.subnetGroupOut(g))
			}
			return err
		}
		gs, err := store.ListAll[subnetGroup](tx, sc.account, sc.region, kindSubnetGroup)
		for _, g := range gs {
			all = append(all, sc.subnetGroupOut(g))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.CacheSubnetGroupMessage{CacheSubnetGroups: out, Marker: next}, err
}

func (s *Service) modifySubnetGroup(ctx context.Context, in *ecapi.ModifyCacheSubnetGroupMessage) (*ecapi.ModifyCacheSubnetGroupResult, error) {
	sc := scopeOf(ctx)
	var g *subnetGroup
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if g, err = loadSubnetGroup(tx, sc, deref(in.CacheSubnetGroupName)); err != nil {
			return err
		}
		if in.CacheSubnetGroupDescription != nil {
			g.Description = *in.CacheSubnetGroupDescription
		}
		if len(in.SubnetIds) > 0 {
			vpc, subnets, err := resolveSubnets(tx, sc, in.SubnetIds)
			if err != nil {
				return err
			}
			if vpc != g.VPC {
				return api.Errorf("InvalidSubnet", "Subnets %s and %s are not in the same VPC.", g.Subnets[0].ID, subnets[0].ID)
			}
			// A subnet a node lives in stays in the group.
			rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
			if err != nil {
				return err
			}
			for _, rg := range rgs {
				for _, n := range rg.Nodes {
					if rg.SubnetGroup == g.Name && !slices.ContainsFunc(subnets, func(s groupSubnet) bool { return s.ID == n.Subnet }) {
						return api.Errorf("SubnetInUse", "The subnet ID %s is in use.", n.Subnet)
					}
				}
			}
			g.Subnets = subnets
		}
		return tx.Put(sc.key(kindSubnetGroup, g.Name), g)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.ModifyCacheSubnetGroupResult{CacheSubnetGroup: sc.subnetGroupOut(g)}, nil
}

func (s *Service) deleteSubnetGroup(ctx context.Context, in *ecapi.DeleteCacheSubnetGroupMessage) (*ecapi.DeleteCacheSubnetGroupOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadSubnetGroup(tx, sc, deref(in.CacheSubnetGroupName))
		if err != nil {
			return err
		}
		used, err := groupInUse(tx, sc, func(_, subnet string) bool { return subnet == g.Name })
		if err != nil {
			return err
		}
		if used {
			return api.Errorf("CacheSubnetGroupInUse", "Cache subnet group %s is currently in use by a cache cluster.", g.Name)
		}
		if err := dropTags(tx, sc, "subnetgroup:"+g.Name); err != nil {
			return err
		}
		_, err = tx.Delete(sc.key(kindSubnetGroup, g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.DeleteCacheSubnetGroupOutput{}, nil
}

// checkName applies AWS's identifier rules: a letter first, then
// letters, digits and single hyphens, no hyphen at the end.
func checkName(field, name string, maxLen int) error {
	bad := name == "" || len(name) > maxLen || !isLetter(name[0]) || strings.HasSuffix(name, "-") || strings.Contains(name, "--")
	for i := 0; i < len(name) && !bad; i++ {
		c := name[i]
		bad = !isLetter(c) && !(c >= '0' && c <= '9') && c != '-'
	}
	if bad {
		return invalidValue("The parameter %s is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.", field)
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
