package httpapi

import (
	"strings"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// parseKey reads the key of an entity URL. In parentheses, exactly three
// forms are keys: Jobs(<guid>), Jobs('<guid>') and, as OData v3 writes it and
// as docs/api.md has always promised, Jobs(guid'<guid>'); a GUID is the
// canonical 8-4-4-4-12 hexadecimal form, either case. Anything else in the
// parentheses (a stray quote, braces, a number, a NUL) is a malformed key:
// 400. After a slash (Jobs/<guid>) only a bare GUID is a key; other segments
// name no resource: 404.
func parseKey(key string, parenthesised bool) (string, error) {
	k := key
	if parenthesised {
		switch {
		case len(k) >= 6 && strings.EqualFold(k[:5], "guid'") && k[len(k)-1] == '\'':
			k = k[5 : len(k)-1]
		case len(k) >= 2 && k[0] == '\'' && k[len(k)-1] == '\'':
			k = k[1 : len(k)-1]
		}
	}
	if !isCanonicalGUID(k) {
		if parenthesised {
			return "", ordo.FieldError("MalformedKey", "key", "malformed key %q: give a GUID, e.g. (%s) or ('%s')", key, schema.ZeroGUID, schema.ZeroGUID)
		}
		return "", ordo.Errorf(ordo.ENotFound, "no resource %q: a key is a GUID", key)
	}
	return strings.ToLower(k), nil
}

// isCanonicalGUID: 36 characters, hyphens at 8, 13, 18 and 23, hexadecimal
// digits elsewhere.
func isCanonicalGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
