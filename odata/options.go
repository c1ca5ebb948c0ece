package odata

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/ordo-fsm/ordo/schema"
)

// Query is the resolved set of OData system query options of one request (or
// of one level of $expand): every name exists in Entity and every expression
// is type-checked.
type Query struct {
	Entity  *schema.Entity
	Filter  *Filter         // nil without $filter
	OrderBy []OrderKey      // empty without $orderby
	Select  []*schema.Field // nil: every field ($select absent or *); else in request order, without repeats
	Expand  []*Expand
	Top     int // meaningful when HasTop
	HasTop  bool
	Skip    int
	Count   bool
	// Apply is the $apply transformation (nil without); $orderby, $top,
	// $skip and $count then apply to its result, ordered by ApplyOrder.
	Apply      *Apply
	ApplyOrder []ApplyOrder
}

// Expand is one navigation of $expand with its nested options, resolved
// against Nav.Target. For a to-one navigation only Select and Expand can be
// set; a to-many one may also have Filter, OrderBy, Top, Skip and Count.
type Expand struct {
	Nav *Navigation
	Query
}

// OrderKey is one $orderby key: a field reached through to-one navigations.
type OrderKey struct {
	Path  string        // as resolved, e.g. "project/company/name"
	Field *schema.Field // the sorted field
	Desc  bool
	col   *colNode
}

// ParseQuery parses and resolves the system query options in values against
// e. Option names are read as CanonicalOption reads them; @name keys are
// parameter aliases; any other key, and an option given twice, is an error.
// Errors are *Error.
//
// Note that url.ParseQuery (and so Request.URL.Query) drops a pair that
// contains ';', which $expand's nested options use: prefer ParseRawQuery with
// Request.URL.RawQuery.
func ParseQuery(e *schema.Entity, values url.Values, lim Limits) (*Query, error) {
	opts := map[string]string{}
	aliases := map[string]string{}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range values[k] {
			if err := addOption(opts, aliases, k, v); err != nil {
				return nil, err
			}
		}
	}
	q, err := parseQuery(e, opts, aliases, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	return q, nil
}

// ParseRawQuery is ParseQuery on a raw (still percent-encoded) query string:
// pairs are separated by '&' only, so ';' inside $expand needs no encoding.
func ParseRawQuery(e *schema.Entity, rawQuery string, lim Limits) (*Query, error) {
	lim = lim.withDefaults()
	if len(rawQuery) > lim.MaxQueryLength {
		return nil, &Error{Pos: -1, Msg: fmt.Sprintf("the query string is %d bytes long; the maximum query length is %d", len(rawQuery), lim.MaxQueryLength)}
	}
	opts := map[string]string{}
	aliases := map[string]string{}
	for _, pair := range strings.Split(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		k, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, &Error{Pos: -1, Msg: "malformed query string: bad percent-encoding in " + strconv.Quote(rawKey)}
		}
		v, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, &Error{Option: k, Pos: -1, Msg: "bad percent-encoding in the value"}
		}
		if err := addOption(opts, aliases, k, v); err != nil {
			return nil, err
		}
	}
	q, err := parseQuery(e, opts, aliases, lim.withDefaults())
	if err != nil {
		return nil, err
	}
	return q, nil
}

func parseQuery(e *schema.Entity, opts, aliases map[string]string, lim Limits) (*Query, *Error) {
	raw := &rawOptions{}
	for _, name := range optionNames {
		text, ok := opts[name]
		if !ok {
			continue
		}
		if err := checkText(name, text, lim); err != nil {
			return nil, err
		}
		if text != "" && isSpace(text[0]) {
			return nil, &Error{Option: name, Pos: 0, Msg: "the value starts with a space; the OData grammar allows none after '='"}
		}
		p, err := newParser(name, text, 0, lim)
		if err != nil {
			return nil, err
		}
		p.aliases = aliases
		if err := p.topOption(raw, name); err != nil {
			return nil, err
		}
	}
	return resolveOptions(e, raw, lim)
}

// rawOptions are parsed but unresolved options of one query level.
type rawOptions struct {
	nested  string // "$expand" for options nested in $expand: errors name that option
	filter  Expr
	orderBy []orderItem
	sel     []selItem
	hasSel  bool
	expand  []*expandItem
	top     int
	hasTop  bool
	skip    int
	count   bool
	apply   *rawApply
	set     map[string]int // option name → position, to reject repeats and misplaced options
}

type orderItem struct {
	x    Expr
	desc bool
}

type selItem struct {
	name string
	at   int
	star bool
}

type expandItem struct {
	name string
	at   int
	opts *rawOptions
}

// topOption parses the whole text of a top-level option into raw.
func (p *parser) topOption(raw *rawOptions, name string) (err *Error) {
	defer catch(&err)
	p.value(raw, name, 1)
	if t := p.peek(); t.kind != tokEOF {
		p.fail(t.pos, "expected ',' or the end of %s, found %s", name, t.describe())
	}
	return nil
}

// value parses the value of option name (its tokens up to EOF) into raw;
// level is the $expand level the option belongs to.
func (p *parser) value(raw *rawOptions, name string, level int) {
	if raw.set == nil {
		raw.set = map[string]int{}
	}
	raw.set[name] = p.peek().pos
	switch name {
	case "$filter":
		x, err := p.filter()
		if err != nil {
			panic(abort{err})
		}
		raw.filter = x
	case "$orderby":
		raw.orderBy = p.parseOrderBy()
	case "$select":
		raw.sel, raw.hasSel = p.parseSelect(), true
	case "$expand":
		raw.expand = p.parseExpand(level)
	case "$top":
		raw.top, raw.hasTop = p.parseCount(name), true
		if raw.top > p.lim.MaxTop {
			p.fail(raw.set[name], "$top is %d; the maximum $top is %d", raw.top, p.lim.MaxTop)
		}
	case "$skip":
		raw.skip = p.parseCount(name)
	case "$apply":
		if level > 1 {
			p.fail(raw.set[name], "$apply is not supported inside $expand")
		}
		raw.apply = p.parseApply()
	case "$count":
		t := p.next()
		if t.kind != tokIdent || (!strings.EqualFold(t.text, "true") && !strings.EqualFold(t.text, "false")) {
			p.fail(t.pos, "expected true or false, found %s", t.describe())
		}
		raw.count = strings.EqualFold(t.text, "true")
	}
}

// parseCount reads a non-negative integer ($top, $skip).
func (p *parser) parseCount(name string) int {
	t := p.next()
	if t.kind != tokInt {
		p.fail(t.pos, "%s needs a non-negative integer, found %s", name, t.describe())
	}
	n, err := strconv.ParseInt(t.text, 10, 32)
	if err != nil {
		p.fail(t.pos, "%s is out of range", t.text)
	}
	return int(n)
}

func (p *parser) parseOrderBy() []orderItem {
	var items []orderItem
	for {
		x := p.parseExpr("")
		it := orderItem{x: x}
		switch {
		case p.isWord("asc"):
			p.next()
		case p.isWord("desc"):
			p.next()
			it.desc = true
		}
		items = append(items, it)
		t := p.peek()
		if t.kind != tokComma {
			if t.kind != tokEOF {
				p.fail(t.pos, "expected asc, desc, ',' or the end of $orderby, found %s", t.describe())
			}
			return items
		}
		p.next()
	}
}

func (p *parser) parseSelect() []selItem {
	var items []selItem
	for {
		t := p.next()
		switch {
		case t.kind == tokStar:
			items = append(items, selItem{at: t.pos, star: true})
		case t.kind == tokIdent && !strings.HasPrefix(t.text, "$"):
			if p.peek().kind == tokSlash {
				p.fail(p.peek().pos, "$select takes property names of this entity; to include %s use $expand", t.text)
			}
			items = append(items, selItem{name: t.text, at: t.pos})
		default:
			p.fail(t.pos, "expected a property name or *, found %s", t.describe())
		}
		t = p.peek()
		if t.kind != tokComma {
			if t.kind != tokEOF {
				p.fail(t.pos, "expected ',' or the end of $select, found %s", t.describe())
			}
			return items
		}
		p.next()
	}
}

// parseExpand reads nav, nav(options), ... at $expand level level (1 at the top).
func (p *parser) parseExpand(level int) []*expandItem {
	var items []*expandItem
	for {
		t := p.next()
		switch {
		case t.kind == tokStar:
			p.fail(t.pos, "$expand=* is not supported: name the navigation properties")
		case t.kind != tokIdent || strings.HasPrefix(t.text, "$"):
			p.fail(t.pos, "expected a navigation property name, found %s", t.describe())
		}
		if level > p.lim.MaxExpandDepth {
			p.fail(t.pos, "$expand is nested deeper than %d levels (the maximum expand depth)", p.lim.MaxExpandDepth)
		}
		if p.peek().kind == tokSlash {
			p.fail(p.peek().pos, "expand paths are not supported: write %s($expand=...)", t.text)
		}
		it := &expandItem{name: t.text, at: t.pos}
		if p.peek().kind == tokLParen {
			p.next()
			it.opts = p.parseNested(level, t)
		}
		items = append(items, it)
		if p.peek().kind != tokComma {
			return items // the caller checks what follows
		}
		p.next()
	}
}

// parseNested reads "$opt=value;$opt=value)" after nav's '('. Each value is
// the run of tokens up to a ';' or ')' outside parentheses, parsed by a
// parser of its own so that it sees a clean end.
func (p *parser) parseNested(level int, nav token) *rawOptions {
	raw := &rawOptions{nested: p.option}
	for {
		name := p.next()
		if name.kind != tokIdent {
			p.fail(name.pos, "expected a query option such as $select=... in the parentheses of %s, found %s", nav.text, name.describe())
		}
		canon, ok := CanonicalOption(name.text)
		if !ok || !knownOption(canon) {
			p.fail(name.pos, "unknown query option %s; the supported ones are %s", name.text, strings.Join(optionNames, ", "))
		}
		if _, dup := raw.set[canon]; dup {
			p.fail(name.pos, "%s is given more than once for %s", name.text, nav.text)
		}
		eq := p.expect(tokEquals, "'=' after "+name.text)
		if t := p.peek(); t.kind != tokEOF && t.pos > eq.pos+1 {
			p.fail(eq.pos+1, "a space after '=' is not allowed by the OData grammar")
		}
		name.text = canon
		start, depth := p.i, 0
	scan:
		for {
			switch p.peek().kind {
			case tokEOF:
				break scan
			case tokLParen:
				depth++
			case tokRParen:
				if depth == 0 {
					break scan
				}
				depth--
			case tokSemicolon:
				if depth == 0 {
					break scan
				}
			}
			p.next()
		}
		end := p.peek().pos
		sub := p.sub(p.toks[start:p.i], end)
		if start == p.i {
			p.fail(end, "expected a value for %s", name.text)
		}
		sub.value(raw, name.text, level+1)
		if t := sub.peek(); t.kind != tokEOF {
			sub.fail(t.pos, "expected ';' or ')' after the value of %s, found %s", name.text, t.describe())
		}
		switch t := p.next(); t.kind {
		case tokSemicolon:
			continue
		case tokRParen:
			return raw
		default:
			p.fail(t.pos, "expected ')' to close the options of %s, found %s", nav.text, t.describe())
		}
	}
}

// option is the name errors of this level report for option name.
func (raw *rawOptions) option(name string) string {
	if raw.nested != "" {
		return raw.nested
	}
	return name
}

func resolveOptions(e *schema.Entity, raw *rawOptions, lim Limits) (q *Query, err *Error) {
	defer catch(&err)
	q = &Query{Entity: e, Top: raw.top, HasTop: raw.hasTop, Skip: raw.skip, Count: raw.count}
	r := newResolver(e, lim)
	if raw.apply != nil {
		for _, name := range []string{"$filter", "$select", "$expand"} {
			if _, set := raw.set[name]; set {
				return nil, &Error{Option: name, Pos: -1, Msg: "is not supported together with $apply: put filter(...) first in $apply, and the properties to read in its groupby"}
			}
		}
		q.Apply = resolveApply(e, raw.apply, r)
		q.ApplyOrder = resolveApplyOrder(q.Apply, raw.orderBy, raw.option("$orderby"))
		return q, nil
	}
	if raw.filter != nil {
		f, err := r.filter(raw.option("$filter"), raw.filter)
		if err != nil {
			return nil, err
		}
		q.Filter = f
	}
	r.option = raw.option("$orderby")
	for _, it := range raw.orderBy {
		x := it.x
		for a, isAlias := x.(*Alias); isAlias; a, isAlias = x.(*Alias) {
			x = a.Value
		}
		path, ok := x.(*Path)
		if !ok {
			r.fail(it.x.Pos(), "$orderby takes property paths, e.g. name or project/name desc; %s is not one", brief(it.x))
		}
		c := r.path(path)
		q.OrderBy = append(q.OrderBy, OrderKey{Path: c.path(), Field: c.field, Desc: it.desc, col: c})
	}
	r.option = raw.option("$select")
	q.Select = resolveSelect(r, e, raw)
	r.option = raw.option("$expand")
	seen := map[string]bool{}
	for _, it := range raw.expand {
		nav, ok := NavigationOf(e, it.name)
		if !ok {
			if _, isField := e.Field(it.name); isField {
				r.fail(it.at, "%s is a property of %s, not a navigation: use $select", it.name, e.Name)
			}
			r.unknown(e, Segment{Name: it.name, At: it.at}, false, true)
		}
		if seen[it.name] {
			r.fail(it.at, "%s is expanded more than once", it.name)
		}
		seen[it.name] = true
		x := &Expand{Nav: nav, Query: Query{Entity: nav.Target}}
		if it.opts != nil {
			if !nav.Many {
				for _, name := range []string{"$filter", "$orderby", "$top", "$skip", "$count"} {
					if pos, set := it.opts.set[name]; set {
						r.fail(pos, "%s applies to collections; %s is a single navigation (only $select and $expand apply)", name, it.name)
					}
				}
			}
			sub, err := resolveOptions(nav.Target, it.opts, lim)
			if err != nil {
				return nil, err
			}
			x.Query = *sub
		}
		q.Expand = append(q.Expand, x)
	}
	return q, nil
}

func resolveSelect(r *resolver, e *schema.Entity, raw *rawOptions) []*schema.Field {
	if !raw.hasSel {
		return nil
	}
	var out []*schema.Field
	seen := map[string]bool{}
	all := false
	for _, it := range raw.sel {
		if it.star {
			all = true
			continue
		}
		f, ok := e.Field(it.name)
		if !ok {
			if _, isNav := NavigationOf(e, it.name); isNav {
				r.fail(it.at, "%s is a navigation of %s: use $expand=%s", it.name, e.Name, it.name)
			}
			r.unknown(e, Segment{Name: it.name, At: it.at}, true, false)
		}
		if !seen[f.Name] {
			seen[f.Name] = true
			out = append(out, f)
		}
	}
	if all {
		return nil
	}
	return out
}
