package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ordo-fsm/ordo"
)

// gzipMin is the body size from which responses are compressed.
const gzipMin = 1024

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed); return w }}

// writeJSON sends a JSON body, gzipped when the client accepts it.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	s.writeBody(w, r, status, "application/json; odata.metadata=minimal; charset=utf-8", body)
}

// writeBody sends a body of any type, gzipped when the client accepts it.
func (s *Server) writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("OData-Version", "4.0")
	if len(body) >= gzipMin && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		var buf bytes.Buffer
		zw := gzipPool.Get().(*gzip.Writer)
		zw.Reset(&buf)
		zw.Write(body)
		zw.Close()
		gzipPool.Put(zw)
		body = buf.Bytes()
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// checkAccept refuses clients that only accept XML: XML bodies are not served yet.
func checkAccept(r *http.Request) error {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/json", "text/json", "*/*", "application/*", "text/*":
			return nil
		}
	}
	if strings.Contains(accept, "xml") {
		return ordo.Errorf(ordo.ENotAcceptable, "XML responses are not supported yet; accept application/json")
	}
	return ordo.Errorf(ordo.ENotAcceptable, "this API answers application/json; the Accept header %q does not allow it", accept)
}

// readBody decodes a JSON object body within the size limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) (map[string]any, error) {
	raw, err := s.readJSONText(w, r)
	if err != nil {
		return nil, err
	}
	return decodeObject(raw)
}

// readJSONText reads a body sent as JSON within the size limit, checking
// its media type and text but not decoding it (decodeObject does).
func (s *Server) readJSONText(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, ordo.Errorf(ordo.EUnsupported, "malformed Content-Type %q", ct)
		}
		switch mt {
		case "application/json", "text/json":
		case "application/xml", "text/xml":
			return nil, ordo.Errorf(ordo.EUnsupported, "XML request bodies are not supported yet; send application/json")
		default:
			return nil, ordo.Errorf(ordo.EUnsupported, "Content-Type %s is not supported; send application/json", mt)
		}
	}
	raw, err := s.readLimited(w, r, "the request body")
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, ordo.Errorf(ordo.EInvalid, "the request body is empty; send a JSON object")
	}
	if err := checkBodyText(raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// decodeObject decodes a JSON object (numbers kept as json.Number).
func decodeObject(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(err, raw)
	}
	if dec.More() {
		return nil, ordo.Errorf(ordo.EInvalid, "malformed JSON: unexpected data after the object at byte %d", dec.InputOffset())
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, ordo.Errorf(ordo.EInvalid, "the request body must be a JSON object")
	}
	return obj, nil
}

func jsonError(err error, raw []byte) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return ordo.Errorf(ordo.EInvalid, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return ordo.Errorf(ordo.EInvalid, "malformed JSON: the body ends early (%d bytes)", len(raw))
	}
	return ordo.Errorf(ordo.EInvalid, "malformed JSON: %s", fmt.Sprint(err))
}

// readLimited reads the request body up to the server's size limit; what
// names the body in the 413 message ("the request body", "the batch").
func (s *Server) readLimited(w http.ResponseWriter, r *http.Request, what string) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, s.maxBody)
	var raw []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= s.maxBody {
		// One allocation of the announced size (io.ReadAll would grow its
		// buffer several times over); a body longer than announced still
		// meets the limit.
		buf := make([]byte, n+1)
		var k int
		k, err = io.ReadFull(body, buf)
		raw = buf[:k]
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			err = nil
		case err == nil: // longer than announced: the rest, within the limit
			var rest []byte
			rest, err = io.ReadAll(body)
			raw = append(raw, rest...)
		}
	} else {
		raw, err = io.ReadAll(body)
	}
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, ordo.Errorf(ordo.ETooLarge, "%s is larger than %d bytes", what, s.maxBody)
		}
		return nil, ordo.Errorf(ordo.EInvalid, "could not read the request body")
	}
	return raw, nil
}
