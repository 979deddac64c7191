package rds

import (
	"regexp"
	"slices"
	"strings"
)

// AWS's rules for MySQL and MariaDB: a master user name of 1 to 16
// letters, digits and underscores starting with a letter, not one the
// engine reserves; a password of 8 to 41 printable ASCII characters other
// than / " @ and space; a database name of 1 to 64 letters, digits and
// underscores starting with a letter.
var (
	userNameRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,15}$`)
	dbNameRE   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,63}$`)
)

var reservedUsers = []string{"rdsadmin", "rdsrepladmin", "root", "mysql.sys", "mysql.session", "mysql.infoschema", "mariadb.sys"}

func checkMasterUsername(u string) error {
	if u == "" {
		return invalidValue("The parameter MasterUsername must be provided and must not be blank.")
	}
	if !userNameRE.MatchString(u) {
		return invalidValue("The parameter MasterUsername is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and underscores; and must be 1 to 16 characters long.")
	}
	if slices.Contains(reservedUsers, strings.ToLower(u)) {
		return invalidValue("MasterUsername %s cannot be used as it is a reserved word used by the engine", u)
	}
	return nil
}

func checkPassword(p string) error { return checkPasswordOf(p, 41) }

// checkPasswordOf checks a password of at most max characters (41 for
// MySQL and MariaDB, 128 for PostgreSQL).
func checkPasswordOf(p string, max int) error {
	switch {
	case p == "":
		return invalidValue("The parameter MasterUserPassword must be provided and must not be blank.")
	case len(p) < 8:
		return invalidValue("The parameter MasterUserPassword is not a valid password because it is shorter than 8 characters.")
	case len(p) > max:
		return invalidValue("The parameter MasterUserPassword is not a valid password because it is longer than %d characters.", max)
	}
	for _, c := range []byte(p) {
		if c <= ' ' || c > '~' || c == '/' || c == '"' || c == '@' {
			return invalidValue("The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.")
		}
	}
	return nil
}

func checkDBName(n string) error {
	if !dbNameRE.MatchString(n) {
		return invalidValue("The parameter DBName is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and underscores; and must be 1 to 64 characters long.")
	}
	return nil
}
