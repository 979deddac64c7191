package rds

import (
	_ "embed"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"text/template"
)

// The postgres engine: Debian's PostgreSQL (15, bookworm's). EngineVersion
// accepts AWS's 14, 15 and 16 versions and shows what was asked; `SELECT
// version()` says what runs. Its nodes replicate by PostgreSQL's own
// streaming replication, following a name as MariaDB's nodes do: a
// Multi-AZ standby synchronously, a read replica asynchronously.

// parameters-postgres.json: a small set of the postgres families'
// parameters with AWS's defaults and formulas.
//
//go:embed parameters-postgres.json
var parametersPostgresJSON []byte

var postgresParams = func() []familyParam {
	var ps []familyParam
	if err := json.Unmarshal(parametersPostgresJSON, &ps); err != nil {
		panic("rds: parameters-postgres.json: " + err.Error())
	}
	return ps
}()

//go:embed pg.sh.tmpl
var pgScriptText string

var pgScriptTmpl = template.Must(template.New("pg").Parse(pgScriptText))

// pgFirstBoot is a postgres node's first-boot script (pg.sh.tmpl):
// PostgreSQL from the package mirror, listening on the instance's port on
// every address, the parameter group's values in its configuration, the
// master user and database as RDS makes them on the origin node, a copy
// of the primary on the others, and the node's role kept by
// rds-pg-follow. The script ends once the server takes connections (and,
// off the origin, streams from the primary), so the node is booted only
// then.
func pgFirstBoot(r *instanceRecord, n nodeSpec, pg *paramGroupRecord, class instanceClass) string {
	var config []string
	forceSSL := false
	for _, kv := range paramValues(pg, class) {
		name, v := kv[0], kv[1]
		if name == "rds.force_ssl" {
			forceSSL = v == "1"
			continue
		}
		// postgresql.conf takes numbers bare and other values quoted.
		if strings.Trim(v, "0123456789") != "" {
			v = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		}
		config = append(config, name+" = "+v)
	}
	var b strings.Builder
	err := pgScriptTmpl.Execute(&b, map[string]any{
		"ID": r.ID, "EngineVersion": r.EngineVersion, "Slot": n.Slot, "Port": r.Port, "Config": config, "ForceSSL": forceSSL,
		"MasterUsername": r.MasterUsername, "MasterPassword": pgString(r.Password), "DBName": r.DBName,
		"IP": n.IP, "Primary": n.Primary, "Follow": n.Follow, "AppName": pgAppName(n), "ReplPassword": r.ReplPassword, "ReplNets": n.ReplNets,
		"RestoreWait": restoreWait(r, n),
	})
	if err != nil {
		panic("rds: pg.sh.tmpl: " + err.Error()) // the template and its data are ours
	}
	return b.String()
}

// pgAppName is the application_name a node streams under: the primary
// waits for the Multi-AZ standby's (synchronous_standby_names), never for
// a read replica's.
func pgAppName(n nodeSpec) string {
	if n.SemiSync {
		return "rds_standby"
	}
	return "rds_replica"
}

// pgString escapes s for a single-quoted PostgreSQL string (standard
// conforming: a backslash is itself).
func pgString(s string) string { return strings.ReplaceAll(s, "'", "''") }

// AWS's rules for PostgreSQL: a master user name of 1 to 63 letters,
// digits and underscores starting with a letter, not a word the engine
// reserves; a password of 8 to 128 printable ASCII characters other than
// / " @ and space; a database name of 1 to 63 letters, digits and
// underscores starting with a letter.
var (
	pgUserNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`)
	pgDBNameRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,62}$`)
)

// pgReserved are PostgreSQL's reserved key words, the role names it
// refuses and RDS's own roles.
var pgReserved = strings.Fields(`all analyse analyze and any array as asc asymmetric authorization binary both case cast
check collate collation column concurrently constraint create cross current_catalog current_date current_role
current_schema current_time current_timestamp current_user default deferrable desc distinct do else end except false
fetch for foreign freeze from full grant group having ilike in initially inner intersect into is isnull join lateral
leading left like limit localtime localtimestamp natural not notnull null offset on only or order outer overlaps
placing primary references returning right select session_user similar some symmetric system_user table tablesample
then to trailing true union unique user using variadic verbose when where window with
public none rdsadmin rdsrepladmin rds_superuser rds_replication rds_password rdstopmgr`)

func checkPgMasterUsername(u string) error {
	if u == "" {
		return invalidValue("The parameter MasterUsername must be provided and must not be blank.")
	}
	if !pgUserNameRE.MatchString(u) {
		return invalidValue("The parameter MasterUsername is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and underscores; and must be 1 to 63 characters long.")
	}
	if l := strings.ToLower(u); slices.Contains(pgReserved, l) || strings.HasPrefix(l, "pg_") {
		return invalidValue("MasterUsername %s cannot be used as it is a reserved word used by the engine", u)
	}
	return nil
}

func checkPgDBName(n string) error {
	if !pgDBNameRE.MatchString(n) || slices.Contains(pgReserved, strings.ToLower(n)) {
		return invalidValue("The parameter DBName is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and underscores; and must be 1 to 63 characters long.")
	}
	return nil
}
