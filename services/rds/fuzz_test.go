package rds

import (
	"strings"
	"testing"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
)

// FuzzUserInput: what users send that RDS parses itself (parameter values
// and formulas, identifiers, master credentials) is refused or accepted,
// never a panic; an accepted password cannot leave its SQL string.
func FuzzUserInput(f *testing.F) {
	f.Add("max_connections", "{DBInstanceClassMemory/12582880}", "immediate")
	f.Add("innodb_buffer_pool_size", "{DBInstanceClassMemory*3/4}", "pending-reboot")
	f.Add("sql_mode", "STRICT_TRANS_TABLES,ANSI", "immediate")
	f.Add("long_query_time", "0.5", "immediate")
	f.Add("bts-db", "Bts-pass'\\1234", "BTS_admin")
	f.Add("arn:aws:rds:ap-northeast-2:000000000000:db:bts-db", "x", "y")
	f.Add("max_connections", "LEAST({DBInstanceClassMemory/9531392},5000)", "pending-reboot")
	f.Add("pg", "3\n0\n", "x")
	f.Add("maintenance_work_mem", "GREATEST({DBInstanceClassMemory*1024/63963136},65536)", "immediate")
	f.Fuzz(func(t *testing.T, name, value, method string) {
		if conns, lag, _ := parseEngineStatus(value); conns < 0 || lag < 0 && !strings.Contains(value, "-") {
			t.Fatalf("engine status %q read as %d connections, lag %d", value, conns, lag)
		}
		if conns, lag, _ := parsePgStatus(value); conns < 0 || lag < 0 {
			t.Fatalf("PostgreSQL status %q read as %d connections, lag %d", value, conns, lag)
		}
		if src, id, err := sourceOf(scope{account: "000000000000", region: "us-east-1"}, name); err == nil && (id == "" && name != "" || src.region == "" || src.account != "000000000000") {
			t.Fatalf("source %q read as %+v %q", name, src, id)
		}
		for _, fam := range families {
			checkParam(paramsOf(fam), &rdsapi.Parameter{ParameterName: &name, ParameterValue: &value, ApplyMethod: &method})
		}
		evalFormula(value, 1<<30)
		validIdentifier(name, 63)
		checkMasterUsername(method)
		checkPgMasterUsername(method)
		checkPgDBName(name)
		if checkPassword(value) == nil {
			q := sqlString(value)
			if strings.Count(strings.ReplaceAll(strings.ReplaceAll(q, `\\`, ""), "''", ""), "'") != 0 {
				t.Fatalf("password %q escapes its SQL string: %q", value, q)
			}
		}
		if checkPasswordOf(value, 128) == nil {
			if q := pgString(value); strings.Count(strings.ReplaceAll(q, "''", ""), "'") != 0 {
				t.Fatalf("password %q escapes its PostgreSQL string: %q", value, q)
			}
		}
	})
}
