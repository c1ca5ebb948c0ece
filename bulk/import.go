package bulk

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
	"github.com/ordo-fsm/ordo/service"
)

// ImportOptions tune Import.
type ImportOptions struct {
	Format string // JSONLines or CSV
	Batch  int    // rows per transaction (default 500)
	// Rejects receives one JSON line per rejected row: its line number in
	// the file, the error code, message and details, and the row itself.
	Rejects  io.Writer
	Progress Progress
}

// ImportResult counts what an import did.
type ImportResult struct {
	Rows, Applied, Rejected int64
}

// Reject is one line of the reject file.
type Reject struct {
	Line    int64           `json:"line"`
	Code    ordo.Code       `json:"code"`
	Message string          `json:"message"`
	Details []ordo.Detail   `json:"details,omitempty"`
	Row     json.RawMessage `json:"row,omitempty"`
}

type importRow struct {
	line int64
	raw  []byte
	body map[string]any
	err  error // a row that could not even be read
}

// Import writes every row of in to e through the service's rules (the same
// validation, defaults and embedded references as the API) as upserts by id
// or ERP key, so that running a file again changes nothing. Each batch of
// rows is one transaction, each row in it under a savepoint: a row that
// fails is undone alone and reported to Rejects while the others are
// applied. An error of the database itself stops the import; the batches
// before it stay committed and re-running the file completes it.
func Import(ctx context.Context, svc *service.Service, tenant int64, e *schema.Entity, in io.Reader, opt ImportOptions) (ImportResult, error) {
	if opt.Batch <= 0 {
		opt.Batch = 500
	}
	if opt.Progress == nil {
		opt.Progress = Discard
	}
	if opt.Rejects == nil {
		opt.Rejects = io.Discard
	}
	next, err := rowReader(e, opt.Format, in)
	if err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	rejects := json.NewEncoder(opt.Rejects)
	// Rows whose references do not resolve yet (a parent later in the file)
	// are tried again after the others, as long as that makes progress.
	var deferred []importRow
	run := func(batch []importRow, last bool) error {
		var failed []Reject
		var later []importRow
		reject := func(r importRow, oe *ordo.Error) {
			if oe.Code == ordo.EUnresolved && !last {
				later = append(later, r)
				return
			}
			failed = append(failed, Reject{Line: r.line, Code: oe.Code, Message: oe.Message, Details: oe.Details, Row: rawRow(r.raw)})
		}
		var valid []importRow
		var bodies []map[string]any
		for _, r := range batch {
			err := r.err
			if err == nil {
				err = identifiable(e, r.body)
			}
			if err != nil {
				reject(r, asOrdoError(err))
				continue
			}
			valid = append(valid, r)
			bodies = append(bodies, r.body)
		}
		errs, err := svc.UpsertMany(ctx, tenant, e, bodies)
		if err != nil {
			return fmt.Errorf("import stopped in the batch of lines %d-%d (earlier batches are applied; run the import again to finish): %w",
				batch[0].line, batch[len(batch)-1].line, err)
		}
		for i, rowErr := range errs {
			if rowErr != nil {
				reject(valid[i], asOrdoError(rowErr))
			}
		}
		sort.Slice(failed, func(i, j int) bool { return failed[i].Line < failed[j].Line })
		for _, rj := range failed {
			if err := rejects.Encode(rj); err != nil {
				return err
			}
		}
		deferred = append(deferred, later...)
		res.Rejected += int64(len(failed))
		res.Applied += int64(len(batch) - len(failed) - len(later))
		opt.Progress.Add(len(batch) - len(later))
		return nil
	}
	batch := make([]importRow, 0, opt.Batch)
	for {
		r, ok, err := next()
		if err != nil {
			return res, err
		}
		if !ok {
			break
		}
		res.Rows++
		if batch = append(batch, r); len(batch) == opt.Batch {
			if err := run(batch, false); err != nil {
				return res, err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := run(batch, false); err != nil {
			return res, err
		}
	}
	for len(deferred) > 0 {
		pending := deferred
		deferred = nil
		applied := res.Applied
		for i := 0; i < len(pending); i += opt.Batch {
			if err := run(pending[i:min(i+opt.Batch, len(pending))], false); err != nil {
				return res, err
			}
		}
		if res.Applied == applied { // no progress: what is left is rejected
			pending, deferred = deferred, nil
			for i := 0; i < len(pending); i += opt.Batch {
				if err := run(pending[i:min(i+opt.Batch, len(pending))], true); err != nil {
					return res, err
				}
			}
		}
	}
	opt.Progress.Finish()
	return res, nil
}

// asOrdoError returns the client-facing error err carries (UpsertMany
// returns only those per row).
func asOrdoError(err error) *ordo.Error {
	var oe *ordo.Error
	if errors.As(err, &oe) {
		return oe
	}
	return ordo.Errorf(ordo.EInternal, "%v", err)
}

// identifiable refuses a row that a second run could not find again.
func identifiable(e *schema.Entity, body map[string]any) error {
	if id, _ := body["id"].(string); id != "" && id != schema.ZeroGUID {
		return nil
	}
	if e.ERPKey != "" {
		if k, _ := body[e.ERPKey].(string); k != "" {
			return nil
		}
		return ordo.FieldError("Required", "id", "the row has neither id nor %s, so running the import again could not find it", e.ERPKey)
	}
	return ordo.FieldError("Required", "id", "the row has no id, so running the import again could not find it")
}

func rawRow(raw []byte) json.RawMessage {
	if json.Valid(raw) {
		return raw
	}
	s, _ := json.Marshal(string(raw))
	return s
}

// rowReader returns a function yielding the rows of in one by one with
// their line numbers; ok is false at the end.
func rowReader(e *schema.Entity, format string, in io.Reader) (func() (importRow, bool, error), error) {
	switch format {
	case JSONLines, "":
		br := bufio.NewReaderSize(in, 1<<16)
		var line int64
		return func() (importRow, bool, error) {
			for {
				b, err := br.ReadBytes('\n')
				if len(b) == 0 && err == io.EOF {
					return importRow{}, false, nil
				}
				if err != nil && err != io.EOF {
					return importRow{}, false, err
				}
				line++
				b = bytes.TrimSpace(b)
				if len(b) == 0 {
					continue
				}
				r := importRow{line: line, raw: append([]byte(nil), b...)}
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.UseNumber()
				if derr := dec.Decode(&r.body); derr != nil || dec.More() {
					r.err = ordo.Errorf(ordo.EInvalid, "line %d is not one JSON object", line)
				}
				return r, true, nil
			}
		}, nil
	case CSV:
		cr := csv.NewReader(in)
		cr.FieldsPerRecord = -1
		cr.ReuseRecord = false
		header, err := cr.Read()
		if err != nil {
			return nil, fmt.Errorf("reading the CSV header: %w", err)
		}
		return func() (importRow, bool, error) {
			row, err := cr.Read()
			if err == io.EOF {
				return importRow{}, false, nil
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return importRow{line: int64(pe.StartLine), err: ordo.Errorf(ordo.EInvalid, "line %d: %v", pe.StartLine, pe.Err)}, true, nil
			}
			if err != nil {
				return importRow{}, false, err
			}
			line, _ := cr.FieldPos(0)
			r := importRow{line: int64(line)}
			r.raw, _ = json.Marshal(row)
			r.body, r.err = csvBody(e, header, row)
			return r, true, nil
		}, nil
	}
	return nil, fmt.Errorf("unknown format %q (jsonl or csv)", format)
}
