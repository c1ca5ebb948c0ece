package bulk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/rowjson"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqldialect"
)

// Formats of export and import files.
const (
	JSONLines = "jsonl" // one JSON object per line, as the API answers it
	CSV       = "csv"   // a header row of the API's field names, then one row each
)

// exportPage is how many rows an export reads per query.
const exportPage = 1000

// Export writes every row of e in tenant, in id order, and returns how many.
// Rows are read page by page after the last id, so the cost of a page does
// not grow with the rows before it.
func Export(ctx context.Context, svc *service.Service, tenant int64, e *schema.Entity, format string, out io.Writer, prog Progress) (int64, error) {
	bw := bufio.NewWriterSize(out, 1<<16)
	var cw *csv.Writer
	switch format {
	case JSONLines:
	case CSV:
		cw = csv.NewWriter(bw)
		if err := cw.Write(csvHeader(e)); err != nil {
			return 0, err
		}
	default:
		return 0, fmt.Errorf("unknown format %q (jsonl or csv)", format)
	}
	var n int64
	last := ""
	var buf []byte
	for {
		q := ordo.Query{OrderBy: []ordo.Order{{Field: "id"}}, Limit: exportPage}
		if last != "" {
			after := last
			q.Filter = func(alias string, args *sqldialect.Args) (string, string, string, error) {
				return "", alias + ".id > " + args.Add(schema.KindGUID, after), "", nil
			}
		}
		page, err := svc.List(ctx, tenant, e, q, false)
		if err != nil {
			return n, err
		}
		for _, rec := range page.Rows {
			buf = rowjson.AppendRecord(buf[:0], e, rec, "")
			if cw != nil {
				row, err := csvRow(e, buf)
				if err != nil {
					return n, err
				}
				if err := cw.Write(row); err != nil {
					return n, err
				}
			} else {
				buf = append(buf, '\n')
				if _, err := bw.Write(buf); err != nil {
					return n, err
				}
			}
		}
		n += int64(len(page.Rows))
		prog.Add(len(page.Rows))
		if len(page.Rows) < exportPage {
			break
		}
		last = page.Rows[len(page.Rows)-1].ID()
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
	}
	prog.Finish()
	return n, bw.Flush()
}

// csvHeader is the field names, then the owned lists' names.
func csvHeader(e *schema.Entity) []string {
	var h []string
	for _, f := range e.Fields {
		h = append(h, f.Name)
	}
	for _, l := range e.Lists {
		h = append(h, l.Name)
	}
	return h
}

// csvRow turns the API's JSON object of a row into CSV cells: strings as
// they are, numbers and booleans as JSON writes them, owned lists as JSON.
func csvRow(e *schema.Entity, obj []byte) ([]string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil, err
	}
	h := csvHeader(e)
	row := make([]string, len(h))
	for i, name := range h {
		raw := m[name]
		switch {
		case len(raw) == 0 || string(raw) == "null":
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, err
			}
			row[i] = s
		default:
			var c bytes.Buffer
			json.Compact(&c, raw)
			row[i] = c.String()
		}
	}
	return row, nil
}

// csvBody turns a CSV row back into a request body: a cell is converted
// after its field's kind; an empty cell of a non-text field is left out.
func csvBody(e *schema.Entity, header, row []string) (map[string]any, error) {
	if len(row) != len(header) {
		return nil, ordo.Errorf(ordo.EInvalid, "the row has %d cells; the header has %d", len(row), len(header))
	}
	body := make(map[string]any, len(row))
	for i, name := range header {
		cell := row[i]
		if f, ok := e.Field(name); ok {
			switch f.Kind {
			case schema.KindString:
				body[name] = cell
			case schema.KindInt, schema.KindDecimal:
				if cell != "" {
					body[name] = json.Number(cell)
				}
			case schema.KindBool:
				if cell != "" {
					b, err := strconv.ParseBool(cell)
					if err != nil {
						return nil, ordo.FieldError("InvalidValue", name, "%s: %q is not true or false", name, cell)
					}
					body[name] = b
				}
			default:
				if cell != "" {
					body[name] = cell
				}
			}
			continue
		}
		if cell == "" {
			continue
		}
		if _, isList := e.List(name); !isList {
			body[name] = cell // the service answers UnknownField
			continue
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(cell)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, ordo.FieldError("InvalidValue", name, "%s: the cell is not JSON: %v", name, err)
		}
		body[name] = v
	}
	return body, nil
}
