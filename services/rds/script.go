package rds

import (
	"fmt"
	"slices"
	"strings"
)

// firstBoot is the node's first-boot script: Debian's MariaDB from the
// package mirror, listening on the instance's port on every address, with
// the parameter group's values in its configuration, the master user
// (reachable from anywhere the security groups let through) and the
// initial database. The init starts MariaDB at every later boot (the
// package enables its service), from the same disk.
func firstBoot(r *instanceRecord, pg *paramGroupRecord, class instanceClass) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/bash\n# RDS DB instance %s (%s %s): MariaDB from Debian.\nset -euo pipefail\n", r.ID, r.Engine, r.EngineVersion)
	b.WriteString("export DEBIAN_FRONTEND=noninteractive\napt-get update\napt-get install -y --no-install-recommends mariadb-server mariadb-client\n")
	b.WriteString("cat > /etc/mysql/mariadb.conf.d/90-rds.cnf <<'RDS_CNF'\n[mysqld]\nbind-address = 0.0.0.0\n")
	fmt.Fprintf(&b, "port = %d\n", r.Port)
	for _, line := range configLines(pg, class) {
		b.WriteString(line + "\n")
	}
	b.WriteString("RDS_CNF\nsystemctl enable mariadb\nsystemctl restart mariadb\n")
	b.WriteString("until mysqladmin --protocol=socket ping >/dev/null 2>&1; do sleep 1; done\n")
	b.WriteString("mysql --protocol=socket -uroot <<'RDS_SQL'\n")
	fmt.Fprintf(&b, "CREATE USER '%s'@'%%' IDENTIFIED BY '%s';\n", r.MasterUsername, sqlString(r.Password))
	fmt.Fprintf(&b, "GRANT ALL PRIVILEGES ON *.* TO '%s'@'%%' WITH GRANT OPTION;\n", r.MasterUsername)
	if r.DBName != "" {
		fmt.Fprintf(&b, "CREATE DATABASE IF NOT EXISTS `%s`;\n", r.DBName)
	}
	b.WriteString("RDS_SQL\n")
	fmt.Fprintf(&b, "echo \"RDS: %s accepts connections on port %d\"\n", r.ID, r.Port)
	return b.String()
}

// configLines are the group's values (the user's over the family's
// defaults), formulas computed for the class's memory, in name order.
func configLines(pg *paramGroupRecord, class instanceClass) []string {
	memory := uint64(class.MemoryMiB) << 20
	var lines []string
	for _, p := range familyParams {
		v, ok := pg.Values[p.Name]
		if !ok {
			v = p.Value
		}
		if v == "" {
			continue
		}
		if strings.HasPrefix(v, "{") {
			n, ok := evalFormula(v, memory)
			if !ok {
				continue
			}
			v = fmt.Sprint(n)
		}
		lines = append(lines, p.Name+" = "+v)
	}
	slices.Sort(lines)
	return lines
}

// sqlString escapes s for a single-quoted SQL string.
func sqlString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s)
}
