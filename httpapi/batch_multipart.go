package httpapi

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
)

// handleMultipartBatch serves the OData 4.0 multipart/mixed batch format on
// the same engine as the JSON format: each application/http part is a
// request, each nested multipart/mixed part a change set (an atomicity
// group), Content-ID the request's id for $<id> references. A change set
// that fails is answered with one response, its failure, as OData 4.0 has
// it.
func (s *Server) handleMultipartBatch(w http.ResponseWriter, r *http.Request, boundary string) {
	reqs, err := s.readMultipartBatch(w, r, boundary)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	results := s.runBatch(r, reqs)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.SetBoundary("batchresponse_" + uuid.NewString())
	for i := 0; i < len(reqs); {
		g := reqs[i].AtomicityGroup
		if g == "" {
			writeHTTPPart(mw, reqs[i], results[reqs[i].ID], false)
			i++
			continue
		}
		j := i
		for j < len(reqs) && reqs[j].AtomicityGroup == g {
			j++
		}
		if res := results[reqs[i].ID]; res.status >= 400 { // the change set failed as a whole
			writeHTTPPart(mw, reqs[i], res, false)
		} else {
			var inner bytes.Buffer
			cw := multipart.NewWriter(&inner)
			cw.SetBoundary("changesetresponse_" + uuid.NewString())
			for _, q := range reqs[i:j] {
				writeHTTPPart(cw, q, results[q.ID], true)
			}
			cw.Close()
			part, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"multipart/mixed; boundary=" + cw.Boundary()}})
			part.Write(inner.Bytes())
		}
		i = j
	}
	mw.Close()
	plain := r.Clone(r.Context())
	plain.Header.Del("Accept-Encoding")
	s.writeBody(w, plain, http.StatusOK, "multipart/mixed; boundary="+mw.Boundary(), buf.Bytes())
}

// writeHTTPPart writes one response as an application/http part.
func writeHTTPPart(mw *multipart.Writer, q batchRequest, res *batchResponse, withID bool) {
	h := textproto.MIMEHeader{"Content-Type": {"application/http"}, "Content-Transfer-Encoding": {"binary"}}
	if withID && !strings.HasPrefix(q.ID, "_") {
		h.Set("Content-ID", q.ID)
	}
	part, _ := mw.CreatePart(h)
	fmt.Fprintf(part, "HTTP/1.1 %d %s\r\n", res.status, http.StatusText(res.status))
	for _, k := range []string{"Content-Type", "Location", "ETag", "OData-Version", "Preference-Applied", "Allow", "Retry-After"} {
		if v := res.header.Get(k); v != "" {
			fmt.Fprintf(part, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(part, "Content-Length: %d\r\n\r\n", len(res.body))
	part.Write(res.body)
}

// readMultipartBatch reads a multipart/mixed batch into the requests of the
// JSON format, then checks them with the same rules.
func (s *Server) readMultipartBatch(w http.ResponseWriter, r *http.Request, boundary string) ([]batchRequest, error) {
	if boundary == "" {
		return nil, ordo.Errorf(ordo.EInvalid, "a multipart/mixed batch needs a boundary parameter in its Content-Type")
	}
	raw, err := s.readLimited(w, r, "the batch")
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(raw, []byte("--"+boundary+"--")) {
		return nil, ordo.Errorf(ordo.EInvalid, "the multipart batch ends before its closing boundary --%s--", boundary)
	}
	var reqs []batchRequest
	mr := multipart.NewReader(bytes.NewReader(raw), boundary)
	for n := 1; ; n++ {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, ordo.Errorf(ordo.EInvalid, "malformed multipart batch at part %d: %v", n, err)
		}
		mt, params, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch {
		case err == nil && mt == "multipart/mixed":
			group := "changeset" + strconv.Itoa(n)
			cr := multipart.NewReader(part, params["boundary"])
			for m := 1; ; m++ {
				inner, err := cr.NextRawPart()
				if err == io.EOF {
					break
				}
				if err != nil {
					return nil, ordo.Errorf(ordo.EInvalid, "malformed change set in part %d: %v", n, err)
				}
				q, err := readHTTPPart(inner, fmt.Sprintf("_%d.%d", n, m))
				if err != nil {
					return nil, err
				}
				q.AtomicityGroup = group
				reqs = append(reqs, q)
			}
		case err == nil && mt == "application/http":
			q, err := readHTTPPart(part, "_"+strconv.Itoa(n))
			if err != nil {
				return nil, err
			}
			reqs = append(reqs, q)
		default:
			return nil, ordo.Errorf(ordo.EInvalid, "part %d of the batch is neither application/http nor a multipart/mixed change set", n)
		}
		if len(reqs) > maxBatchRequests {
			return nil, ordo.Errorf(ordo.ETooLarge, "the batch holds more than %d requests", maxBatchRequests)
		}
	}
	return reqs, checkBatch(reqs)
}

// readHTTPPart parses "METHOD URL HTTP/1.1", headers and a body.
func readHTTPPart(part *multipart.Part, defaultID string) (batchRequest, error) {
	q := batchRequest{ID: defaultID, Headers: map[string]string{}}
	if id := part.Header.Get("Content-ID"); id != "" {
		q.ID = strings.Trim(id, "<>")
	}
	tp := textproto.NewReader(bufio.NewReader(part))
	line, err := tp.ReadLine()
	if err != nil {
		return q, ordo.Errorf(ordo.EInvalid, "request %s: no request line", q.ID)
	}
	fields := strings.Fields(line)
	if len(fields) < 2 {
		return q, ordo.Errorf(ordo.EInvalid, "request %s: malformed request line %q", q.ID, line)
	}
	q.Method, q.URL = fields[0], fields[1]
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return q, ordo.Errorf(ordo.EInvalid, "request %s: malformed headers: %v", q.ID, err)
	}
	for k, v := range hdr {
		if len(v) > 0 && k != "Content-Length" {
			q.Headers[k] = v[0]
		}
	}
	body, err := io.ReadAll(tp.R)
	if err != nil {
		return q, ordo.Errorf(ordo.EInvalid, "request %s: %v", q.ID, err)
	}
	if body = bytes.TrimSpace(body); len(body) > 0 {
		q.Body = body
	}
	return q, nil
}
