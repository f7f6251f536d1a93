package storetest

import (
	"database/sql"
	"strings"
	"testing"
)

// Refuse makes the database at dsn refuse, with an error of the engine's
// own, any row of table whose column equals value: a trigger, as a
// constraint added later or a value the engine cannot hold would. It
// returns a function that lifts the refusal, as a fix would. Tests use it
// to make a stage fail on one message for real, on both engines.
func Refuse(t testing.TB, dsn, table, column, value string) (lift func()) {
	t.Helper()
	driver, source, create, drop := "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)",
		[]string{`CREATE TRIGGER refuse_` + table + ` BEFORE INSERT ON ` + table + ` WHEN NEW.` + column + ` = '` + value + `'
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
			`CREATE TRIGGER refuse_` + table + `_update BEFORE UPDATE ON ` + table + ` WHEN NEW.` + column + ` = '` + value + `'
			BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`},
		[]string{`DROP TRIGGER refuse_` + table, `DROP TRIGGER refuse_` + table + `_update`}
	if strings.HasPrefix(dsn, "postgres") {
		driver, source = "pgx", dsn
		create = []string{`CREATE FUNCTION refuse_` + table + `() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.` + column + ` = '` + value + `' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER refuse_` + table + ` BEFORE INSERT OR UPDATE ON ` + table + `
			FOR EACH ROW EXECUTE FUNCTION refuse_` + table + `()`}
		drop = []string{`DROP TRIGGER refuse_` + table + ` ON ` + table, `DROP FUNCTION refuse_` + table}
	}
	run := func(stmts []string) {
		t.Helper()
		db, err := sql.Open(driver, source)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, s := range stmts {
			if _, err := db.Exec(s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
	}
	run(create)
	return func() { run(drop) }
}
