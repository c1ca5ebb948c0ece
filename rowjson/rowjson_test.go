package rowjson

import (
	"encoding/json"
	"testing"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// TestNamesNeedNoEscaping: AppendRecord writes field names without
// escaping, which is right only while every name of the registry (owned-list
// children included) is written the same by schema.AppendJSONString.
func TestNamesNeedNoEscaping(t *testing.T) {
	seen := map[*schema.Entity]bool{}
	var walk func(e *schema.Entity)
	walk = func(e *schema.Entity) {
		if seen[e] {
			return
		}
		seen[e] = true
		for _, f := range e.Fields {
			if got, want := string(schema.AppendJSONString(nil, f.Name)), `"`+f.Name+`"`; got != want {
				t.Errorf("%s.%s: escaped as %s", e.Name, f.Name, got)
			}
		}
		for _, l := range e.Lists {
			walk(l.Child)
		}
	}
	for _, e := range schema.Default.Entities {
		walk(e)
	}
	if len(seen) == 0 {
		t.Fatal("the registry has no entities")
	}
}

func TestAppendRecord(t *testing.T) {
	child := &schema.Entity{Name: "child", Fields: []*schema.Field{
		{Name: "label", Kind: schema.KindString},
		{Name: "n", Kind: schema.KindInt, Default: int64(7)},
	}}
	parent := &schema.Entity{Name: "parent", Fields: []*schema.Field{
		{Name: "name", Kind: schema.KindString},
		{Name: "count", Kind: schema.KindInt},
		{Name: "on", Kind: schema.KindBool},
	}, Lists: []*schema.OwnedList{{Name: "children", Child: child}}}

	rec := ordo.Record{
		"name":     "a \"quoted\"\nname",
		"count":    int64(3),
		"ignored":  "not a field",
		"children": []ordo.Record{{"label": "x", "n": int64(1)}, {"label": "y"}},
	}
	for _, tc := range []struct {
		extra, want string
	}{
		{"", `{"name":"a \"quoted\"\nname","count":3,"on":false,"children":[{"label":"x","n":1},{"label":"y","n":7}]}`},
		{`"@odata.etag":"W/\"1\""`, `{"@odata.etag":"W/\"1\"","name":"a \"quoted\"\nname","count":3,"on":false,"children":[{"label":"x","n":1},{"label":"y","n":7}]}`},
	} {
		got := string(AppendRecord([]byte("prefix"), parent, rec, tc.extra))
		if got != "prefix"+tc.want {
			t.Errorf("extra %q:\n got %s\nwant prefix%s", tc.extra, got, tc.want)
		}
		if !json.Valid([]byte(got[len("prefix"):])) {
			t.Errorf("extra %q: not valid JSON: %s", tc.extra, got)
		}
	}

	// A missing list is written empty.
	got := string(AppendRecord(nil, parent, ordo.Record{}, ""))
	if want := `{"name":"","count":0,"on":false,"children":[]}`; got != want {
		t.Errorf("empty row:\n got %s\nwant %s", got, want)
	}
	if got, want := string(AppendList(nil, parent.Lists[0], rec)), `"children":[{"label":"x","n":1},{"label":"y","n":7}]`; got != want {
		t.Errorf("AppendList:\n got %s\nwant %s", got, want)
	}
}
