package sim

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
)

// WriteCRM writes the accounts the CRM knows, as a CRM export that `beacon
// import accounts` reads: id, name, domains, owner, employees, industry,
// open_opportunity, named.
func (p Params) WriteCRM(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"id", "name", "domains", "owner", "employees", "industry", "open_opportunity", "named"}); err != nil {
		return err
	}
	for i := range p.Accounts {
		a := p.NewAccount(i)
		if !a.InCRM {
			continue
		}
		err := cw.Write([]string{a.CRMID, a.CRMName, strings.Join(a.Domains, ";"), a.Owner, strconv.Itoa(a.Employees),
			a.Industry, yesNo(a.OpenOpportunity), yesNo(a.Named)})
		if err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
