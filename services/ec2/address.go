package ec2

import (
	"context"
	"net/netip"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Elastic IPs. An address record is keyed by its allocation id; its public
// IP is taken from PublicRange in the global registry of public addresses.
// When associated, the address record and the interface (its Association,
// and that of the private IP it is bound to) both say so, and so does the
// instance the interface is attached to.

func (s *Service) AllocateAddress(ctx context.Context, in *ec2api.AllocateAddressRequest) (*ec2api.AllocateAddressResult, error) {
	sc := scopeOf(ctx)
	if d := deref(in.Domain); d != "" && d != "vpc" {
		return nil, invalidParameter("Value (%s) for parameter domain is invalid. EC2-Classic is retired: only vpc is supported.", d)
	}
	if p := deref(in.PublicIpv4Pool); p != "" && p != "amazon" {
		return nil, api.Errorf("InvalidPublicIpv4PoolID.NotFound", "The publicIpv4Pool ID '%s' does not exist", p)
	}
	if g := deref(in.NetworkBorderGroup); g != "" && g != sc.region {
		return nil, invalidParameter("The network border group '%s' is invalid.", g)
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return nil, api.Errorf("UnsupportedOperation", "Customer-owned IP pools are not supported by cloudbox.")
	}
	tags, err := tagsFor(in.TagSpecifications, "elastic-ip")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	a := &addressRecord{Address: ec2api.Address{
		AllocationId: str(kindAddress.newID()), Domain: str("vpc"), PublicIpv4Pool: str("amazon"),
		NetworkBorderGroup: str(sc.region), Tags: tags,
	}}
	err = s.store.Update(func(tx *store.Tx) error {
		ip := deref(in.Address)
		if ip != "" {
			// Recovering an address released earlier: it must be free.
			addr, err := netip.ParseAddr(ip)
			if err != nil || !PublicRange.Contains(addr) {
				return invalidParameter("Value (%s) for parameter address is invalid. The address is not in the amazon pool.", ip)
			}
			if held, err := tx.Get(publicIPKey(ip), new(string)); err != nil || held {
				if err == nil {
					err = invalidParameter("The address %s is not available.", ip)
				}
				return err
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		if ip != "" {
			if err := tx.Put(publicIPKey(ip), *a.AllocationId); err != nil {
				return err
			}
		} else {
			var err error
			if ip, err = allocatePublicIP(tx, *a.AllocationId); err != nil {
				return err
			}
		}
		a.PublicIp = str(ip)
		return save(tx, sc, kindAddress, *a.AllocationId, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AllocateAddressResult{
		AllocationId: a.AllocationId, PublicIp: a.PublicIp, Domain: a.Domain,
		PublicIpv4Pool: a.PublicIpv4Pool, NetworkBorderGroup: a.NetworkBorderGroup,
	}, nil
}

// findAddress loads the address a request names by allocation id or, as
// older clients do, by public IP; a public IP the account does not hold is
// an AuthFailure, as in AWS.
func findAddress(tx *store.Tx, sc scope, allocID, publicIP *string) (*addressRecord, error) {
	if deref(allocID) != "" {
		return load[addressRecord](tx, sc, kindAddress, *allocID)
	}
	if deref(publicIP) == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter AllocationId or PublicIp")
	}
	all, err := listAll[addressRecord](tx, sc, kindAddress)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		if deref(a.PublicIp) == *publicIP {
			return a, nil
		}
	}
	return nil, api.Errorf("AuthFailure", "The address '%s' does not belong to you.", *publicIP)
}

func (s *Service) ReleaseAddress(ctx context.Context, in *ec2api.ReleaseAddressRequest) (*ec2api.ReleaseAddressOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		a, err := findAddress(tx, sc, in.AllocationId, in.PublicIp)
		if err != nil {
			return err
		}
		if g := deref(in.NetworkBorderGroup); g != "" && g != deref(a.NetworkBorderGroup) {
			return invalidParameter("The network border group '%s' is invalid.", g)
		}
		if a.AssociationId != nil {
			return api.Errorf("InvalidIPAddress.InUse", "The address with allocation id [%s] is in use.", *a.AllocationId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		if err := releasePublicIP(tx, *a.PublicIp); err != nil {
			return err
		}
		return remove(tx, sc, kindAddress, *a.AllocationId)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReleaseAddressOutput{}, nil
}

// vpcHasInternetGateway reports whether an internet gateway is attached to
// the VPC: without one, AWS refuses a public address in it.
func vpcHasInternetGateway(tx *store.Tx, sc scope, vpcID string) (bool, error) {
	igws, err := listAll[internetGatewayRecord](tx, sc, kindIGW)
	if err != nil {
		return false, err
	}
	for _, g := range igws {
		for _, at := range g.Attachments {
			if deref(at.VpcId) == vpcID && deref(at.State) != "detaching" && deref(at.State) != "detached" {
				return true, nil
			}
		}
	}
	return false, nil
}

func (s *Service) AssociateAddress(ctx context.Context, in *ec2api.AssociateAddressRequest) (*ec2api.AssociateAddressResult, error) {
	sc := scopeOf(ctx)
	if deref(in.InstanceId) == "" && deref(in.NetworkInterfaceId) == "" {
		return nil, api.Errorf("MissingParameter", "Either an instance ID or a network interface ID must be specified")
	}
	if deref(in.InstanceId) != "" && deref(in.NetworkInterfaceId) != "" {
		return nil, api.Errorf("InvalidParameterCombination", "You may specify an instance ID or a network interface ID, but not both")
	}
	var assocID string
	err := s.store.Update(func(tx *store.Tx) error {
		a, err := findAddress(tx, sc, in.AllocationId, in.PublicIp)
		if err != nil {
			return err
		}
		eniID := deref(in.NetworkInterfaceId)
		if id := deref(in.InstanceId); id != "" {
			inst, err := loadInstance(tx, sc, id, s.now())
			if err != nil {
				return err
			}
			if st := instanceStateName(inst); st != "running" && st != "stopped" && st != "pending" {
				return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", id)
			}
			attached, err := enisByInstance(tx, sc)
			if err != nil {
				return err
			}
			for _, o := range attached[id] {
				if attachIndex(o) == 0 {
					eniID = *o.NetworkInterfaceId
				}
			}
			if eniID == "" {
				return invalidParameter("The instance '%s' has no primary network interface.", id)
			}
		}
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, eniID)
		if err != nil {
			return err
		}
		if e.RequesterManaged != nil && *e.RequesterManaged {
			return api.Errorf("OperationNotPermitted", "The network interface '%s' is managed by AWS and cannot take an Elastic IP address.", eniID)
		}
		ip := deref(in.PrivateIpAddress)
		if ip == "" {
			ip = deref(e.PrivateIpAddress)
		}
		if privateIPIndex(e, ip) < 0 {
			return invalidParameter("The private IP address %s is not assigned to the network interface %s.", ip, eniID)
		}
		ok, err := vpcHasInternetGateway(tx, sc, deref(e.VpcId))
		if err != nil {
			return err
		}
		if !ok {
			return api.Errorf("Gateway.NotAttached", "Network %s is not attached to any internet gateway", deref(e.VpcId))
		}
		if a.AssociationId != nil {
			if deref(a.NetworkInterfaceId) == eniID && deref(a.PrivateIpAddress) == ip {
				assocID = *a.AssociationId
				return dryRun(in.DryRun)
			}
			if in.AllowReassociation == nil || !*in.AllowReassociation {
				return api.Errorf("Resource.AlreadyAssociated", "resource %s is already associated with associate-id %s", *a.AllocationId, *a.AssociationId)
			}
			if by, err := onManagedENI(tx, sc, a); err != nil || by != "" {
				if err == nil {
					err = managedAddressError(a, by)
				}
				return err
			}
			if err := disassociateAddress(tx, sc, a); err != nil {
				return err
			}
			// The address may have been on e: read e as it now is.
			if e, err = load[networkInterfaceRecord](tx, sc, kindENI, eniID); err != nil {
				return err
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		assocID, err = associateAddress(tx, sc, a, e, ip)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.AssociateAddressResult{AssociationId: str(assocID)}, nil
}

// associateAddress binds address a to private IP ip of interface e and
// saves both, and the instance e is attached to. A public IP already on
// that private IP gives way: an auto-assigned one is released, another
// Elastic IP is disassociated (and stays allocated).
func associateAddress(tx *store.Tx, sc scope, a *addressRecord, e *networkInterfaceRecord, ip string) (string, error) {
	i := privateIPIndex(e, ip)
	if cur := e.PrivateIpAddresses[i].Association; cur != nil {
		if cur.AllocationId == nil {
			if err := releasePublicIP(tx, deref(cur.PublicIp)); err != nil {
				return "", err
			}
		} else if err := unlinkAddress(tx, sc, *cur.AllocationId); err != nil {
			return "", err
		}
	}
	v, err := load[vpcRecord](tx, sc, kindVPC, deref(e.VpcId))
	if err != nil {
		return "", err
	}
	as := &ec2api.NetworkInterfaceAssociation{
		AllocationId: a.AllocationId, AssociationId: str(newAssocID("eipassoc")),
		IpOwnerId: str(sc.account), PublicIp: a.PublicIp,
	}
	if v.EnableDNSHostnames {
		as.PublicDnsName = str(publicDNSName(sc.region, *a.PublicIp))
	}
	setENIAssociation(e, i, as)
	a.AssociationId, a.NetworkInterfaceId, a.NetworkInterfaceOwnerId = as.AssociationId, e.NetworkInterfaceId, e.OwnerId
	a.PrivateIpAddress, a.InstanceId = str(ip), attachedInstance(e)
	if err := save(tx, sc, kindAddress, *a.AllocationId, a); err != nil {
		return "", err
	}
	if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
		return "", err
	}
	return *as.AssociationId, syncInstance(tx, sc, attachedInstance(e))
}

// setENIAssociation sets (or, with nil, clears) the public address of the
// i-th private IP of e; the primary one is also e's own Association.
func setENIAssociation(e *networkInterfaceRecord, i int, as *ec2api.NetworkInterfaceAssociation) {
	p := e.PrivateIpAddresses[i]
	p.Association = as
	if p.Primary != nil && *p.Primary {
		e.Association = as
	}
}

// disassociateAddress unbinds address a from its interface, saving the
// address, the interface and the instance it is attached to.
func disassociateAddress(tx *store.Tx, sc scope, a *addressRecord) error {
	if a.AssociationId == nil {
		return nil
	}
	e, ok, err := store.Get[networkInterfaceRecord](tx, sc.key(kindENI, deref(a.NetworkInterfaceId)))
	if err != nil {
		return err
	}
	if ok {
		for i, p := range e.PrivateIpAddresses {
			if p.Association != nil && deref(p.Association.AllocationId) == *a.AllocationId {
				setENIAssociation(e, i, nil)
			}
		}
		if err := restoreAutoPublicIP(tx, sc, e); err != nil {
			return err
		}
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
		if err := syncInstance(tx, sc, attachedInstance(e)); err != nil {
			return err
		}
	}
	clearAssociation(a)
	return save(tx, sc, kindAddress, *a.AllocationId, a)
}

// restoreAutoPublicIP gives a running instance its auto-assigned kind of
// public IP back when the Elastic IP on its primary interface leaves, as
// AWS does for an instance launched with one whose only interface that is.
func restoreAutoPublicIP(tx *store.Tx, sc scope, e *networkInterfaceRecord) error {
	id := attachedInstance(e)
	if id == nil || attachIndex(e) != 0 || e.Association != nil {
		return nil
	}
	inst, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, *id))
	if err != nil || !ok {
		return err
	}
	if st := instanceStateName(inst); st != "running" && st != "pending" {
		return nil
	}
	attrs, err := loadInstanceAttrs(tx, sc, *id)
	if err != nil || !attrs.AutoPublicIP {
		return err
	}
	enis, err := enisByInstance(tx, sc)
	if err != nil || len(enis[*id]) != 1 {
		return err
	}
	v, err := load[vpcRecord](tx, sc, kindVPC, deref(e.VpcId))
	if err != nil {
		return err
	}
	return assignPublicIP(tx, e, sc.region, v.EnableDNSHostnames)
}

// onManagedENI returns the description of the AWS-managed interface (a
// NAT gateway's) address a is bound to, "" if none: such an address stays
// until its service lets it go.
func onManagedENI(tx *store.Tx, sc scope, a *addressRecord) (string, error) {
	if a.NetworkInterfaceId == nil {
		return "", nil
	}
	e, ok, err := store.Get[networkInterfaceRecord](tx, sc.key(kindENI, *a.NetworkInterfaceId))
	if err != nil || !ok || e.RequesterManaged == nil || !*e.RequesterManaged {
		return "", err
	}
	return deref(e.Description), nil
}

func managedAddressError(a *addressRecord, by string) error {
	return api.Errorf("OperationNotPermitted", "The Elastic IP address %s is in use by %s and cannot be disassociated.", deref(a.PublicIp), by)
}

func clearAssociation(a *addressRecord) {
	a.AssociationId, a.NetworkInterfaceId, a.NetworkInterfaceOwnerId, a.PrivateIpAddress, a.InstanceId = nil, nil, nil, nil, nil
}

// unlinkAddress clears the association of an address whose interface side
// the caller changes itself.
func unlinkAddress(tx *store.Tx, sc scope, allocID string) error {
	a, ok, err := store.Get[addressRecord](tx, sc.key(kindAddress, allocID))
	if err != nil || !ok {
		return err
	}
	clearAssociation(a)
	return save(tx, sc, kindAddress, allocID, a)
}

// unlinkAddressesOf clears the association of every address bound to an
// interface that is going away; the addresses stay allocated.
func unlinkAddressesOf(tx *store.Tx, sc scope, eniID string) error {
	all, err := listAll[addressRecord](tx, sc, kindAddress)
	if err != nil {
		return err
	}
	for _, a := range all {
		if deref(a.NetworkInterfaceId) == eniID {
			clearAssociation(a)
			if err := save(tx, sc, kindAddress, *a.AllocationId, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// setAddressesInstance records, on the addresses bound to an interface,
// the instance it is now attached to (nil once detached).
func setAddressesInstance(tx *store.Tx, sc scope, eniID string, instanceID *string) error {
	all, err := listAll[addressRecord](tx, sc, kindAddress)
	if err != nil {
		return err
	}
	for _, a := range all {
		if deref(a.NetworkInterfaceId) == eniID {
			a.InstanceId = instanceID
			if err := save(tx, sc, kindAddress, *a.AllocationId, a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) DisassociateAddress(ctx context.Context, in *ec2api.DisassociateAddressRequest) (*ec2api.DisassociateAddressOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		var a *addressRecord
		if id := deref(in.AssociationId); id != "" {
			all, err := listAll[addressRecord](tx, sc, kindAddress)
			if err != nil {
				return err
			}
			for _, o := range all {
				if deref(o.AssociationId) == id {
					a = o
				}
			}
			if a == nil {
				return api.Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
			}
		} else {
			if deref(in.PublicIp) == "" {
				return api.Errorf("MissingParameter", "The request must contain the parameter AssociationId or PublicIp")
			}
			var err error
			if a, err = findAddress(tx, sc, nil, in.PublicIp); err != nil {
				return err
			}
		}
		if by, err := onManagedENI(tx, sc, a); err != nil || by != "" {
			if err == nil {
				err = managedAddressError(a, by)
			}
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return disassociateAddress(tx, sc, a)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DisassociateAddressOutput{}, nil
}

func (s *Service) DescribeAddresses(ctx context.Context, in *ec2api.DescribeAddressesRequest) (*ec2api.DescribeAddressesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	type rec = addressRecord
	fs := fields[rec]{
		"allocation-id":              func(a *rec) []string { return one(a.AllocationId) },
		"association-id":             func(a *rec) []string { return one(a.AssociationId) },
		"domain":                     func(a *rec) []string { return one(a.Domain) },
		"instance-id":                func(a *rec) []string { return one(a.InstanceId) },
		"network-border-group":       func(a *rec) []string { return one(a.NetworkBorderGroup) },
		"network-interface-id":       func(a *rec) []string { return one(a.NetworkInterfaceId) },
		"network-interface-owner-id": func(a *rec) []string { return one(a.NetworkInterfaceOwnerId) },
		"private-ip-address":         func(a *rec) []string { return one(a.PrivateIpAddress) },
		"public-ip":                  func(a *rec) []string { return one(a.PublicIp) },
	}
	if err := checkFilterNames(in.Filters, fs); err != nil {
		return nil, err
	}
	var page []*rec
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		page, _, err = describe(tx, sc, kindAddress, query{ids: in.AllocationIds, filters: in.Filters},
			func(a *rec) string { return *a.AllocationId },
			func(a *rec) []*ec2api.Tag { return a.Tags }, fs)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.PublicIps) > 0 {
		byIP := map[string]*rec{}
		for _, a := range page {
			byIP[*a.PublicIp] = a
		}
		page = nil
		for _, ip := range derefAll(in.PublicIps) {
			a, ok := byIP[ip]
			if !ok {
				return nil, api.Errorf("InvalidAddress.NotFound", "Address '%s' not found.", ip)
			}
			page = append(page, a)
		}
	}
	out := &ec2api.DescribeAddressesResult{Addresses: []*ec2api.Address{}}
	for _, a := range page {
		out.Addresses = append(out.Addresses, &a.Address)
	}
	return out, nil
}
