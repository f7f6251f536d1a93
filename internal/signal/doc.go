// Package signal owns usage signals: their definitions as beacon.yaml writes
// them (a measure over matching events in a window), the per-actor rollups
// kept in memory as events commit (lifetime totals, daily cells for the
// windows rules read, and a bitset of active days), and the evaluation of a
// subject's signals over the rollups of the actors it is made of. It never
// reads the store: rollups are fed events, and an account is evaluated over
// whichever users the caller says belong to it.
package signal
