package cli

import (
	"context"
	"os/user"

	"github.com/beaconplg/beacon/internal/store"
)

// auditor records what a command did in the audit log.
type auditor interface {
	Audit(ctx context.Context, e store.AuditEntry) error
}

// audit records an admin action of the command line, by the system user
// who ran it. The action is done already: a failure to record it is
// logged, and does not fail the command.
func (a *app) audit(ctx context.Context, db auditor, action, subject, detail string) {
	who := "cli"
	if u, err := user.Current(); err == nil {
		who = "cli:" + u.Username
	}
	a.auditAs(ctx, db, who, action, subject, detail)
}

// auditAs records an action done by who.
func (a *app) auditAs(ctx context.Context, db auditor, who, action, subject, detail string) {
	if err := db.Audit(ctx, store.AuditEntry{Actor: who, Action: action, Subject: subject, Detail: detail}); err != nil {
		a.log.Error("audit log failed", "action", action, "err", err)
	}
}
