package growth

import (
	"encoding/csv"
	"io"
	"strconv"
)

// WriteCSV writes a report's metrics of table (all tables if empty) as
// CSV: a row per metric, and per metric and group when broken down.
func WriteCSV(w io.Writer, r *Report, table string) error {
	c := csv.NewWriter(w)
	if err := c.Write([]string{"group", "table", "metric", "label", "unit", "value", "target", "trend", "level", "band", "from", "to"}); err != nil {
		return err
	}
	rows := []Group{{Name: "", Values: r.Values}}
	rows = append(rows, r.Groups...)
	for _, g := range rows {
		for _, v := range g.Values {
			if table != "" && v.Table != table {
				continue
			}
			rec := []string{g.Name, v.Table, v.Name, v.Label, v.Unit, num(v.Value, v.OK), num(v.Target, v.HasTarget),
				num(v.Trend, v.TrendOK), string(v.Level), v.Band, r.From.Format("2006-01-02"), r.To.Format("2006-01-02")}
			if err := c.Write(rec); err != nil {
				return err
			}
		}
	}
	c.Flush()
	return c.Error()
}

// num is a value as CSV holds it: empty when undefined.
func num(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
