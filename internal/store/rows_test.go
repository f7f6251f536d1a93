package store

import "testing"

func TestValuesList(t *testing.T) {
	for _, c := range []struct {
		d           dialect
		rows, width int
		want        string
	}{
		{&sqliteDialect{}, 1, 1, "(?)"},
		{&sqliteDialect{}, 2, 3, "(?,?,?),(?,?,?)"},
		{postgresDialect{}, 1, 1, "($1)"},
		{postgresDialect{}, 2, 3, "($1,$2,$3),($4,$5,$6)"},
		{postgresDialect{}, 4, 3, "($1,$2,$3),($4,$5,$6),($7,$8,$9),($10,$11,$12)"},
	} {
		if got := c.d.values(c.rows, c.width); got != c.want {
			t.Errorf("%s values(%d, %d) = %q, want %q", c.d.name(), c.rows, c.width, got, c.want)
		}
	}
}
