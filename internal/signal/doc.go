// Package signal owns usage signals and the signal stage: their
// definitions as beacon.yaml writes them (a measure over matching events in
// a window), the per-actor rollups kept in memory (lifetime totals, daily
// cells for the windows rules read, and a bitset of active days), the
// evaluation of a subject's signals over the rollups of the actors it is
// made of, and the Stage that keeps the rollups current: it takes in what
// identity hands on, commit by commit, replays the event log into fresh
// rollups (as of an instant, if asked), sets aside an event they cannot
// take, and tells scoring who moved. Only the Stage reads the store.
package signal
