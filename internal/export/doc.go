// Package export owns writing what Beacon holds as plain files for other
// tools (a warehouse, DuckDB): the event stream with each event's user as
// identity resolved it, the users, the accounts, the links between them and
// the current scores.
package export
