package iam

import (
	"bytes"
	"context"
	"encoding/csv"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

const (
	// kindCredReport is the account's latest credential report
	// (credReport, under accountID).
	kindCredReport = "iam:credreport"
	// kindAccessJob is a service last accessed job (accessJob), by id.
	kindAccessJob = "iam:accessjob"
	// kindSTSPrefs is the account's STS preferences (stsPrefs, under
	// accountID).
	kindSTSPrefs = "iam:stsprefs"
	accountID    = "account"
)

// reportLife is how long a credential report is served before IAM calls
// it expired (and GenerateCredentialReport makes a new one).
const reportLife = 4 * time.Hour

type credReport struct {
	Generated time.Time
	Content   []byte
}

// reportColumns are the credential report's columns, in AWS's order.
var reportColumns = []string{
	"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active",
	"access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date", "access_key_1_last_used_region", "access_key_1_last_used_service",
	"access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service",
	"cert_1_active", "cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated",
}

// isoTime is the report's time format (ISO 8601 with the offset).
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05-07:00") }

// credentialReport builds the report's CSV from IAM's records. Use of
// passwords and keys is not recorded here: last used is "no_information"
// for a password and "N/A" for a key, as AWS shows what was never used.
func credentialReport(tx *store.Tx, acct string) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(reportColumns)
	w.Write([]string{
		"<root_account>", "arn:aws:iam::" + acct + ":root", isoTime(rootCreated), "not_supported", "no_information", "not_supported",
		"not_supported", "false", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A",
	})
	pp, err := loadPasswordPolicy(tx, acct)
	if err != nil {
		return nil, err
	}
	all, err := store.ListAll[userRecord](tx, acct, "", kindUser)
	if err != nil {
		return nil, err
	}
	for _, u := range all {
		row := []string{u.Name, users.arn(acct, u.Path, u.Name), isoTime(u.Created)}
		if u.Login == nil {
			row = append(row, "false", "N/A", "N/A", "N/A")
		} else {
			changed, next := "N/A", "N/A"
			pw, _, err := store.Get[passwordRecord](tx, key(acct, kindPassword, u.ID))
			if err != nil {
				return nil, err
			}
			if pw != nil {
				changed = isoTime(pw.Changed)
				if pp != nil && pp.MaxAge > 0 {
					next = isoTime(pw.Changed.AddDate(0, 0, int(pp.MaxAge)))
				}
			}
			row = append(row, "true", "no_information", changed, next)
		}
		n, err := countMFA(tx, acct, u.ID)
		if err != nil {
			return nil, err
		}
		row = append(row, strconv.FormatBool(n > 0))
		for i := range 2 {
			if i < len(u.Keys) {
				k := u.Keys[i]
				row = append(row, strconv.FormatBool(k.Active), isoTime(k.Created), "N/A", "N/A", "N/A")
			} else {
				row = append(row, "false", "N/A", "N/A", "N/A", "N/A")
			}
		}
		certs, err := userCreds[signingCertRecord](tx, acct, kindSigningCert, u.ID)
		if err != nil {
			return nil, err
		}
		for i := range 2 {
			if i < len(certs) {
				row = append(row, strconv.FormatBool(certs[i].Active), isoTime(certs[i].Created))
			} else {
				row = append(row, "false", "N/A")
			}
		}
		w.Write(row)
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

func (s *Service) generateCredentialReport(ctx context.Context, _ *iamapi.GenerateCredentialReportInput) (*iamapi.GenerateCredentialReportResponse, error) {
	acct, now := account(ctx), s.nowUTC()
	out := &iamapi.GenerateCredentialReportResponse{State: str("COMPLETE")}
	err := s.store.Update(func(tx *store.Tx) error {
		k := store.Key{Account: acct, Kind: kindCredReport, ID: accountID}
		r, ok, err := store.Get[credReport](tx, k)
		if err != nil || ok && now.Sub(r.Generated) < reportLife {
			return err
		}
		// The report is made at once: the next call finds it COMPLETE.
		content, err := credentialReport(tx, acct)
		if err != nil {
			return err
		}
		out.State, out.Description = str("STARTED"), str("No report exists. Starting a new report generation task")
		return tx.Put(k, credReport{Generated: now, Content: content})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) getCredentialReport(ctx context.Context, _ *iamapi.GetCredentialReportInput) (*iamapi.GetCredentialReportResponse, error) {
	acct := account(ctx)
	var r *credReport
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		r, _, err = store.Get[credReport](tx, store.Key{Account: acct, Kind: kindCredReport, ID: accountID})
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case r == nil:
		return nil, errorf("ReportNotPresent", "Credential report not present. Call GenerateCredentialReport to generate it.")
	case s.nowUTC().Sub(r.Generated) >= reportLife:
		return nil, errorf("ReportExpired", "Credential report has expired. Call GenerateCredentialReport to generate a new one.")
	}
	return &iamapi.GetCredentialReportResponse{Content: r.Content, GeneratedTime: timePtr(r.Generated), ReportFormat: str("text/csv")}, nil
}

// granting is a policy that applies to a user, group or role, with its
// document.
type granting struct {
	name, arn  string // arn is "" for an inline policy
	entityType string // the holder of an inline policy: USER, GROUP or ROLE
	entityName string
	doc        string
}

func (g granting) api() *iamapi.PolicyGrantingServiceAccess {
	out := &iamapi.PolicyGrantingServiceAccess{PolicyName: str(g.name)}
	if g.arn != "" {
		out.PolicyArn, out.PolicyType = str(g.arn), str("MANAGED")
		return out
	}
	out.PolicyType, out.EntityType, out.EntityName = str("INLINE"), str(g.entityType), str(g.entityName)
	return out
}

// policiesOf returns the policies of the holder e (of type USER, GROUP or
// ROLE): its managed policies' default versions and its inline policies.
func policiesOf(tx *store.Tx, acct, entityType string, e *entity) ([]granting, error) {
	var out []granting
	for _, a := range e.Attached {
		p, ok, err := findPolicy(tx, acct, a)
		if err != nil {
			return nil, err
		}
		if ok {
			if v := p.version(p.Default); v != nil {
				out = append(out, granting{name: p.Name, arn: a, doc: v.Document})
			}
		}
	}
	for _, in := range e.Inline {
		out = append(out, granting{name: in.Name, entityType: entityType, entityName: e.Name, doc: in.Document})
	}
	return out, nil
}

// accessTarget is what a last-accessed report or a grant listing is about:
// a user (with their groups' policies), a group, a role or a managed
// policy, named by ARN.
type accessTarget struct {
	policies []granting
	// entities are those whose access the report counts: the user or role
	// itself, a group's members, a policy's users, groups and roles.
	entities []*iamapi.EntityInfo
}

func entityInfo(acct, typ string, c class, e *entity) *iamapi.EntityInfo {
	return &iamapi.EntityInfo{Arn: str(c.arn(acct, e.Path, e.Name)), Id: str(e.ID), Name: str(e.Name), Path: str(e.Path), Type: str(typ)}
}

func loadTarget(tx *store.Tx, acct, target string, policies bool) (*accessTarget, error) {
	a, err := arn.Parse(target)
	typ, rest, _ := strings.Cut(a.Resource, "/")
	if err != nil || a.Service != "iam" || rest == "" {
		return nil, errorf("InvalidInput", "ARN %s is not valid.", target)
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	t := &accessTarget{}
	switch typ {
	case "user":
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return nil, err
		}
		t.entities = []*iamapi.EntityInfo{entityInfo(acct, "USER", users, &u.entity)}
		if t.policies, err = policiesOf(tx, acct, "USER", &u.entity); err != nil {
			return nil, err
		}
		for _, gk := range u.Groups {
			g, err := loadGroup(tx, acct, gk)
			if err != nil {
				return nil, err
			}
			ps, err := policiesOf(tx, acct, "GROUP", &g.entity)
			if err != nil {
				return nil, err
			}
			t.policies = append(t.policies, ps...)
		}
	case "group":
		g, err := loadGroup(tx, acct, name)
		if err != nil {
			return nil, err
		}
		if t.policies, err = policiesOf(tx, acct, "GROUP", &g.entity); err != nil {
			return nil, err
		}
		ms, err := members(tx, acct, strings.ToLower(g.Name))
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			t.entities = append(t.entities, entityInfo(acct, "USER", users, &m.entity))
		}
	case "role":
		r, err := loadRole(tx, acct, name)
		if err != nil {
			return nil, err
		}
		t.entities = []*iamapi.EntityInfo{entityInfo(acct, "ROLE", roles, &r.entity)}
		if t.policies, err = policiesOf(tx, acct, "ROLE", &r.entity); err != nil {
			return nil, err
		}
	case "policy":
		if !policies {
			return nil, errorf("InvalidInput", "ARN %s is not valid.", target)
		}
		p, err := loadPolicy(tx, acct, target)
		if err != nil {
			return nil, err
		}
		if v := p.version(p.Default); v != nil {
			t.policies = []granting{{name: p.Name, arn: target, doc: v.Document}}
		}
		for _, c := range []struct {
			class
			typ string
		}{{users, "USER"}, {groups, "GROUP"}, {roles, "ROLE"}} {
			err := tx.List(acct, "", c.kind, func(id string, _ []byte) error {
				h, err := c.load(tx, acct, id)
				if err != nil {
					return err
				}
				if e := h.common(); slices.Contains(e.Attached, target) {
					t.entities = append(t.entities, entityInfo(acct, c.typ, c.class, e))
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	default:
		return nil, errorf("InvalidInput", "ARN %s is not valid.", target)
	}
	return t, nil
}

// knownServices are the namespaces cloudbox serves, with the names IAM's
// reports give them: what a policy allowing every action ("*", or a
// NotAction) is counted as granting.
var knownServices = map[string]string{
	"acm": "AWS Certificate Manager", "autoscaling": "Amazon EC2 Auto Scaling", "cloudwatch": "Amazon CloudWatch",
	"ec2": "Amazon EC2", "elasticloadbalancing": "Elastic Load Balancing", "iam": "AWS Identity and Access Management",
	"route53": "Amazon Route 53", "s3": "Amazon S3", "ssm": "AWS Systems Manager", "sts": "AWS Security Token Service",
}

// serviceName is a namespace's name in IAM's reports, the namespace itself
// for those cloudbox does not know.
func serviceName(ns string) string {
	if n, ok := knownServices[ns]; ok {
		return n
	}
	return ns
}

// grants reports whether the document allows some action of namespace ns.
func grants(doc, ns string) bool {
	p, err := policy.ParseAWSManaged(doc)
	if err != nil {
		return false
	}
	for _, st := range p.Statements {
		if st.Effect != policy.Allow {
			continue
		}
		if st.NotAction != nil {
			// Only a NotAction that excludes the whole service grants none
			// of it.
			if !slices.ContainsFunc(st.NotAction, func(a string) bool { return actionCovers(a, ns) }) {
				return true
			}
			continue
		}
		for _, a := range st.Action {
			svc, _, _ := strings.Cut(strings.ToLower(a), ":")
			if ok, _ := path.Match(svc, ns); ok {
				return true
			}
		}
	}
	return false
}

// actionCovers reports whether the action pattern a matches every action
// of ns ("*", "s3:*").
func actionCovers(a, ns string) bool {
	a = strings.ToLower(a)
	return a == "*" || a == ns+":*"
}

// namespaces are the services the documents grant some action of, sorted.
func namespaces(ps []granting) []string {
	set := map[string]bool{}
	for _, g := range ps {
		p, err := policy.ParseAWSManaged(g.doc)
		if err != nil {
			continue
		}
		for _, st := range p.Statements {
			if st.Effect != policy.Allow {
				continue
			}
			list := st.Action
			if st.NotAction != nil {
				list = []string{"*"}
			}
			for _, a := range list {
				svc, _, _ := strings.Cut(strings.ToLower(a), ":")
				if !strings.ContainsAny(svc, "*?") {
					set[svc] = true
					continue
				}
				for ns := range knownServices {
					if ok, _ := path.Match(svc, ns); ok {
						set[ns] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for ns := range set {
		out = append(out, ns)
	}
	slices.Sort(out)
	return out
}

func (s *Service) listPoliciesGrantingServiceAccess(ctx context.Context, in *iamapi.ListPoliciesGrantingServiceAccessRequest) (*iamapi.ListPoliciesGrantingServiceAccessResponse, error) {
	acct := account(ctx)
	if in.Marker != nil {
		if _, err := decodeMarker(*in.Marker); err != nil {
			return nil, err
		}
	}
	var t *accessTarget
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		t, err = loadTarget(tx, acct, *in.Arn, false)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPoliciesGrantingServiceAccessResponse{PoliciesGrantingServiceAccess: []*iamapi.ListPoliciesGrantingServiceAccessEntry{}, IsTruncated: boolp(false)}
	for _, ns := range in.ServiceNamespaces {
		e := &iamapi.ListPoliciesGrantingServiceAccessEntry{ServiceNamespace: str(*ns), Policies: []*iamapi.PolicyGrantingServiceAccess{}}
		for _, g := range t.policies {
			if grants(g.doc, strings.ToLower(*ns)) {
				e.Policies = append(e.Policies, g.api())
			}
		}
		out.PoliciesGrantingServiceAccess = append(out.PoliciesGrantingServiceAccess, e)
	}
	return out, nil
}

// accessJob is a service last accessed report: the services the target's
// policies grant, and the entities it counts. Access is not recorded here,
// so every service shows as never accessed.
type accessJob struct {
	ID          string
	Granularity string
	Created     time.Time
	Services    []string
	Entities    []entityRef
}

type entityRef struct{ ARN, ID, Name, Path, Type string }

func (s *Service) generateServiceLastAccessedDetails(ctx context.Context, in *iamapi.GenerateServiceLastAccessedDetailsRequest) (*iamapi.GenerateServiceLastAccessedDetailsResponse, error) {
	acct := account(ctx)
	if err := checkEnum("granularity", in.Granularity, "SERVICE_LEVEL", "ACTION_LEVEL"); err != nil {
		return nil, err
	}
	job := accessJob{ID: uuid.New(), Granularity: "SERVICE_LEVEL", Created: s.nowUTC()}
	if in.Granularity != nil {
		job.Granularity = *in.Granularity
	}
	err := s.store.Update(func(tx *store.Tx) error {
		t, err := loadTarget(tx, acct, *in.Arn, true)
		if err != nil {
			return err
		}
		job.Services = namespaces(t.policies)
		for _, e := range t.entities {
			job.Entities = append(job.Entities, entityRef{*e.Arn, *e.Id, *e.Name, *e.Path, *e.Type})
		}
		return tx.Put(key(acct, kindAccessJob, job.ID), job)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GenerateServiceLastAccessedDetailsResponse{JobId: str(job.ID)}, nil
}

func (s *Service) loadJob(ctx context.Context, id string) (*accessJob, error) {
	acct := account(ctx)
	var j *accessJob
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		j, _, err = store.Get[accessJob](tx, key(acct, kindAccessJob, id))
		return err
	})
	if err == nil && j == nil {
		err = errorf("NoSuchEntity", "No such job %s exists.", id)
	}
	return j, err
}

func (s *Service) getServiceLastAccessedDetails(ctx context.Context, in *iamapi.GetServiceLastAccessedDetailsRequest) (*iamapi.GetServiceLastAccessedDetailsResponse, error) {
	j, err := s.loadJob(ctx, *in.JobId)
	if err != nil {
		return nil, err
	}
	p, err := page(j.Services, func(ns string) string { return ns }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetServiceLastAccessedDetailsResponse{
		JobStatus: str("COMPLETED"), JobType: str(j.Granularity), JobCreationDate: timePtr(j.Created), JobCompletionDate: timePtr(j.Created),
		ServicesLastAccessed: []*iamapi.ServiceLastAccessed{}, Marker: p.marker, IsTruncated: p.truncated,
	}
	for _, ns := range p.items {
		sla := &iamapi.ServiceLastAccessed{ServiceName: str(serviceName(ns)), ServiceNamespace: str(ns), TotalAuthenticatedEntities: i64(0)}
		out.ServicesLastAccessed = append(out.ServicesLastAccessed, sla)
	}
	return out, nil
}

func (s *Service) getServiceLastAccessedDetailsWithEntities(ctx context.Context, in *iamapi.GetServiceLastAccessedDetailsWithEntitiesRequest) (*iamapi.GetServiceLastAccessedDetailsWithEntitiesResponse, error) {
	j, err := s.loadJob(ctx, *in.JobId)
	if err != nil {
		return nil, err
	}
	var ents []entityRef
	if slices.Contains(j.Services, strings.ToLower(*in.ServiceNamespace)) {
		ents = j.Entities
	}
	p, err := page(ents, func(e entityRef) string { return e.Type + "/" + strings.ToLower(e.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetServiceLastAccessedDetailsWithEntitiesResponse{
		JobStatus: str("COMPLETED"), JobCreationDate: timePtr(j.Created), JobCompletionDate: timePtr(j.Created),
		EntityDetailsList: []*iamapi.EntityDetails{}, Marker: p.marker, IsTruncated: p.truncated,
	}
	for _, e := range p.items {
		out.EntityDetailsList = append(out.EntityDetailsList, &iamapi.EntityDetails{EntityInfo: &iamapi.EntityInfo{
			Arn: str(e.ARN), Id: str(e.ID), Name: str(e.Name), Path: str(e.Path), Type: str(e.Type),
		}})
	}
	return out, nil
}

// noOrganization is IAM's answer to the Organizations access report calls
// in an account that is not in an organization, as every cloudbox account
// is.
func noOrganization() error {
	return errorf("OrganizationNotFoundException", "The request was rejected because no organization is associated with your account.")
}

func (s *Service) generateOrganizationsAccessReport(context.Context, *iamapi.GenerateOrganizationsAccessReportRequest) (*iamapi.GenerateOrganizationsAccessReportResponse, error) {
	return nil, noOrganization()
}

func (s *Service) getOrganizationsAccessReport(context.Context, *iamapi.GetOrganizationsAccessReportRequest) (*iamapi.GetOrganizationsAccessReportResponse, error) {
	return nil, noOrganization()
}

// stsPrefs are the account's STS preferences.
type stsPrefs struct {
	// TokenVersion is GlobalEndpointTokenVersion: "v1Token" or "v2Token".
	TokenVersion string
}

func (s *Service) setSecurityTokenServicePreferences(ctx context.Context, in *iamapi.SetSecurityTokenServicePreferencesRequest) (*iamapi.SetSecurityTokenServicePreferencesOutput, error) {
	acct := account(ctx)
	if err := checkEnum("globalEndpointTokenVersion", in.GlobalEndpointTokenVersion, "v1Token", "v2Token"); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		return tx.Put(store.Key{Account: acct, Kind: kindSTSPrefs, ID: accountID}, stsPrefs{TokenVersion: *in.GlobalEndpointTokenVersion})
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.SetSecurityTokenServicePreferencesOutput{}, nil
}

// credentialSummary sets GetAccountSummary's counts of what these files
// keep: MFA devices, server certificates, SAML providers (added to
// Providers) and the global endpoint's token version.
func credentialSummary(tx *store.Tx, acct string, m map[string]*int64) error {
	devices, err := store.ListAll[mfaRecord](tx, acct, "", kindMFA)
	if err != nil {
		return err
	}
	inUse := 0
	for _, d := range devices {
		if d.UserID != "" {
			inUse++
		}
	}
	m["MFADevices"], m["MFADevicesInUse"] = i64(int64(len(devices))), i64(int64(inUse))
	certs, err := tx.Count(acct, "", kindServerCert)
	if err != nil {
		return err
	}
	m["ServerCertificates"] = i64(int64(certs))
	saml, err := tx.Count(acct, "", kindSAML)
	if err != nil {
		return err
	}
	providers := int64(saml)
	if p := m["Providers"]; p != nil {
		providers += *p
	}
	m["Providers"] = i64(providers)
	prefs, _, err := store.Get[stsPrefs](tx, store.Key{Account: acct, Kind: kindSTSPrefs, ID: accountID})
	if prefs != nil && prefs.TokenVersion == "v2Token" {
		m["GlobalEndpointTokenVersion"] = i64(2)
	}
	return err
}
