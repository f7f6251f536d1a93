package identity

import (
	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/store"
)

// Next is the stage identity hands what it resolved to, commit by commit,
// so that no stage after it reads the stream again.
type Next interface {
	// Reads says whose properties the next stage reads: identity reads
	// them with the events it resolves.
	Reads() store.Bodies
	// Resolved takes what a commit resolved, in commit order, from the
	// projection's goroutine; it must not wait for the next stage's work.
	Resolved(Resolved)
	// Room reports whether the next stage can take more now. When it
	// cannot, identity resolves nothing until it can: the events wait in
	// the stream rather than in memory.
	Room() bool
}

// Resolved is what one identity commit resolved.
type Resolved struct {
	// From and To bound the stretch of the stream the commit took: the
	// next stage takes it only if it follows what it took last. A commit
	// outside the stream (a quarantine retry) has both zero.
	From, To store.Cursor
	// Events are the stretch's events, in stream order, holding the
	// properties Bodies asks for; Users is each one's user, "" for a
	// visitor not yet tied to one.
	Events []event.Event
	Users  []string
	Bodies store.Bodies
	// Aliased are the anonymous ids the commit tied to a user: what a
	// visitor did under one now counts for that user.
	Aliased map[string]string
	Changes
}

// Changes are the users and accounts a commit changed (traits, links).
type Changes struct {
	Users, Accounts []string
}

// nowhere is the next stage of an identity that hands nothing on.
type nowhere struct{}

func (nowhere) Reads() store.Bodies { return store.Bodies{} }
func (nowhere) Resolved(Resolved)   {}
func (nowhere) Room() bool          { return true }
