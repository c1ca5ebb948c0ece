package httpapi

import (
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// AppendEntityJSON appends rec as the API answers it (every field in
// registry order, then the owned lists), without OData annotations. The
// export command writes rows in this shape.
func AppendEntityJSON(b []byte, e *schema.Entity, rec ordo.Record) []byte {
	return appendRecord(b, e, rec, "")
}
