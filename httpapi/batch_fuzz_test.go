package httpapi_test

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ordo-fsm/ordo/internal/testenv"
)

// FuzzBatch sends arbitrary $batch bodies, with and without an
// Idempotency-Key, as JSON or multipart/mixed: the answer is 200 or a client error, never a 500, and
// every inner response is never a 500 either.
func FuzzBatch(f *testing.F) {
	for _, seed := range []string{
		`{"requests":[{"id":"1","method":"POST","url":"Skill","body":{"code":"A","name":"A"}},{"id":"2","method":"GET","url":"$1"}]}`,
		`{"requests":[{"id":"1","method":"POST","url":"Jobs","atomicityGroup":"g","body":{"name":"x"}},{"id":"2","method":"DELETE","url":"$1","atomicityGroup":"g","dependsOn":["1"]}]}`,
		`{"requests":[{"id":"1","method":"PATCH","url":"$1/x?y","headers":{"If-Match":"*"},"body":[]}]}`,
		`{"requests":[{"id":"1","method":"GET","url":"http://other/api/Jobs?$filter=name eq 'x'"},{"id":"2","method":"GET","url":"/api/$metadata"}]}`,
		`{"requests":[{"id":"a","method":"PUT","url":"Jobs/ChangeToVirtualStatus","body":{"jobs_id":"nope"}},{"id":"g","method":"GET","url":"Jobs","atomicityGroup":"a"}]}`,
		`{"requests":[{"id":"1","method":"GET","url":"$batch"},{"id":"2","method":"POST","url":"Skill","body":null,"dependsOn":["1","1"]}]}`,
		`{"requests":null}`, `{"requests":[{}]}`, `{"requests":[{"id":1}]}`, `[`, `{"requests":[{"id":"1","method":"GET","url":"%zz"}]}`,
	} {
		f.Add(seed, false, false)
		f.Add(seed, true, false)
	}
	for _, seed := range []string{
		"--b\r\nContent-Type: application/http\r\n\r\nGET Skill HTTP/1.1\r\n\r\n\r\n--b--\r\n",
		"--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nPOST Skill HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"code\":\"A\",\"name\":\"A\"}\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 2\r\n\r\nDELETE $1 HTTP/1.1\r\n\r\n\r\n--c--\r\n--b--\r\n",
		"--b\r\nContent-Type: multipart/mixed\r\n\r\n--b--", "--b--", "--b\r\nContent-Type: application/http\r\n\r\nPOST\r\n--b--",
	} {
		f.Add(seed, false, true)
	}
	srv := testenv.NewServer(f, testenv.SQLite(f))
	c := srv.Tenant(f, "ACME")
	newFixture(f, c)
	keys := 0
	f.Fuzz(func(t *testing.T, body string, keyed, multipart bool) {
		c := *c
		c.SetT(t)
		var headers []string
		if keyed {
			keys++ // a fresh key each time, or the same body would be a replay
			headers = []string{"Idempotency-Key", fmt.Sprintf("fuzz-%d-%x", keys, sha256.Sum256([]byte(body)))}
		}
		if multipart {
			headers = append(headers, "Content-Type", "multipart/mixed; boundary=b")
		}
		r := c.Do("POST", "/api/$batch", body, headers...)
		if r.Status >= 500 {
			t.Fatalf("%q: %d %s", body, r.Status, r.Raw)
		}
		for _, x := range decodeResponses(r.Raw) {
			if x.Status >= 500 {
				t.Fatalf("%q: inner %s answered %d %s", body, x.ID, x.Status, x.Body)
			}
		}
	})
}

func decodeResponses(raw []byte) []batchResp {
	var out struct{ Responses []batchResp }
	_ = json.Unmarshal(raw, &out)
	return out.Responses
}
