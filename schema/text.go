package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// TextError reports a string the API refuses whatever its field: it holds a
// NUL character or is not valid UTF-8. PostgreSQL can store neither, so
// refusing them on every database keeps data movable between the two.
type TextError struct {
	Field  string
	Reason string
}

func (e *TextError) Error() string { return e.Field + " " + e.Reason }

// CheckText returns the reason s is refused ("" when it is fine).
func CheckText(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Sprintf("contains a NUL character (U+0000) at character %d", utf8.RuneCountInString(s[:i])+1)
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	return ""
}

// checkText is the one place values of every field kind pass through
// before they are converted (Field.Parse): any string a client sends,
// whether for a string, GUID or date field.
func checkText(field string, raw any) error {
	s, ok := raw.(string)
	if !ok {
		return nil
	}
	if reason := CheckText(s); reason != "" {
		return &TextError{Field: field, Reason: reason}
	}
	return nil
}
