package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/beaconplg/beacon/internal/event"
	"github.com/beaconplg/beacon/internal/identity"
)

// accountColumns maps accepted header names (lowercased) to fields.
var accountColumns = map[string]string{
	"id": "id", "account_id": "id", "crm_id": "id",
	"name": "name", "account_name": "name", "company": "name",
	"domains": "domains", "domain": "domains", "website": "domains",
	"owner": "owner", "account_owner": "owner",
	"employees": "employees", "employee_count": "employees",
	"industry":         "industry",
	"open_opportunity": "open_opportunity", "opportunity": "open_opportunity",
	"named": "named", "named_account": "named",
}

// Accounts reads a CRM export: columns id, name, domains (separated by ; or
// spaces), owner, employees, industry, open_opportunity, named. Rows missing an
// id or a name are refused with their line; the others are returned.
func Accounts(r io.Reader) ([]identity.CRMAccount, Summary, error) {
	var sum Summary
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, sum, fmt.Errorf("csv header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if f, ok := accountColumns[strings.NewReplacer(" ", "_", "-", "_").Replace(name)]; ok {
			col[f] = i
		}
	}
	for _, need := range []string{"id", "name"} {
		if _, ok := col[need]; !ok {
			return nil, sum, fmt.Errorf("csv header: no %q column (have %s)", need, strings.Join(header, ", "))
		}
	}
	var out []identity.CRMAccount
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		sum.Rows++
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			sum.reject(perr.Line, "malformed_csv", perr.Err.Error())
			continue
		}
		if err != nil {
			return nil, sum, err
		}
		line, _ := cr.FieldPos(0)
		a, reason, detail := accountRow(rec, col)
		if reason != "" {
			sum.reject(line, reason, detail)
			continue
		}
		out = append(out, a)
		sum.Accepted++
	}
	return out, sum, nil
}

func accountRow(rec []string, col map[string]int) (identity.CRMAccount, string, string) {
	get := func(f string) string {
		if i, ok := col[f]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	a := identity.CRMAccount{ID: get("id"), Name: get("name"), Owner: get("owner"), Industry: get("industry"),
		Domains: strings.FieldsFunc(get("domains"), func(r rune) bool { return r == ';' || r == ',' || r == ' ' || r == '|' })}
	if a.ID == "" {
		return a, "missing_field", "id is empty"
	}
	if strings.IndexByte(a.ID, 0) >= 0 || !utf8.ValidString(a.ID) || len(a.ID) > event.MaxIDBytes {
		return a, "invalid_field", fmt.Sprintf("id must be UTF-8 text without NUL of at most %d bytes", event.MaxIDBytes)
	}
	if a.Name == "" {
		return a, "missing_field", "name is empty"
	}
	if s := get("employees"); s != "" {
		n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
		if err != nil || n < 0 {
			return a, "invalid_field", fmt.Sprintf("employees %q is not a whole number", s)
		}
		a.Employees = n
	}
	var err error
	if a.OpenOpportunity, err = truthy(get("open_opportunity")); err != nil {
		return a, "invalid_field", "open_opportunity: " + err.Error()
	}
	if a.Named, err = truthy(get("named")); err != nil {
		return a, "invalid_field", "named: " + err.Error()
	}
	return a, "", ""
}

// truthy reads yes/no columns as CRMs export them; an amount or a stage name
// counts as an open opportunity.
func truthy(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "", "0", "false", "no", "n", "none", "closed":
		return false, nil
	case "1", "true", "yes", "y", "open":
		return true, nil
	}
	if strings.HasPrefix(s, "-") {
		return false, fmt.Errorf("%q is not yes or no", s)
	}
	return true, nil
}
