package service

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestSameJSON(t *testing.T) {
	decode := func(s string) any {
		var v any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{`{"a":1,"b":"x"}`, `{"b":"x","a":1}`, true},
		{`{"a":{"c":[1,2]},"b":null}`, `{"b":null,"a":{"c":[1,2]}}`, true},
		{`{"a":1}`, `{"a":"1"}`, false},
		{`{"a":true}`, `{"a":"true"}`, false},
		{`{"a":null}`, `{"a":""}`, false},
		{`{"a":"x,y"}`, `{"a":"x","y":""}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":{}}`, `{"a":[]}`, false},
	} {
		if got := sameJSON(decode(tc.a), decode(tc.b)); got != tc.equal {
			t.Errorf("%s vs %s: equal %v, want %v", tc.a, tc.b, got, tc.equal)
		}
	}
}
