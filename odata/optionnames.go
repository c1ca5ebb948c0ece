package odata

// The names of the query options, as OData 4.01 reads them.

import (
	"fmt"
	"slices"
	"strings"
)

// The system query options this package parses; any other name is an
// error (a misspelt $fitler must not silently return every row).
var optionNames = []string{"$filter", "$orderby", "$select", "$expand", "$top", "$skip", "$count", "$apply"}

// httpOptions are the system query options the HTTP layer handles itself.
var httpOptions = []string{"$skiptoken", "$format", "$deltatoken"}

// unsupportedOptions are OData's other system query options: named in a
// 400 that says they are not supported, rather than as unknown.
var unsupportedOptions = []string{"$search", "$compute", "$levels", "$index", "$schemaversion", "$id"}

// CanonicalOption gives the name of the system query option a query string
// key stands for, as OData 4.01 reads it: in any case, with or without its
// '$' ("filter", "$OrderBy" → "$filter", "$orderby"). ok is false for any
// other key; a parameter alias (@name) is neither.
func CanonicalOption(key string) (name string, ok bool) {
	name = strings.ToLower(key)
	if !strings.HasPrefix(name, "$") {
		name = "$" + name
	}
	for _, list := range [][]string{optionNames, httpOptions, unsupportedOptions} {
		for _, n := range list {
			if n == name {
				return name, true
			}
		}
	}
	return "", false
}

// UnknownOption is the error for a query string key that is neither a
// system query option nor a parameter alias.
func UnknownOption(key string) error {
	return &Error{Option: key, Pos: -1, Msg: fmt.Sprintf("unknown query option '%s'; the supported ones are %s (in any case, with or without '$'), $skiptoken, $deltatoken, $format and parameter aliases (@name)", key, strings.Join(optionNames, ", "))}
}

func knownOption(name string) bool {
	for _, n := range optionNames {
		if n == name {
			return true
		}
	}
	return false
}

// addOption files one query string pair: a system query option under its
// canonical name, a parameter alias, or an error. The HTTP layer's own
// options ($skiptoken, $format, $apply) are skipped.
func addOption(opts, aliases map[string]string, k, v string) *Error {
	if strings.HasPrefix(k, "@") {
		if len(k) == 1 || !isIdentStart(k[1]) || k[1] == '$' || identEnd(k, 1) != len(k) {
			return &Error{Option: k, Pos: -1, Msg: "a parameter alias is @ and a name, e.g. @title"}
		}
		if _, dup := aliases[k]; dup {
			return &Error{Option: k, Pos: -1, Msg: "the parameter alias is given more than once"}
		}
		aliases[k] = v
		return nil
	}
	name, ok := CanonicalOption(k)
	switch {
	case !ok:
		return UnknownOption(k).(*Error)
	case slices.Contains(unsupportedOptions, name):
		return &Error{Option: k, Pos: -1, Msg: name + " is not supported by this service (see docs/odata.md)"}
	case slices.Contains(httpOptions, name):
		return nil
	}
	if _, dup := opts[name]; dup {
		return &Error{Option: k, Pos: -1, Msg: "the option is given more than once (" + name + ")"}
	}
	opts[name] = v
	return nil
}
