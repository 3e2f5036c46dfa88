package rasp

import "testing"

func TestDSNDialect(t *testing.T) {
	tests := []struct{ driver, dsn, want string }{
		{"mysql", "user:pw@tcp(db:3306)/app", "mysql"},
		{"mysql", "user:pw@tcp(db:3306)/app?sql_mode='NO_BACKSLASH_ESCAPES,ANSI_QUOTES'", "mysql-no-backslash-escapes"},
		{"mysql", "user:pw@tcp(db:3306)/app?sql_mode=%27no_backslash_escapes%27", "mysql-no-backslash-escapes"},
		{"pgx", "postgres://db/app?options=NO_BACKSLASH_ESCAPES", "pgx"},
		{"sqlserver", "sqlserver://db?database=app", "sqlserver"},
	}
	for _, tt := range tests {
		if got := dsnDialect(tt.driver, tt.dsn); got != tt.want {
			t.Errorf("dsnDialect(%q, %q) = %q, want %q", tt.driver, tt.dsn, got, tt.want)
		}
	}
}
