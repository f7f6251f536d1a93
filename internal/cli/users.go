package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/beaconplg/beacon/internal/store"
	"github.com/beaconplg/beacon/internal/web"
)

func (a *app) usersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage the people who sign in to the web app"}
	var name, role string
	var fromStdin bool
	add := &cobra.Command{
		Use:   "add EMAIL",
		Short: "Add a person who can sign in; prints a new password unless one is given on stdin",
		Long: `Add a person who signs in to the web app, with the role admin or member. With
--password-stdin the password is read from the first line of standard input;
otherwise a random one is made and printed once. Beacon keeps only its bcrypt hash.

  beacon users add ana@example.com --role admin
  printf '%s\n' "$PASSWORD" | beacon users add bo@example.com --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, made := "", false
			if fromStdin {
				line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 1024)).ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				pw = strings.TrimRight(line, "\r\n")
			} else {
				var err error
				if pw, err = web.NewPassword(); err != nil {
					return err
				}
				made = true
			}
			return a.withStore(cmd.Context(), a.openStore, func(db *store.DB) error {
				p, err := addPerson(cmd.Context(), db, args[0], name, role, pw)
				if err == nil {
					a.audit(cmd.Context(), db, store.AuditPersonAdded, p.Email, "as "+p.Role)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s can sign in as %s", p.Email, p.Role)
				if made {
					fmt.Fprintf(a.stdout, " with the password %s", pw)
				}
				fmt.Fprintln(a.stdout)
				return nil
			})
		},
	}
	add.Flags().StringVar(&name, "name", "", "the person's name")
	add.Flags().StringVar(&role, "role", store.RoleMember, "admin or member")
	add.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.AddCommand(add)
	return cmd
}

// addPerson checks and stores a person who signs in with password.
func addPerson(ctx context.Context, db *store.DB, email, name, role, password string) (store.Person, error) {
	if role != store.RoleAdmin && role != store.RoleMember {
		return store.Person{}, fmt.Errorf("role %q: want admin or member", role)
	}
	if at := strings.IndexByte(email, '@'); at < 1 || at == len(email)-1 || len(email) > 254 {
		return store.Person{}, fmt.Errorf("email %q: want an address like ana@example.com", email)
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return store.Person{}, err
	}
	return db.AddPerson(ctx, store.Person{Email: email, Name: name, Role: role, PasswordHash: hash, CreatedAt: time.Now()})
}
