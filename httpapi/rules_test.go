package httpapi_test

// Black-box tests of the business rules of the API contract (sections 4-6
// and 9 of docs/api-contract): every test speaks HTTP to a real server on a
// real database, once per database (testenv.Each), and reads rows back with
// GET after writing them.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/internal/testenv"
)

type rlObj = map[string]any

const rlZeroGUID = "00000000-0000-0000-0000-000000000000"

var rlZeroDate = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// rlOmit, as a value in a body override, removes the key from the body.
const rlOmit = "\x00omit"

// ---------------------------------------------------------------------------
// Helpers

// rlAPI wraps a tenant's client so that every assertion is made on the test
// (or subtest) at hand.
type rlAPI struct{ c *testenv.Client }

func (a rlAPI) do(t *testing.T, method, path string, body any, headers ...string) *testenv.Response {
	t.Helper()
	return a.c.Do(method, path, body, headers...)
}

func (a rlAPI) must(t *testing.T, want int, method, path string, body any, headers ...string) rlObj {
	t.Helper()
	r := a.do(t, method, path, body, headers...)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r.Body
}

func rlPath(ctrl, id string) string { return "/api/" + ctrl + "(" + id + ")" }

func (a rlAPI) create(t *testing.T, ctrl string, body rlObj) string {
	t.Helper()
	return rlStr(a.must(t, 201, "POST", "/api/"+ctrl, body), "id")
}

func (a rlAPI) get(t *testing.T, ctrl, id string) rlObj {
	t.Helper()
	return a.must(t, 200, "GET", rlPath(ctrl, id), nil)
}

func (a rlAPI) put(t *testing.T, ctrl, id string, body rlObj) rlObj {
	t.Helper()
	return a.must(t, 200, "PUT", rlPath(ctrl, id), body)
}

// list reads every row of a controller, following nextLink.
func (a rlAPI) list(t *testing.T, ctrl string) []rlObj {
	t.Helper()
	var out []rlObj
	path := "/api/" + ctrl
	for page := 0; path != "" && page < 100; page++ {
		b := a.must(t, 200, "GET", path, nil)
		vals, _ := b["value"].([]any)
		for _, v := range vals {
			out = append(out, v.(rlObj))
		}
		path = ""
		if next, ok := b["@odata.nextLink"].(string); ok {
			if i := strings.Index(next, "/api/"); i >= 0 {
				path = next[i:]
			}
		}
	}
	return out
}

// where lists the rows of ctrl whose field equals value.
func (a rlAPI) where(t *testing.T, ctrl, field, value string) []rlObj {
	t.Helper()
	var out []rlObj
	for _, r := range a.list(t, ctrl) {
		if rlStr(r, field) == value {
			out = append(out, r)
		}
	}
	return out
}

func rlStr(m rlObj, k string) string {
	switch v := m[k].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func rlNum(t *testing.T, m rlObj, k string) int64 {
	t.Helper()
	n, ok := m[k].(json.Number)
	if !ok {
		t.Fatalf("%s = %#v, not a number", k, m[k])
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatalf("%s = %s: %v", k, n, err)
	}
	return i
}

func rlDate(t *testing.T, m rlObj, k string) time.Time {
	t.Helper()
	s, ok := m[k].(string)
	if !ok {
		t.Fatalf("%s = %#v, not a date string", k, m[k])
	}
	d, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s = %q: %v", k, s, err)
	}
	return d.UTC()
}

func rlTime(s string) time.Time {
	d, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return d.UTC()
}

func rlEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func rlEqTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %s, want %s", what, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

// about checks that got lies in [from, to], with a second of slack.
func rlAbout(t *testing.T, what string, got, from, to time.Time) {
	t.Helper()
	if got.Before(from.Add(-time.Second)) || got.After(to.Add(time.Second)) {
		t.Errorf("%s = %s, want between %s and %s", what, got.Format(time.RFC3339Nano),
			from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano))
	}
}

// wantError checks an error answer: its status, and that its message names
// every one of names.
func rlWantError(t *testing.T, r *testenv.Response, status int, names ...string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if r.Body["error"] == nil {
		t.Errorf("error answer without an error object: %s", r.Raw)
	}
	msg := r.ErrorMessage()
	for _, n := range names {
		if !strings.Contains(msg, n) {
			t.Errorf("error message %q does not name %q", msg, n)
		}
	}
}

func rlDetails(r *testenv.Response) []rlObj {
	e, _ := r.Body["error"].(rlObj)
	raw, _ := e["details"].([]any)
	var out []rlObj
	for _, d := range raw {
		if m, ok := d.(rlObj); ok {
			out = append(out, m)
		}
	}
	return out
}

// wantDetail checks that the error's details hold one with that code and target.
func rlWantDetail(t *testing.T, r *testenv.Response, code, target string) {
	t.Helper()
	for _, d := range rlDetails(r) {
		if rlStr(d, "target") == target && (code == "" || rlStr(d, "code") == code) {
			return
		}
	}
	t.Errorf("no detail {code %q, target %q} in %s", code, target, r.Raw)
}

func rlNewGUID() string { return uuid.NewString() }

// world is a tenant with the rows most tests need: a default project status,
// a company, a project, a job type and a technician.
type rlWorld struct {
	rlAPI
	srv                                                *testenv.Server
	companyID, projectID, jobTypeID, userID, defaultPS string
}

func rlNewWorld(t *testing.T, dsn string) *rlWorld {
	t.Helper()
	return rlTenantWorld(t, testenv.NewServer(t, dsn), "ACME")
}

func rlTenantWorld(t *testing.T, srv *testenv.Server, domain string) *rlWorld {
	t.Helper()
	w := &rlWorld{rlAPI: rlAPI{c: srv.Tenant(t, domain)}, srv: srv}
	w.defaultPS = w.create(t, "ProjectStatus", rlObj{"code": "ACTIVE", "name": "Active", "is_default": true})
	w.companyID = w.create(t, "Company", rlObj{"code": "C1", "name": "Company One"})
	w.projectID = w.create(t, "Project", rlObj{"reference_back_office": "P1", "name": "Project One", "company_id": w.companyID})
	w.jobTypeID = w.create(t, "JobType", rlObj{"code": "JT1", "name": "Repair"})
	w.userID = w.create(t, "User", rlObj{"code": "U1", "username": "tech1", "lastname": "Tech"})
	return w
}

// jobBody is a valid new job on the world's project, with over applied.
func (w *rlWorld) jobBody(over rlObj) rlObj {
	b := rlObj{"name": "Job", "project_id": w.projectID, "job_type_id": w.jobTypeID, "job_status_code": "Open"}
	for k, v := range over {
		if v == rlOmit {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	return b
}

func (w *rlWorld) newJob(t *testing.T, over rlObj) string {
	t.Helper()
	return w.create(t, "Jobs", w.jobBody(over))
}

// tenantStatus creates a tenant ("virtual") job status on a system status.
func (w *rlWorld) tenantStatus(t *testing.T, code, system string, usable bool) string {
	t.Helper()
	return w.create(t, "JobStatus", rlObj{"code": code, "name": code, "system_job_status_code": system, "usable_on_api": usable})
}

// plan adds a planning of the world's technician to a job.
func (w *rlWorld) plan(t *testing.T, jobID string, from time.Time, minutes int) string {
	t.Helper()
	return w.create(t, "JobPlanning", rlObj{"jobs_id": jobID, "user_id": w.userID,
		"date_from": from.Format(time.RFC3339), "date_to": from.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339)})
}

func (w *rlWorld) setStatus(t *testing.T, jobID, code string) {
	t.Helper()
	w.put(t, "Jobs", jobID, rlObj{"job_status_code": code})
	rlEq(t, "job_status_code after PUT", rlStr(w.get(t, "Jobs", jobID), "job_status_code"), code)
}

func (w *rlWorld) jobStatus(t *testing.T, jobID string) string {
	t.Helper()
	return rlStr(w.get(t, "Jobs", jobID), "job_status_code")
}

// ---------------------------------------------------------------------------
// 1. The three forms of a reference and their resolution order.

func TestRuleReferenceForms(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)

		t.Run("each form resolves to the same row and reads fill _id and _code", func(t *testing.T) {
			w := rlTenantWorld(t, srv, "FORMS")
			forms := []struct {
				name string
				over rlObj
			}{
				{"id", rlObj{"job_type_id": w.jobTypeID}},
				{"code", rlObj{"job_type_id": rlOmit, "job_type_code": "JT1"}},
				{"id and matching code", rlObj{"job_type_id": w.jobTypeID, "job_type_code": "JT1"}},
				{"embedded by id", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"id": w.jobTypeID}}},
				{"embedded by code", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"code": "JT1"}}},
				{"embedded by x_id", rlObj{"job_type_id": w.jobTypeID, "job_type": rlObj{"name": "Repair"}}},
			}
			for _, f := range forms {
				t.Run(f.name, func(t *testing.T) {
					id := w.newJob(t, f.over)
					j := w.get(t, "Jobs", id)
					rlEq(t, "job_type_id", rlStr(j, "job_type_id"), w.jobTypeID)
					rlEq(t, "job_type_code", rlStr(j, "job_type_code"), "JT1")
					// The other references given by one form have their other form filled.
					rlEq(t, "project_reference_back_office", rlStr(j, "project_reference_back_office"), "P1")
					rlEq(t, "job_status_id", rlStr(j, "job_status_id"), ordo.StatusOpen)
				})
			}
			rlEq(t, "job types (no insert)", len(w.list(t, "JobType")), 1)
			rlEq(t, "job type name", rlStr(w.get(t, "JobType", w.jobTypeID), "name"), "Repair")

			// The project by its ERP key, the status by its id: the other forms are filled on read.
			id := w.newJob(t, rlObj{"project_id": rlOmit, "project_reference_back_office": "P1",
				"job_status_code": rlOmit, "job_status_id": ordo.StatusToBePlanned})
			j := w.get(t, "Jobs", id)
			rlEq(t, "project_id", rlStr(j, "project_id"), w.projectID)
			rlEq(t, "job_status_code", rlStr(j, "job_status_code"), "ToBePlanned")
			rlEq(t, "company_code", rlStr(j, "company_code"), "C1")
		})

		t.Run("embedded object resolution order", func(t *testing.T) {
			w := rlTenantWorld(t, srv, "ORDER")
			a := w.create(t, "JobType", rlObj{"code": "A", "name": "Type A", "description": "desc A"})
			w.create(t, "JobType", rlObj{"code": "B", "name": "Type B"})

			// 1. Its own id wins over its ERP key: found by id, the code is updated.
			id := w.newJob(t, rlObj{"job_type_id": rlOmit, "job_type": rlObj{"id": a, "code": "A2", "name": "Type A bis"}})
			rlEq(t, "job_type_id (by own id)", rlStr(w.get(t, "Jobs", id), "job_type_id"), a)
			ta := w.get(t, "JobType", a)
			rlEq(t, "code updated", rlStr(ta, "code"), "A2")
			rlEq(t, "name updated", rlStr(ta, "name"), "Type A bis")
			rlEq(t, "description kept", rlStr(ta, "description"), "desc A")
			rlEq(t, "job types", len(w.list(t, "JobType")), 3)

			// 2. Its ERP key wins over the body's x_id: B is found, and the x_id naming A is a mismatch.
			r := w.do(t, "POST", "/api/Jobs", w.jobBody(rlObj{"job_type_id": a, "job_type": rlObj{"code": "B"}}))
			rlWantError(t, r, 400)
			rlWantDetail(t, r, "", "job_type_id")

			// 3. The x_id last: an object with neither id nor ERP key updates the x_id row.
			id = w.newJob(t, rlObj{"job_type_id": a, "job_type": rlObj{"description": "via x_id"}})
			rlEq(t, "job_type_id (by x_id)", rlStr(w.get(t, "Jobs", id), "job_type_id"), a)
			ta = w.get(t, "JobType", a)
			rlEq(t, "description via x_id", rlStr(ta, "description"), "via x_id")
			rlEq(t, "name kept", rlStr(ta, "name"), "Type A bis")

			// Only differing properties are written: an identical object leaves the row untouched.
			before := rlDate(t, ta, "modified_dateutc")
			time.Sleep(5 * time.Millisecond)
			w.newJob(t, rlObj{"job_type_id": rlOmit, "job_type": rlObj{"code": "A2", "name": "Type A bis"}})
			rlEqTime(t, "modified_dateutc of an unchanged embedded row", rlDate(t, w.get(t, "JobType", a), "modified_dateutc"), before)
			// A differing property is written, and the watermark moves.
			w.newJob(t, rlObj{"job_type_id": rlOmit, "job_type": rlObj{"code": "A2", "name": "Type A ter"}})
			ta = w.get(t, "JobType", a)
			rlEq(t, "name updated by ERP key", rlStr(ta, "name"), "Type A ter")
			if !rlDate(t, ta, "modified_dateutc").After(before) {
				t.Errorf("modified_dateutc of an updated embedded row did not move: %s", rlStr(ta, "modified_dateutc"))
			}

			// Not found: inserted with its own id, else the x_id, else a new one.
			cases := []struct {
				name   string
				over   rlObj
				wantID string
				code   string
			}{
				{"by ERP key", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"code": "NEW1", "name": "New 1"}}, "", "NEW1"},
				{"with its own id", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"id": "2f0c4b5e-0d5c-4a3c-9a47-000000000001", "code": "NEW2", "name": "New 2"}},
					"2f0c4b5e-0d5c-4a3c-9a47-000000000001", "NEW2"},
				{"with the x_id", rlObj{"job_type_id": "2f0c4b5e-0d5c-4a3c-9a47-000000000002", "job_type": rlObj{"code": "NEW3", "name": "New 3"}},
					"2f0c4b5e-0d5c-4a3c-9a47-000000000002", "NEW3"},
				{"with the x_id and no ERP key", rlObj{"job_type_id": "2f0c4b5e-0d5c-4a3c-9a47-000000000003", "job_type": rlObj{"name": "New 4"}},
					"2f0c4b5e-0d5c-4a3c-9a47-000000000003", ""},
			}
			for _, c := range cases {
				t.Run("insert "+c.name, func(t *testing.T) {
					n := len(w.list(t, "JobType"))
					j := w.get(t, "Jobs", w.newJob(t, c.over))
					typeID := rlStr(j, "job_type_id")
					if c.wantID != "" {
						rlEq(t, "job_type_id", typeID, c.wantID)
					}
					rlEq(t, "job_type_code", rlStr(j, "job_type_code"), c.code)
					jt := w.get(t, "JobType", typeID)
					rlEq(t, "inserted code", rlStr(jt, "code"), c.code)
					rlEq(t, "job types", len(w.list(t, "JobType")), n+1)
				})
			}
		})

		t.Run("errors", func(t *testing.T) {
			w := rlTenantWorld(t, srv, "ERRS")
			w.create(t, "JobType", rlObj{"code": "B", "name": "Type B"})
			cases := []struct {
				name   string
				over   rlObj
				status int
				target string
			}{
				{"x_id names another row than the embedded object", rlObj{"job_type": rlObj{"code": "B"}}, 400, "job_type_id"},
				{"x_id names another row than an inserted embedded object", rlObj{"job_type": rlObj{"code": "ZZ", "name": "zz"}}, 400, "job_type_id"},
				{"unknown x_id", rlObj{"job_type_id": rlNewGUID()}, 422, ""},
				{"unknown x_code", rlObj{"job_type_id": rlOmit, "job_type_code": "NOPE"}, 422, ""},
				{"unknown project code", rlObj{"project_id": rlOmit, "project_reference_back_office": "NOPE"}, 422, ""},
				{"unknown status code", rlObj{"job_status_code": "NOPE"}, 422, ""},
				{"embedded without id, ERP key or x_id", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"name": "Anonymous"}}, 422, ""},
				{"x_code does not match the row of x_id", rlObj{"job_type_code": "B"}, 400, "job_type_code"},
				{"x_code does not match the embedded row", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"code": "JT1"}, "job_type_code": "B"}, 400, "job_type_code"},
				{"embedded is not an object", rlObj{"job_type_id": rlOmit, "job_type": "JT1"}, 400, "job_type"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := w.do(t, "POST", "/api/Jobs", w.jobBody(c.over))
					rlWantError(t, r, c.status)
					if c.target != "" {
						rlWantDetail(t, r, "", c.target)
					}
				})
			}
			rlEq(t, "jobs after refused writes", len(w.list(t, "Jobs")), 0)
			for _, jt := range w.list(t, "JobType") {
				if c := rlStr(jt, "code"); c != "JT1" && c != "B" {
					t.Errorf("a refused write left job type %q behind", c)
				}
			}
		})

		t.Run("changing an ERP key updates the _code of referencing rows", func(t *testing.T) {
			w := rlTenantWorld(t, srv, "CASCADE")
			job := w.newJob(t, rlObj{"reference_back_office": "J1"})
			child := w.newJob(t, rlObj{"_parent_id": job})
			w.put(t, "JobType", w.jobTypeID, rlObj{"code": "JT1-NEW"})
			w.put(t, "Project", w.projectID, rlObj{"reference_back_office": "P1-NEW"})
			w.put(t, "Company", w.companyID, rlObj{"code": "C1-NEW"})
			w.put(t, "Jobs", job, rlObj{"reference_back_office": "J1-NEW"})
			j := w.get(t, "Jobs", job)
			rlEq(t, "job_type_code", rlStr(j, "job_type_code"), "JT1-NEW")
			rlEq(t, "project_reference_back_office", rlStr(j, "project_reference_back_office"), "P1-NEW")
			rlEq(t, "company_code", rlStr(j, "company_code"), "C1-NEW")
			rlEq(t, "project company_code", rlStr(w.get(t, "Project", w.projectID), "company_code"), "C1-NEW")
			rlEq(t, "child _parent_jobs_reference_back_office", rlStr(w.get(t, "Jobs", child), "_parent_jobs_reference_back_office"), "J1-NEW")
			// The new codes resolve.
			w.newJob(t, rlObj{"job_type_id": rlOmit, "job_type_code": "JT1-NEW", "project_id": rlOmit, "project_reference_back_office": "P1-NEW"})
		})
	})
}

// ---------------------------------------------------------------------------
// 2. Nested embedded objects.

func TestRuleNestedEmbedded(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		so := func() rlObj { return rlObj{"code": "SO1", "name": "Sales North"} }
		body := func(brandName string) rlObj {
			return rlObj{
				"reference_back_office": "INST-1", "name": "Boiler 1",
				"company":          rlObj{"code": "C9", "name": "Nested Co", "sales_organization": so()},
				"equipment_family": rlObj{"code": "FAM1", "name": "Boilers", "sales_organization": so()},
				"equipment_model": rlObj{"code": "M1", "name": "Model 1", "sales_organization": so(),
					"equipment_family": rlObj{"code": "FAM1", "name": "Boilers"},
					"equipment_brand":  rlObj{"code": "B1", "name": brandName, "sales_organization": so()},
				},
			}
		}
		pid := w.create(t, "Project", body("Brand 1"))
		p := w.get(t, "Project", pid)
		rlEq(t, "project equipment_model_code", rlStr(p, "equipment_model_code"), "M1")
		rlEq(t, "project equipment_family_code", rlStr(p, "equipment_family_code"), "FAM1")
		rlEq(t, "project company_code", rlStr(p, "company_code"), "C9")
		rlEq(t, "project project_status_id (default)", rlStr(p, "project_status_id"), w.defaultPS)

		one := func(t *testing.T, ctrl, code string) rlObj {
			t.Helper()
			rows := w.where(t, ctrl, "code", code)
			if len(rows) != 1 {
				t.Fatalf("%s with code %s: %d rows, want 1", ctrl, code, len(rows))
			}
			return rows[0]
		}
		sos := w.list(t, "SalesOrganization")
		if len(sos) != 1 {
			t.Fatalf("sales organisations: %d rows, want 1 (the same one embedded four times)", len(sos))
		}
		soID := rlStr(sos[0], "id")
		model := one(t, "EquipmentModel", "M1")
		brand := one(t, "EquipmentBrand", "B1")
		family := one(t, "EquipmentFamily", "FAM1")
		company := one(t, "Company", "C9")
		rlEq(t, "project equipment_model_id", rlStr(p, "equipment_model_id"), rlStr(model, "id"))
		rlEq(t, "model equipment_brand_id", rlStr(model, "equipment_brand_id"), rlStr(brand, "id"))
		rlEq(t, "model equipment_family_id", rlStr(model, "equipment_family_id"), rlStr(family, "id"))
		for name, row := range map[string]rlObj{"model": model, "brand": brand, "family": family, "company": company} {
			rlEq(t, name+" sales_organization_id", rlStr(row, "sales_organization_id"), soID)
			rlEq(t, name+" sales_organization_code", rlStr(row, "sales_organization_code"), "SO1")
		}

		watermarks := func(t *testing.T) map[string]string {
			return map[string]string{
				"sales_organization": rlStr(one(t, "SalesOrganization", "SO1"), "modified_dateutc"),
				"equipment_model":    rlStr(one(t, "EquipmentModel", "M1"), "modified_dateutc"),
				"equipment_brand":    rlStr(one(t, "EquipmentBrand", "B1"), "modified_dateutc"),
				"equipment_family":   rlStr(one(t, "EquipmentFamily", "FAM1"), "modified_dateutc"),
				"company":            rlStr(one(t, "Company", "C9"), "modified_dateutc"),
			}
		}
		counts := func(t *testing.T) string {
			var b strings.Builder
			for _, c := range []string{"SalesOrganization", "EquipmentModel", "EquipmentBrand", "EquipmentFamily", "Company", "Project"} {
				fmt.Fprintf(&b, "%s=%d ", c, len(w.list(t, c)))
			}
			return b.String()
		}
		before, n := watermarks(t), counts(t)

		t.Run("re-sending the same body changes nothing", func(t *testing.T) {
			time.Sleep(5 * time.Millisecond)
			w.put(t, "Project", pid, body("Brand 1"))
			// The same project embedded in a job, found by its ERP key.
			w.newJob(t, rlObj{"project_id": rlOmit, "project": body("Brand 1")})
			after := watermarks(t)
			for k, v := range before {
				rlEq(t, k+" modified_dateutc", after[k], v)
			}
			rlEq(t, "row counts", counts(t), n)
		})

		t.Run("a changed nested property updates that row only", func(t *testing.T) {
			time.Sleep(5 * time.Millisecond)
			w.put(t, "Project", pid, body("Brand One"))
			after := watermarks(t)
			rlEq(t, "brand name", rlStr(one(t, "EquipmentBrand", "B1"), "name"), "Brand One")
			if after["equipment_brand"] == before["equipment_brand"] {
				t.Errorf("brand modified_dateutc did not move on update")
			}
			for _, k := range []string{"sales_organization", "equipment_model", "equipment_family", "company"} {
				rlEq(t, k+" modified_dateutc", after[k], before[k])
			}
			rlEq(t, "row counts", counts(t), n)
		})

		t.Run("nested objects not found are inserted depth-first", func(t *testing.T) {
			pid := w.create(t, "Project", rlObj{
				"reference_back_office": "INST-2", "name": "Boiler 2", "company_code": "C9",
				"equipment_model": rlObj{"code": "M2", "name": "Model 2",
					"equipment_brand": rlObj{"code": "B2", "name": "Brand 2",
						"sales_organization": rlObj{"code": "SO2", "name": "Sales South"}}},
			})
			model := one(t, "EquipmentModel", "M2")
			brand := one(t, "EquipmentBrand", "B2")
			so2 := one(t, "SalesOrganization", "SO2")
			rlEq(t, "project equipment_model_id", rlStr(w.get(t, "Project", pid), "equipment_model_id"), rlStr(model, "id"))
			rlEq(t, "model equipment_brand_id", rlStr(model, "equipment_brand_id"), rlStr(brand, "id"))
			rlEq(t, "model equipment_brand_code", rlStr(model, "equipment_brand_code"), "B2")
			rlEq(t, "brand sales_organization_id", rlStr(brand, "sales_organization_id"), rlStr(so2, "id"))
		})

		t.Run("an error deep down rolls everything back", func(t *testing.T) {
			n := counts(t)
			r := w.do(t, "POST", "/api/Project", rlObj{
				"reference_back_office": "INST-3", "name": "Boiler 3", "company_code": "C9",
				"equipment_model": rlObj{"code": "M3", "name": "Model 3",
					"equipment_brand": rlObj{"code": "B3", "name": "Brand 3",
						"sales_organization": rlObj{"code": "SO3", "name": strings.Repeat("x", 51)}}},
			})
			rlWantError(t, r, 400)
			rlWantDetail(t, r, "MaxLength", "equipment_model.equipment_brand.sales_organization.name")
			rlEq(t, "row counts", counts(t), n)
		})
	})
}

// ---------------------------------------------------------------------------
// 3. Optionally-required groups and is_default rows.

func TestRuleRequiredGroups(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		w := rlTenantWorld(t, srv, "ACME")

		t.Run("missing groups", func(t *testing.T) {
			cases := []struct {
				name, ctrl string
				body       rlObj
				names      []string
				target     string
			}{
				{"job without project", "Jobs", w.jobBody(rlObj{"project_id": rlOmit}), []string{"project"}, "project_id"},
				{"job with a cleared project", "Jobs", w.jobBody(rlObj{"project_id": rlZeroGUID}), []string{"project"}, "project_id"},
				{"job without job type", "Jobs", w.jobBody(rlObj{"job_type_id": rlOmit}), []string{"job_type"}, "job_type_id"},
				{"job with an empty job type code", "Jobs", w.jobBody(rlObj{"job_type_id": rlOmit, "job_type_code": ""}), []string{"job_type"}, "job_type_id"},
				{"job without job status", "Jobs", w.jobBody(rlObj{"job_status_code": rlOmit}), []string{"job_status"}, "job_status_id"},
				{"project without company", "Project", rlObj{"reference_back_office": "P9", "name": "No company"}, []string{"company"}, "company_id"},
				{"contact without company", "Contact", rlObj{"lastname": "Doe"}, []string{"company"}, "company_id"},
				{"planning without job", "JobPlanning", rlObj{"user_id": w.userID, "date_from": "2030-01-01T08:00:00Z", "date_to": "2030-01-01T09:00:00Z"}, []string{"jobs"}, "jobs_id"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := w.do(t, "POST", "/api/"+c.ctrl, c.body)
					rlWantError(t, r, 400, c.names...)
					rlWantDetail(t, r, "Required", c.target)
				})
			}
			rlEq(t, "jobs", len(w.list(t, "Jobs")), 0)
		})

		t.Run("job_priority and project_status take the is_default row", func(t *testing.T) {
			low := w.create(t, "JobPriority", rlObj{"code": "LOW", "name": "Low"})
			normal := w.create(t, "JobPriority", rlObj{"code": "NORMAL", "name": "Normal", "is_default": true})
			j := w.get(t, "Jobs", w.newJob(t, nil))
			rlEq(t, "default job_priority_id", rlStr(j, "job_priority_id"), normal)
			rlEq(t, "default job_priority_code", rlStr(j, "job_priority_code"), "NORMAL")
			jid := w.newJob(t, rlObj{"job_priority_code": "LOW"})
			rlEq(t, "given job_priority_id", rlStr(w.get(t, "Jobs", jid), "job_priority_id"), low)
			w.put(t, "Jobs", jid, rlObj{"description": "an update does not apply defaults"})
			rlEq(t, "job_priority_id after PUT", rlStr(w.get(t, "Jobs", jid), "job_priority_id"), low)

			p := w.get(t, "Project", w.create(t, "Project", rlObj{"reference_back_office": "P2", "name": "P2", "company_code": "C1"}))
			rlEq(t, "default project_status_id", rlStr(p, "project_status_id"), w.defaultPS)
			rlEq(t, "default project_status_code", rlStr(p, "project_status_code"), "ACTIVE")
		})

		t.Run("no is_default project status: the group is required", func(t *testing.T) {
			a := rlAPI{c: srv.Tenant(t, "NODEFAULT")}
			c := a.create(t, "Company", rlObj{"code": "C1", "name": "Company"})
			r := a.do(t, "POST", "/api/Project", rlObj{"reference_back_office": "P1", "name": "P1", "company_id": c})
			rlWantError(t, r, 400, "project_status")
			rlWantDetail(t, r, "Required", "project_status_id")
			// Without a default priority the job simply has none.
			ps := a.create(t, "ProjectStatus", rlObj{"code": "S", "name": "S"})
			p := a.create(t, "Project", rlObj{"reference_back_office": "P1", "name": "P1", "company_id": c, "project_status_id": ps})
			jt := a.create(t, "JobType", rlObj{"code": "T", "name": "T"})
			j := a.get(t, "Jobs", a.create(t, "Jobs", rlObj{"name": "J", "project_id": p, "job_type_id": jt, "job_status_code": "Open"}))
			rlEq(t, "job_priority_id", rlStr(j, "job_priority_id"), rlZeroGUID)
		})
	})
}

// ---------------------------------------------------------------------------
// 4. Max lengths, required fields, types, unknown fields, null.

func TestRuleFieldValidation(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)

		t.Run("refused", func(t *testing.T) {
			cases := []struct {
				name         string
				over         rlObj
				code, target string
			}{
				{"name of 256 characters", rlObj{"name": strings.Repeat("n", 256)}, "MaxLength", "name"},
				{"name of 256 multi-byte characters", rlObj{"name": strings.Repeat("é", 256)}, "MaxLength", "name"},
				{"reference_back_office of 51 characters", rlObj{"reference_back_office": strings.Repeat("r", 51)}, "MaxLength", "reference_back_office"},
				{"description of 4001 characters", rlObj{"description": strings.Repeat("d", 4001)}, "MaxLength", "description"},
				{"missing name", rlObj{"name": rlOmit}, "Required", "name"},
				{"empty name", rlObj{"name": ""}, "Required", "name"},
				{"null name", rlObj{"name": nil}, "Required", "name"},
				{"string for an integer", rlObj{"estimated_time": "90"}, "InvalidValue", "estimated_time"},
				{"fraction for an integer", rlObj{"estimated_time": 1.5}, "InvalidValue", "estimated_time"},
				{"boolean for an integer", rlObj{"working_sequence": true}, "InvalidValue", "working_sequence"},
				{"number for a string", rlObj{"name": 42}, "InvalidValue", "name"},
				{"object for a string", rlObj{"description": rlObj{"a": 1}}, "InvalidValue", "description"},
				{"bad GUID", rlObj{"job_type_id": "not-a-guid"}, "InvalidValue", "job_type_id"},
				{"number for a GUID", rlObj{"job_type_id": 12}, "InvalidValue", "job_type_id"},
				{"bad date", rlObj{"due_date": "tomorrow"}, "InvalidValue", "due_date"},
				{"impossible date", rlObj{"due_date": "2026-02-30T00:00:00Z"}, "InvalidValue", "due_date"},
				{"number for a date", rlObj{"due_date": 20260101}, "InvalidValue", "due_date"},
				{"string for a decimal", rlObj{"db_address_latitude_decimal": "50.1"}, "InvalidValue", "db_address_latitude_decimal"},
				{"unknown field", rlObj{"foo": 1}, "UnknownField", "foo"},
				{"unknown nested field", rlObj{"project_id": rlOmit, "project": rlObj{"reference_back_office": "P1", "foo": 1}}, "UnknownField", "project.foo"},
				{"unknown field in a nested embedded object", rlObj{"project_id": rlOmit, "project": rlObj{"reference_back_office": "P1",
					"company": rlObj{"code": "C1", "bar": true}}}, "UnknownField", "project.company.bar"},
				{"too long nested field", rlObj{"job_type_id": rlOmit, "job_type": rlObj{"code": "JT1", "name": strings.Repeat("x", 51)}}, "MaxLength", "job_type.name"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := w.do(t, "POST", "/api/Jobs", w.jobBody(c.over))
					rlWantError(t, r, 400)
					rlWantDetail(t, r, c.code, c.target)
					if c.code == "UnknownField" && !strings.Contains(r.ErrorMessage(), c.target) {
						t.Errorf("message %q does not name %s", r.ErrorMessage(), c.target)
					}
				})
			}
			rlEq(t, "jobs after refused writes", len(w.list(t, "Jobs")), 0)
		})

		t.Run("every problem is reported at once", func(t *testing.T) {
			r := w.do(t, "POST", "/api/Jobs", w.jobBody(rlObj{"name": strings.Repeat("n", 256), "foo": 1, "estimated_time": "x"}))
			rlWantError(t, r, 400)
			rlWantDetail(t, r, "MaxLength", "name")
			rlWantDetail(t, r, "UnknownField", "foo")
			rlWantDetail(t, r, "InvalidValue", "estimated_time")
		})

		t.Run("limits are inclusive", func(t *testing.T) {
			j := w.get(t, "Jobs", w.newJob(t, rlObj{"name": strings.Repeat("é", 255), "reference_back_office": strings.Repeat("r", 50)}))
			rlEq(t, "name length", len([]rune(rlStr(j, "name"))), 255)
		})

		t.Run("same rules on PUT", func(t *testing.T) {
			id := w.newJob(t, rlObj{"name": "Kept"})
			for _, body := range []rlObj{{"name": strings.Repeat("n", 256)}, {"name": ""}, {"foo": 1}, {"due_date": "nope"}} {
				rlWantError(t, w.do(t, "PUT", rlPath("Jobs", id), body), 400)
			}
			rlEq(t, "name after refused PUTs", rlStr(w.get(t, "Jobs", id), "name"), "Kept")
		})

		t.Run("null means default", func(t *testing.T) {
			id := w.newJob(t, rlObj{"description": nil, "estimated_time": nil, "due_date": nil, "db_address_latitude_decimal": nil, "job_priority_id": nil})
			j := w.get(t, "Jobs", id)
			rlEq(t, "description", rlStr(j, "description"), "")
			rlEq(t, "estimated_time", rlNum(t, j, "estimated_time"), 0)
			rlEqTime(t, "due_date", rlDate(t, j, "due_date"), rlZeroDate)
			rlEq(t, "job_priority_id", rlStr(j, "job_priority_id"), rlZeroGUID)

			w.put(t, "Jobs", id, rlObj{"description": "d", "estimated_time": 30, "due_date": "2030-01-02T03:04:05Z", "customer_reference": "CR"})
			w.put(t, "Jobs", id, rlObj{"description": nil, "estimated_time": nil, "due_date": nil})
			j = w.get(t, "Jobs", id)
			rlEq(t, "description after null", rlStr(j, "description"), "")
			rlEq(t, "estimated_time after null", rlNum(t, j, "estimated_time"), 0)
			rlEqTime(t, "due_date after null", rlDate(t, j, "due_date"), rlZeroDate)
			rlEq(t, "customer_reference not sent, kept", rlStr(j, "customer_reference"), "CR")
			// null on a required reference clears it, which the group refuses.
			r := w.do(t, "PUT", rlPath("Jobs", id), rlObj{"job_type_id": nil})
			rlWantError(t, r, 400, "job_type")
		})

		t.Run("dates in any ISO-8601 form, emitted in UTC", func(t *testing.T) {
			cases := map[string]string{
				"2026-01-27T12:35:56.5920489+00:00": "2026-01-27T12:35:56.592048Z",
				"2026-01-27T14:00:00+02:00":         "2026-01-27T12:00:00Z",
				"2026-01-27T12:00:00":               "2026-01-27T12:00:00Z",
				"2026-01-27":                        "2026-01-27T00:00:00Z",
			}
			for in, want := range cases {
				j := w.get(t, "Jobs", w.newJob(t, rlObj{"due_date": in}))
				rlEq(t, "due_date for "+in, rlStr(j, "due_date"), want)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// 5. A job's company comes from its project.

func TestRuleJobCompanyFromProject(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		c2 := w.create(t, "Company", rlObj{"code": "C2", "name": "Company Two"})
		c3 := w.create(t, "Company", rlObj{"code": "C3", "name": "Company Three"})
		p3 := w.create(t, "Project", rlObj{"reference_back_office": "P3", "name": "P3", "company_id": c3})

		check := func(t *testing.T, jobID, companyID, code string) {
			t.Helper()
			j := w.get(t, "Jobs", jobID)
			rlEq(t, "company_id", rlStr(j, "company_id"), companyID)
			rlEq(t, "company_code", rlStr(j, "company_code"), code)
		}
		id := w.newJob(t, rlObj{"company_id": c2, "company_code": "C2"})
		check(t, id, w.companyID, "C1")
		other := w.newJob(t, rlObj{"company_code": "DOES-NOT-EXIST"})
		check(t, other, w.companyID, "C1")

		w.put(t, "Jobs", id, rlObj{"company_id": c2, "company_code": "C2"})
		check(t, id, w.companyID, "C1")

		w.put(t, "Project", w.projectID, rlObj{"company_id": c2})
		check(t, id, c2, "C2")
		check(t, other, c2, "C2")

		w.put(t, "Project", w.projectID, rlObj{"company_code": "C1"})
		check(t, id, w.companyID, "C1")

		w.put(t, "Company", w.companyID, rlObj{"code": "C1-RENAMED"})
		check(t, id, w.companyID, "C1-RENAMED")

		w.put(t, "Jobs", id, rlObj{"project_id": p3})
		check(t, id, c3, "C3")
		check(t, other, w.companyID, "C1-RENAMED")
	})
}

// ---------------------------------------------------------------------------
// 6. The Suggested rule.

func TestRuleSuggestedPlanning(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		start := rlTime("2030-04-01T09:00:00Z")
		cases := []struct {
			name     string
			user     rlObj
			estimate int
			wantUser string // "" = the world's technician
			minutes  int
		}{
			{"user by id", rlObj{"suggested_user_id": w.userID}, 90, "", 90},
			{"user by code", rlObj{"suggested_user_code": "U1"}, 45, "", 45},
			{"embedded user", rlObj{"suggested_user": rlObj{"code": "U1"}}, 0, "", 60},
			{"embedded new user", rlObj{"suggested_user": rlObj{"code": "U9", "username": "tech9", "lastname": "Nine"}}, 30, "U9", 30},
			{"no estimated time", rlObj{"suggested_user_id": w.userID}, 0, "", 60},
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				body := w.jobBody(rlObj{"reference_back_office": fmt.Sprintf("SUG-%d", i), "job_status_code": "Suggested",
					"suggested_date_start": start.Format(time.RFC3339), "estimated_time": c.estimate})
				for k, v := range c.user {
					body[k] = v
				}
				id := w.create(t, "Jobs", body)
				check := func(t *testing.T) {
					t.Helper()
					pl := w.where(t, "JobPlanning", "jobs_id", id)
					if len(pl) != 1 {
						t.Fatalf("plannings of the job: %d, want 1", len(pl))
					}
					j := w.get(t, "Jobs", id)
					rlEq(t, "job_status_code", rlStr(j, "job_status_code"), "Suggested")
					rlEq(t, "planning user_id", rlStr(pl[0], "user_id"), rlStr(j, "suggested_user_id"))
					if c.wantUser != "" {
						rlEq(t, "planning user_code", rlStr(pl[0], "user_code"), c.wantUser)
					} else {
						rlEq(t, "planning user_id", rlStr(pl[0], "user_id"), w.userID)
					}
					rlEqTime(t, "date_from", rlDate(t, pl[0], "date_from"), start)
					rlEqTime(t, "date_to", rlDate(t, pl[0], "date_to"), start.Add(time.Duration(c.minutes)*time.Minute))
				}
				check(t)
				w.put(t, "Jobs", id, body)
				w.put(t, "Jobs", id, body)
				check(t)
			})
		}

		t.Run("no planning without every condition", func(t *testing.T) {
			for name, over := range map[string]rlObj{
				"not Suggested": {"job_status_code": "ToBePlanned", "suggested_user_id": w.userID, "suggested_date_start": "2030-04-02T09:00:00Z"},
				"no user":       {"job_status_code": "Suggested", "suggested_date_start": "2030-04-02T09:00:00Z"},
				"no start":      {"job_status_code": "Suggested", "suggested_user_id": w.userID},
			} {
				id := w.newJob(t, over)
				rlEq(t, "plannings when "+name, len(w.where(t, "JobPlanning", "jobs_id", id)), 0)
			}
		})

		t.Run("becoming Suggested by PUT adds the planning", func(t *testing.T) {
			id := w.newJob(t, rlObj{"suggested_user_id": w.userID, "suggested_date_start": "2030-04-03T09:00:00Z"})
			rlEq(t, "plannings while Open", len(w.where(t, "JobPlanning", "jobs_id", id)), 0)
			w.put(t, "Jobs", id, rlObj{"job_status_code": "Suggested"})
			rlEq(t, "plannings once Suggested", len(w.where(t, "JobPlanning", "jobs_id", id)), 1)
			rlEq(t, "status", w.jobStatus(t, id), "Suggested")
		})
	})
}

// ---------------------------------------------------------------------------
// 7. date_closed.

func TestRuleDateClosed(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		w.tenantStatus(t, "IP", "InProgress", true)
		w.tenantStatus(t, "WFA", "WaitingFurtherAction", true)
		w.tenantStatus(t, "DONE", "Completed", true)
		closed := func(t *testing.T, id string) time.Time {
			t.Helper()
			return rlDate(t, w.get(t, "Jobs", id), "date_closed")
		}

		t.Run("set when the job reaches Completed", func(t *testing.T) {
			id := w.newJob(t, nil)
			rlEqTime(t, "date_closed when Open", closed(t, id), rlZeroDate)
			w.plan(t, id, rlTime("2030-05-01T08:00:00Z"), 60)
			rlEq(t, "status after planning", w.jobStatus(t, id), "Planned")
			rlEqTime(t, "date_closed when Planned", closed(t, id), rlZeroDate)
			w.setStatus(t, id, "IP")
			rlEqTime(t, "date_closed when InProgress", closed(t, id), rlZeroDate)
			w.setStatus(t, id, "WFA")
			rlEqTime(t, "date_closed when WaitingFurtherAction", closed(t, id), rlZeroDate)
			from := time.Now().UTC()
			w.setStatus(t, id, "DONE")
			to := time.Now().UTC()
			got := closed(t, id)
			rlAbout(t, "date_closed when Completed", got, from, to)

			// Later writes keep it.
			time.Sleep(5 * time.Millisecond)
			w.put(t, "Jobs", id, rlObj{"description": "after completion"})
			rlEqTime(t, "date_closed after a later PUT", closed(t, id), got)
		})

		t.Run("set when the job is created Completed", func(t *testing.T) {
			from := time.Now().UTC()
			id := w.newJob(t, rlObj{"job_status_code": "DONE"})
			to := time.Now().UTC()
			rlAbout(t, "date_closed of a job created in a Completed status", closed(t, id), from, to)
		})
	})
}

// ---------------------------------------------------------------------------
// 8. Server-managed fields.

func TestRuleServerManagedFields(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		srv := testenv.NewServer(t, dsn)
		w := rlTenantWorld(t, srv, "ACME")
		const old = "2001-02-03T04:05:06Z"

		t.Run("modified_dateutc", func(t *testing.T) {
			from := time.Now().UTC()
			id := w.newJob(t, rlObj{"modified_dateutc": old})
			to := time.Now().UTC()
			j := w.get(t, "Jobs", id)
			first := rlDate(t, j, "modified_dateutc")
			rlAbout(t, "modified_dateutc on insert", first, from, to)

			time.Sleep(5 * time.Millisecond)
			from = time.Now().UTC()
			w.put(t, "Jobs", id, rlObj{"description": "changed", "modified_dateutc": old})
			to = time.Now().UTC()
			second := rlDate(t, w.get(t, "Jobs", id), "modified_dateutc")
			rlAbout(t, "modified_dateutc on update", second, from, to)
			if !second.After(first) {
				t.Errorf("modified_dateutc did not move on update: %s then %s", first, second)
			}
			// Also on other entities.
			from = time.Now().UTC()
			w.put(t, "JobType", w.jobTypeID, rlObj{"name": "Repair 2", "modified_dateutc": old})
			rlAbout(t, "job type modified_dateutc on update", rlDate(t, w.get(t, "JobType", w.jobTypeID), "modified_dateutc"), from, time.Now().UTC())
		})

		t.Run("date_create and date_update", func(t *testing.T) {
			from := time.Now().UTC()
			id := w.newJob(t, nil)
			to := time.Now().UTC()
			j := w.get(t, "Jobs", id)
			rlAbout(t, "date_create when not given", rlDate(t, j, "date_create"), from, to)
			rlAbout(t, "date_update when not given", rlDate(t, j, "date_update"), from, to)
			created := rlDate(t, j, "date_create")

			time.Sleep(5 * time.Millisecond)
			from = time.Now().UTC()
			w.put(t, "Jobs", id, rlObj{"description": "changed"})
			to = time.Now().UTC()
			j = w.get(t, "Jobs", id)
			rlAbout(t, "date_update on update", rlDate(t, j, "date_update"), from, to)
			if !rlDate(t, j, "date_update").After(created) {
				t.Errorf("date_update did not move on update: %s", rlStr(j, "date_update"))
			}
			rlEqTime(t, "date_create on update", rlDate(t, j, "date_create"), created)

			given := rlTime("2020-05-06T07:08:09Z")
			id = w.newJob(t, rlObj{"date_create": "2020-05-06T07:08:09Z", "date_update": "2020-05-06T07:08:09Z"})
			j = w.get(t, "Jobs", id)
			rlEqTime(t, "given date_create", rlDate(t, j, "date_create"), given)
			rlEqTime(t, "given date_update", rlDate(t, j, "date_update"), given)
			w.put(t, "Jobs", id, rlObj{"description": "x", "date_update": "2021-01-01T00:00:00Z"})
			rlEqTime(t, "given date_update on PUT", rlDate(t, w.get(t, "Jobs", id), "date_update"), rlTime("2021-01-01T00:00:00Z"))

			p := w.get(t, "Project", w.create(t, "Project", rlObj{"reference_back_office": "PD", "name": "PD", "company_id": w.companyID}))
			rlAbout(t, "project date_create", rlDate(t, p, "date_create"), from, time.Now().UTC())
		})

		t.Run("id2", func(t *testing.T) {
			for _, ctrl := range []string{"Jobs", "Project"} {
				t.Run(ctrl, func(t *testing.T) {
					i := 0
					body := func(over rlObj) rlObj {
						i++
						if ctrl == "Jobs" {
							return w.jobBody(over)
						}
						b := rlObj{"reference_back_office": fmt.Sprintf("ID2-%d", i), "name": "P", "company_id": w.companyID}
						for k, v := range over {
							b[k] = v
						}
						return b
					}
					var last int64
					for n := 0; n < 3; n++ {
						id2 := rlNum(t, w.get(t, ctrl, w.create(t, ctrl, body(nil))), "id2")
						if id2 <= last {
							t.Errorf("id2 %d after %d: not increasing", id2, last)
						}
						last = id2
					}
					kept := w.get(t, ctrl, w.create(t, ctrl, body(rlObj{"id2": 5000})))
					rlEq(t, "client id2", rlNum(t, kept, "id2"), 5000)
					// A client may take the number the server would give next:
					// the server then skips it instead of colliding.
					w.create(t, ctrl, body(rlObj{"id2": last + 1}))
					next := rlNum(t, w.get(t, ctrl, w.create(t, ctrl, body(nil))), "id2")
					if next <= last+1 || next == 5000 {
						t.Errorf("id2 after client ids %d and 5000: %d, want > %d and not 5000", last+1, next, last+1)
					}
					rlWantError(t, w.do(t, "POST", "/api/"+ctrl, body(rlObj{"id2": 5000})), 409)
					rlWantError(t, w.do(t, "PUT", rlPath(ctrl, rlStr(kept, "id")), rlObj{"id2": next}), 409)
					rlEq(t, "id2 after refused PUT", rlNum(t, w.get(t, ctrl, rlStr(kept, "id")), "id2"), 5000)
				})
			}
			t.Run("per tenant", func(t *testing.T) {
				other := rlTenantWorld(t, srv, "OTHER")
				id2 := rlNum(t, other.get(t, "Jobs", other.newJob(t, nil)), "id2")
				if id2 >= 5000 {
					t.Errorf("first id2 of another tenant = %d: it follows ACME's numbers", id2)
				}
				// The same id2 in another tenant is no duplicate.
				other.newJob(t, rlObj{"id2": 5000})
			})
		})
	})
}

// ---------------------------------------------------------------------------
// 9. Multi job.

func TestRuleMultiJob(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		parent := w.newJob(t, rlObj{"reference_back_office": "PARENT", "name": "Parent"})

		children := []struct {
			name string
			over rlObj
			seq  int64
		}{
			{"_parent_id", rlObj{"_parent_id": parent}, 2},
			{"_parent_jobs_reference_back_office", rlObj{"_parent_jobs_reference_back_office": "PARENT"}, 1},
			{"embedded _parent_job", rlObj{"_parent_job": rlObj{"reference_back_office": "PARENT"}}, 3},
			{"embedded _parent_job by id", rlObj{"_parent_job": rlObj{"id": parent}}, 4},
		}
		ids := map[string]string{}
		for i, c := range children {
			t.Run("child by "+c.name, func(t *testing.T) {
				over := rlObj{"reference_back_office": fmt.Sprintf("CHILD-%d", i), "working_sequence": c.seq}
				for k, v := range c.over {
					over[k] = v
				}
				id := w.newJob(t, over)
				ids[c.name] = id
				j := w.get(t, "Jobs", id)
				rlEq(t, "_parent_id", rlStr(j, "_parent_id"), parent)
				rlEq(t, "_parent_jobs_reference_back_office", rlStr(j, "_parent_jobs_reference_back_office"), "PARENT")
				rlEq(t, "working_sequence", rlNum(t, j, "working_sequence"), c.seq)
			})
		}
		rlEq(t, "parent unchanged by its embeds", rlStr(w.get(t, "Jobs", parent), "name"), "Parent")

		t.Run("embedded _parent_job not found is inserted", func(t *testing.T) {
			id := w.newJob(t, rlObj{"_parent_job": w.jobBody(rlObj{"reference_back_office": "PARENT2", "name": "Parent 2"})})
			p := w.where(t, "Jobs", "reference_back_office", "PARENT2")
			if len(p) != 1 {
				t.Fatalf("PARENT2 rows: %d", len(p))
			}
			rlEq(t, "_parent_id", rlStr(w.get(t, "Jobs", id), "_parent_id"), rlStr(p[0], "id"))
		})

		t.Run("no cycles", func(t *testing.T) {
			child := ids["_parent_id"]
			if child == "" {
				t.Skip("no child")
			}
			grandchild := w.newJob(t, rlObj{"reference_back_office": "GRANDCHILD", "_parent_id": child})
			cases := []struct {
				name, id string
				body     rlObj
			}{
				{"own parent", parent, rlObj{"_parent_id": parent}},
				{"own parent by code", parent, rlObj{"_parent_jobs_reference_back_office": "PARENT"}},
				{"child as parent", parent, rlObj{"_parent_id": child}},
				{"grandchild as parent", parent, rlObj{"_parent_jobs_reference_back_office": "GRANDCHILD"}},
				{"grandchild as parent of the child", child, rlObj{"_parent_id": grandchild}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					rlWantError(t, w.do(t, "PUT", rlPath("Jobs", c.id), c.body), 409)
				})
			}
			rlEq(t, "parent's _parent_id", rlStr(w.get(t, "Jobs", parent), "_parent_id"), rlZeroGUID)
			rlEq(t, "child's _parent_id", rlStr(w.get(t, "Jobs", child), "_parent_id"), parent)
		})

		t.Run("deleting a parent with children", func(t *testing.T) {
			rlWantError(t, w.do(t, "DELETE", rlPath("Jobs", parent), nil), 409)
			w.get(t, "Jobs", parent)
			leaf := w.newJob(t, rlObj{"_parent_id": parent})
			w.must(t, 204, "DELETE", rlPath("Jobs", leaf), nil)
			w.must(t, 404, "GET", rlPath("Jobs", leaf), nil)
		})
	})
}

// ---------------------------------------------------------------------------
// 10. Job addresses: mobile installations and db_address_id.

func TestRuleJobAddress(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)

		t.Run("mobile installation needs the job's own address", func(t *testing.T) {
			mob := w.create(t, "Project", rlObj{"reference_back_office": "MOB", "name": "Truck", "company_id": w.companyID, "is_mobile_installation": true})
			full := rlObj{"project_id": mob, "db_address_street": "1 Main St", "db_address_city": "Lyon", "db_address_zip": "69001"}
			cases := []struct {
				name    string
				over    rlObj
				missing []string
			}{
				{"no address", rlObj{"project_id": mob}, []string{"db_address_street", "db_address_city", "db_address_zip"}},
				{"no zip", rlObj{"project_id": mob, "db_address_street": "1 Main St", "db_address_city": "Lyon"}, []string{"db_address_zip"}},
				{"empty city", rlObj{"project_id": mob, "db_address_street": "1 Main St", "db_address_city": "", "db_address_zip": "69001"}, []string{"db_address_city"}},
				{"no street", rlObj{"project_id": mob, "db_address_city": "Lyon", "db_address_zip": "69001"}, []string{"db_address_street"}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := w.do(t, "POST", "/api/Jobs", w.jobBody(c.over))
					rlWantError(t, r, 400, c.missing[0])
					for _, f := range c.missing {
						rlWantDetail(t, r, "", f)
					}
				})
			}
			id := w.newJob(t, full)
			j := w.get(t, "Jobs", id)
			rlEq(t, "db_address_city", rlStr(j, "db_address_city"), "Lyon")
			rlWantError(t, w.do(t, "PUT", rlPath("Jobs", id), rlObj{"db_address_zip": ""}), 400, "db_address_zip")
			// A job moved onto a mobile installation needs the address too.
			plain := w.newJob(t, nil)
			rlWantError(t, w.do(t, "PUT", rlPath("Jobs", plain), rlObj{"project_id": mob}), 400, "db_address_street")
			// Not mobile: no address needed.
			w.newJob(t, rlObj{"project_id": w.projectID})
		})

		t.Run("db_address_id is the project's or a location's", func(t *testing.T) {
			aLoc := w.create(t, "DbAddress", rlObj{"code": "A-LOC", "company_id": w.companyID, "street": "Site road"})
			aInst := w.create(t, "DbAddress", rlObj{"code": "A-INST", "company_id": w.companyID, "street": "Hall 2"})
			aOther := w.create(t, "DbAddress", rlObj{"code": "A-OTHER", "company_id": w.companyID, "street": "Elsewhere"})
			loc := w.create(t, "Project", rlObj{"reference_back_office": "LOC", "name": "Site", "company_id": w.companyID,
				"equipment_family_id": ordo.LocationFamilyID, "db_address_id": aLoc})
			inst := w.create(t, "Project", rlObj{"reference_back_office": "INST", "name": "Boiler", "company_id": w.companyID,
				"_parent_id": loc, "db_address_code": "A-INST"})
			rlEq(t, "project db_address_id from code", rlStr(w.get(t, "Project", inst), "db_address_id"), aInst)
			equip := w.create(t, "Project", rlObj{"reference_back_office": "EQ", "name": "Pump", "company_id": w.companyID, "_parent_id": inst})
			cases := []struct {
				name, project, address string
				status                 int
			}{
				{"the project's own address", inst, aInst, 201},
				{"the parent location's address", inst, aLoc, 201},
				{"a grandparent's address", equip, aLoc, 201},
				{"the parent's address", equip, aInst, 201},
				{"another address", inst, aOther, 409},
				{"a child's address", loc, aInst, 409},
				{"an address on a project without one", w.projectID, aLoc, 409},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := w.do(t, "POST", "/api/Jobs", w.jobBody(rlObj{"project_id": c.project, "db_address_id": c.address}))
					if c.status != 201 {
						rlWantError(t, r, c.status, "db_address_id")
						return
					}
					if r.Status != 201 {
						t.Fatalf("status %d: %s", r.Status, r.Raw)
					}
					rlEq(t, "db_address_id", rlStr(w.get(t, "Jobs", rlStr(r.Body, "id")), "db_address_id"), c.address)
				})
			}
			id := w.newJob(t, rlObj{"project_id": inst, "db_address_id": aLoc})
			rlWantError(t, w.do(t, "PUT", rlPath("Jobs", id), rlObj{"db_address_id": aOther}), 409)
			rlWantError(t, w.do(t, "PUT", rlPath("Jobs", id), rlObj{"project_id": w.projectID}), 409)
			j := w.get(t, "Jobs", id)
			rlEq(t, "db_address_id after refusals", rlStr(j, "db_address_id"), aLoc)
			rlEq(t, "project_id after refusals", rlStr(j, "project_id"), inst)
			w.put(t, "Jobs", id, rlObj{"project_id": equip})
			w.put(t, "Jobs", id, rlObj{"db_address_id": rlZeroGUID, "project_id": w.projectID})
		})
	})
}

// ---------------------------------------------------------------------------
// 11. Status workflow.

func TestRuleStatusWorkflow(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		w.tenantStatus(t, "IP", "InProgress", true)
		done := w.tenantStatus(t, "DONE", "Completed", true)
		erpImp := w.tenantStatus(t, "ERP_IMP", "Completed", false)
		w.tenantStatus(t, "HOLD", "Waiting", false)
		w.tenantStatus(t, "TBP2", "ToBePlanned", true)
		w.tenantStatus(t, "DONE2", "Completed", true)

		t.Run("allowed transitions", func(t *testing.T) {
			paths := [][]string{
				{"ToBePlanned", "Pooling", "Waiting", "Activated", "Open"},
				{"Canceled", "Open"},
				{"Suggested", "ToBePlanned", "TBP2", "Canceled"},
				{"Pooling", "Suggested", "Open"},
			}
			for _, p := range paths {
				t.Run("Open → "+strings.Join(p, " → "), func(t *testing.T) {
					id := w.newJob(t, nil)
					for _, code := range p {
						w.setStatus(t, id, code)
					}
				})
			}
			t.Run("by job_status_id", func(t *testing.T) {
				id := w.newJob(t, nil)
				w.put(t, "Jobs", id, rlObj{"job_status_id": ordo.StatusPooling})
				j := w.get(t, "Jobs", id)
				rlEq(t, "job_status_code", rlStr(j, "job_status_code"), "Pooling")
			})
			t.Run("Planned → InProgress → Completed", func(t *testing.T) {
				id := w.newJob(t, nil)
				w.plan(t, id, rlTime("2030-06-01T08:00:00Z"), 60)
				w.setStatus(t, id, "IP")
				w.setStatus(t, id, "DONE")
			})
		})

		t.Run("forbidden transitions name both statuses", func(t *testing.T) {
			canceled := w.newJob(t, rlObj{"job_status_code": "Canceled"})
			inProgress := w.newJob(t, nil)
			w.plan(t, inProgress, rlTime("2030-06-02T08:00:00Z"), 60)
			w.setStatus(t, inProgress, "IP")
			completed := w.newJob(t, nil)
			w.plan(t, completed, rlTime("2030-06-03T08:00:00Z"), 60)
			w.setStatus(t, completed, "IP")
			w.setStatus(t, completed, "DONE")
			cases := []struct {
				name, job, from, to string
			}{
				{"Canceled → ToBePlanned", canceled, "Canceled", "ToBePlanned"},
				{"Canceled → Pooling", canceled, "Canceled", "Pooling"},
				{"InProgress → Open", inProgress, "IP", "Open"},
				{"InProgress → Canceled", inProgress, "IP", "Canceled"},
				{"Completed → InProgress", completed, "DONE", "IP"},
				{"Completed → Open", completed, "DONE", "Open"},
				{"Completed → another status of Completed", completed, "DONE", "DONE2"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := w.do(t, "PUT", rlPath("Jobs", c.job), rlObj{"job_status_code": c.to})
					rlWantError(t, r, 409, c.from, c.to)
					rlEq(t, "status after refusal", w.jobStatus(t, c.job), c.from)
				})
			}
		})

		t.Run("statuses not usable on the API", func(t *testing.T) {
			id := w.newJob(t, nil)
			for _, body := range []rlObj{
				{"job_status_code": "Completed"},
				{"job_status_code": "Planned"},
				{"job_status_code": "InProgress"},
				{"job_status_code": "Dispatched"},
				{"job_status_code": "HOLD"},
				{"job_status_id": ordo.StatusPlanned},
			} {
				rlWantError(t, w.do(t, "PUT", rlPath("Jobs", id), body), 409)
			}
			rlEq(t, "status after refusals", w.jobStatus(t, id), "Open")
			for _, code := range []string{"Completed", "Planned", "WaitingFurtherAction", "ERP_IMP"} {
				rlWantError(t, w.do(t, "POST", "/api/Jobs", w.jobBody(rlObj{"job_status_code": code})), 409)
			}
		})

		t.Run("system statuses are read-only", func(t *testing.T) {
			for _, st := range []string{ordo.StatusOpen, ordo.StatusCompleted, ordo.StatusPlanned} {
				rlWantError(t, w.do(t, "PUT", rlPath("JobStatus", st), rlObj{"name": "Renamed"}), 403)
				rlWantError(t, w.do(t, "PATCH", rlPath("JobStatus", st), rlObj{"usable_on_api": true}), 403)
				rlWantError(t, w.do(t, "DELETE", rlPath("JobStatus", st), nil), 403)
				s := w.get(t, "JobStatus", st)
				rlEq(t, "system status name", rlStr(s, "name") == "Renamed", false)
			}
			rlEq(t, "Completed still not usable", w.get(t, "JobStatus", ordo.StatusCompleted)["usable_on_api"], any(false))
			// Tenant statuses can be changed.
			w.put(t, "JobStatus", erpImp, rlObj{"name": "Imported in the ERP"})
			// A tenant status must point to a system status.
			rlWantError(t, w.do(t, "POST", "/api/JobStatus", rlObj{"code": "BAD", "name": "Bad", "system_job_status_id": done}), 400)
		})

		t.Run("ChangeToVirtualStatus", func(t *testing.T) {
			const action = "/api/Jobs/ChangeToVirtualStatus"
			completed := w.newJob(t, nil)
			w.plan(t, completed, rlTime("2030-06-04T08:00:00Z"), 60)
			w.setStatus(t, completed, "IP")
			w.setStatus(t, completed, "DONE")
			closed := rlDate(t, w.get(t, "Jobs", completed), "date_closed")

			r := w.do(t, "PUT", action, rlObj{"jobs_id": completed, "target_job_status_code": "ERP_IMP"})
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Raw)
			}
			rlEq(t, "reply body length", len(r.Raw), 0)
			j := w.get(t, "Jobs", completed)
			rlEq(t, "job_status_id", rlStr(j, "job_status_id"), erpImp)
			rlEq(t, "job_status_code", rlStr(j, "job_status_code"), "ERP_IMP")
			rlEqTime(t, "date_closed kept", rlDate(t, j, "date_closed"), closed)

			w.must(t, 200, "PUT", action, rlObj{"jobs_id": completed, "target_job_status_id": done})
			rlEq(t, "status by target id", w.jobStatus(t, completed), "DONE")

			open := w.newJob(t, nil)
			cases := []struct {
				name   string
				body   rlObj
				status int
				want   string
			}{
				{"a job that is not Completed", rlObj{"jobs_id": open, "target_job_status_code": "ERP_IMP"}, 409, "Open"},
				{"an unknown target", rlObj{"jobs_id": completed, "target_job_status_code": "NOPE"}, 422, ""},
				{"an unknown target id", rlObj{"jobs_id": completed, "target_job_status_id": rlNewGUID()}, 422, ""},
				{"a target not of Completed", rlObj{"jobs_id": completed, "target_job_status_code": "ToBePlanned"}, 409, "ToBePlanned"},
				{"a tenant target not of Completed", rlObj{"jobs_id": completed, "target_job_status_code": "IP"}, 409, "IP"},
				{"an unknown job", rlObj{"jobs_id": rlNewGUID(), "target_job_status_code": "ERP_IMP"}, 404, ""},
				{"no job", rlObj{"target_job_status_code": "ERP_IMP"}, 400, "jobs_id"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					rlWantError(t, w.do(t, "PUT", action, c.body), c.status, c.want)
				})
			}
			rlEq(t, "completed job status after refusals", w.jobStatus(t, completed), "DONE")
			rlEq(t, "open job status after refusal", w.jobStatus(t, open), "Open")
		})
	})
}

// ---------------------------------------------------------------------------
// 12. A new planning moves a waiting job to Planned.

func TestRulePlanningMovesToPlanned(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		w.tenantStatus(t, "DISP", "Dispatched", true)
		w.tenantStatus(t, "POOL2", "Pooling", true)
		from := rlTime("2030-07-01T08:00:00Z")
		for i, code := range []string{"Open", "ToBePlanned", "Pooling", "Suggested", "DISP", "POOL2"} {
			t.Run(code, func(t *testing.T) {
				ref := fmt.Sprintf("PLAN-%d", i)
				id := w.newJob(t, rlObj{"reference_back_office": ref, "job_status_code": code})
				// The planning's references by their ERP keys; each at its own
				// time, since one user cannot be booked twice at once.
				at := from.Add(time.Duration(i) * 2 * time.Hour)
				pid := w.create(t, "JobPlanning", rlObj{"jobs_reference_back_office": ref, "user_code": "U1",
					"date_from": at.Format(time.RFC3339), "date_to": at.Add(time.Hour).Format(time.RFC3339)})
				j := w.get(t, "Jobs", id)
				rlEq(t, "job_status_id", rlStr(j, "job_status_id"), ordo.StatusPlanned)
				rlEq(t, "job_status_code", rlStr(j, "job_status_code"), "Planned")
				p := w.get(t, "JobPlanning", pid)
				rlEq(t, "planning jobs_id", rlStr(p, "jobs_id"), id)
				rlEq(t, "planning user_id", rlStr(p, "user_id"), w.userID)
			})
		}

		t.Run("date_to must be after date_from", func(t *testing.T) {
			id := w.newJob(t, nil)
			for name, to := range map[string]time.Time{"equal": from, "before": from.Add(-time.Minute)} {
				t.Run(name, func(t *testing.T) {
					r := w.do(t, "POST", "/api/JobPlanning", rlObj{"jobs_id": id, "user_id": w.userID,
						"date_from": from.Format(time.RFC3339), "date_to": to.Format(time.RFC3339)})
					rlWantError(t, r, 400)
					rlWantDetail(t, r, "", "date_to")
				})
			}
			rlEq(t, "plannings after refusals", len(w.where(t, "JobPlanning", "jobs_id", id)), 0)
			rlEq(t, "status after refusals", w.jobStatus(t, id), "Open")
			at := from.AddDate(0, 0, 1)
			pid := w.plan(t, id, at, 30)
			rlWantError(t, w.do(t, "PUT", rlPath("JobPlanning", pid), rlObj{"date_to": at.Format(time.RFC3339)}), 400)
		})
	})
}

// ---------------------------------------------------------------------------
// 13. Project aggregates.

type rlAggregates struct {
	open, planned, toBePlanned, wfa int64
	next, last                      time.Time
}

func (a rlAggregates) String() string {
	return fmt.Sprintf("{open %d planned %d tobeplanned %d wfa %d next %s last %s}", a.open, a.planned, a.toBePlanned, a.wfa,
		a.next.Format(time.RFC3339Nano), a.last.Format(time.RFC3339Nano))
}

func TestRuleProjectAggregates(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		w.tenantStatus(t, "IP", "InProgress", true)
		w.tenantStatus(t, "WFA", "WaitingFurtherAction", true)
		w.tenantStatus(t, "DONE", "Completed", true)
		p1 := w.projectID
		p2 := w.create(t, "Project", rlObj{"reference_back_office": "P2", "name": "P2", "company_id": w.companyID})
		read := func(t *testing.T, id string) rlAggregates {
			t.Helper()
			p := w.get(t, "Project", id)
			return rlAggregates{rlNum(t, p, "nb_open_jobs"), rlNum(t, p, "nb_jobs_planned"), rlNum(t, p, "nb_jobs_tobeplanned"),
				rlNum(t, p, "nb_jobs_waitingfurtheraction"), rlDate(t, p, "date_next_job"), rlDate(t, p, "date_last_job")}
		}
		step := func(t *testing.T, what, id string, want rlAggregates) {
			t.Helper()
			got := read(t, id)
			if got.open != want.open || got.planned != want.planned || got.toBePlanned != want.toBePlanned || got.wfa != want.wfa ||
				!got.next.Equal(want.next) || !got.last.Equal(want.last) {
				t.Errorf("after %s: aggregates of %s = %v, want %v", what, id, got, want)
			}
		}
		z := rlZeroDate
		t1 := rlTime("2030-03-10T08:00:00Z")
		t2 := rlTime("2030-03-05T08:00:00Z")
		t3 := rlTime("2030-03-20T08:00:00Z")

		step(t, "nothing", p1, rlAggregates{0, 0, 0, 0, z, z})
		j1 := w.newJob(t, nil)
		step(t, "create Open job", p1, rlAggregates{1, 0, 0, 0, z, z})
		j2 := w.newJob(t, rlObj{"job_status_code": "ToBePlanned"})
		step(t, "create ToBePlanned job", p1, rlAggregates{2, 0, 1, 0, z, z})
		pl1 := w.plan(t, j1, t1, 60)
		step(t, "plan j1", p1, rlAggregates{2, 1, 1, 0, t1, z})
		w.plan(t, j2, t2, 60)
		step(t, "plan j2 earlier", p1, rlAggregates{2, 2, 0, 0, t2, z})
		w.put(t, "Jobs", j2, rlObj{"project_id": p2})
		step(t, "move j2 away", p1, rlAggregates{1, 1, 0, 0, t1, z})
		step(t, "move j2 in", p2, rlAggregates{1, 1, 0, 0, t2, z})
		w.must(t, 204, "DELETE", rlPath("JobPlanning", pl1), nil)
		rlEq(t, "j1 status after its planning is deleted", w.jobStatus(t, j1), "Planned")
		step(t, "delete j1's planning", p1, rlAggregates{1, 1, 0, 0, z, z})
		w.setStatus(t, j1, "ToBePlanned")
		step(t, "j1 back to ToBePlanned", p1, rlAggregates{1, 0, 1, 0, z, z})
		w.setStatus(t, j1, "Canceled")
		step(t, "cancel j1", p1, rlAggregates{0, 0, 0, 0, z, z})

		j3 := w.newJob(t, nil)
		w.plan(t, j3, t3, 60)
		w.setStatus(t, j3, "IP")
		step(t, "j3 in progress", p1, rlAggregates{1, 0, 0, 0, t3, z})
		w.setStatus(t, j3, "WFA")
		step(t, "j3 waiting further action", p1, rlAggregates{1, 0, 0, 1, t3, z})
		w.setStatus(t, j3, "DONE")
		closed := rlDate(t, w.get(t, "Jobs", j3), "date_closed")
		if closed.Equal(rlZeroDate) {
			t.Errorf("j3 has no date_closed")
		}
		step(t, "complete j3", p1, rlAggregates{0, 0, 0, 0, z, closed})

		// Read-only aggregates in a body are ignored.
		w.put(t, "Project", p1, rlObj{"nb_open_jobs": 42, "date_last_job": "2031-01-01T00:00:00Z", "nb_jobs_planned": 7})
		step(t, "PUT with rlAggregates", p1, rlAggregates{0, 0, 0, 0, z, closed})

		w.must(t, 204, "DELETE", rlPath("Jobs", j3), nil)
		step(t, "delete completed j3", p1, rlAggregates{0, 0, 0, 0, z, z})
		w.must(t, 204, "DELETE", rlPath("Jobs", j2), nil)
		step(t, "delete planned j2", p2, rlAggregates{0, 0, 0, 0, z, z})

		// A planning moved to another job updates both projects.
		j4 := w.newJob(t, rlObj{"project_id": p2, "job_status_code": "ToBePlanned"})
		j5 := w.newJob(t, rlObj{"project_id": p1, "job_status_code": "ToBePlanned"})
		pl4 := w.plan(t, j4, t1, 60)
		step(t, "plan j4", p2, rlAggregates{1, 1, 0, 0, t1, z})
		w.put(t, "JobPlanning", pl4, rlObj{"jobs_id": j5})
		step(t, "planning moved to j5 (old project)", p2, rlAggregates{1, 1, 0, 0, z, z})
		step(t, "planning moved to j5 (new project)", p1, rlAggregates{1, 0, 1, 0, t1, z})
	})
}

// ---------------------------------------------------------------------------
// 14. Project trees.

func TestRuleProjectTree(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		c2 := w.create(t, "Company", rlObj{"code": "C2", "name": "Company Two"})
		mk := func(t *testing.T, ref string, over rlObj) string {
			t.Helper()
			b := rlObj{"reference_back_office": ref, "name": ref, "company_id": w.companyID}
			for k, v := range over {
				b[k] = v
			}
			return w.create(t, "Project", b)
		}
		roots := func(t *testing.T, want map[string]string) {
			t.Helper()
			for id, root := range want {
				rlEq(t, "root_parent_id of "+id, rlStr(w.get(t, "Project", id), "root_parent_id"), root)
			}
		}
		r1 := mk(t, "R1", rlObj{"root_parent_id": rlNewGUID()}) // a client's root_parent_id is ignored
		c := mk(t, "C", rlObj{"_parent_id": r1})
		g := mk(t, "G", rlObj{"_parent_reference_back_office": "C"})
		g2 := mk(t, "G2", rlObj{"_parent_id": c})
		gg := mk(t, "GG", rlObj{"_parent_id": g2})
		r2 := mk(t, "R2", nil)
		roots(t, map[string]string{r1: r1, c: r1, g: r1, g2: r1, gg: r1, r2: r2})
		rlEq(t, "G _parent_id by code", rlStr(w.get(t, "Project", g), "_parent_id"), c)

		w.put(t, "Project", c, rlObj{"_parent_id": r2})
		roots(t, map[string]string{r1: r1, c: r2, g: r2, g2: r2, gg: r2, r2: r2})

		w.put(t, "Project", c, rlObj{"_parent_id": rlZeroGUID})
		roots(t, map[string]string{c: c, g: c, g2: c, gg: c})
		rlEq(t, "C _parent_reference_back_office cleared", rlStr(w.get(t, "Project", c), "_parent_reference_back_office"), "")

		w.put(t, "Project", c, rlObj{"_parent_reference_back_office": "R2"})
		w.put(t, "Project", r2, rlObj{"_parent_id": r1})
		roots(t, map[string]string{r1: r1, r2: r1, c: r1, g: r1, g2: r1, gg: r1})

		t.Run("cycles", func(t *testing.T) {
			for name, c := range map[string]struct {
				id   string
				body rlObj
			}{
				"own parent":            {r1, rlObj{"_parent_id": r1}},
				"grandchild as parent":  {r1, rlObj{"_parent_id": g}},
				"descendant by code":    {r2, rlObj{"_parent_reference_back_office": "G"}},
				"child as parent":       {c, rlObj{"_parent_id": g}},
				"own parent by ERP key": {g, rlObj{"_parent_reference_back_office": "G"}},
			} {
				t.Run(name, func(t *testing.T) {
					rlWantError(t, w.do(t, "PUT", rlPath("Project", c.id), c.body), 409)
				})
			}
			roots(t, map[string]string{r1: r1, r2: r1, c: r1, g: r1, g2: r1, gg: r1})
			rlEq(t, "R1 _parent_id", rlStr(w.get(t, "Project", r1), "_parent_id"), rlZeroGUID)
		})

		t.Run("one tree, one company", func(t *testing.T) {
			r := w.do(t, "POST", "/api/Project", rlObj{"reference_back_office": "X", "name": "X", "company_id": c2, "_parent_id": r1})
			rlWantError(t, r, 409)
			rlWantError(t, w.do(t, "PUT", rlPath("Project", g), rlObj{"company_id": c2}), 409)
			rlWantError(t, w.do(t, "PUT", rlPath("Project", c), rlObj{"company_id": c2}), 409)
			// A root with children cannot change company alone either.
			rlWantError(t, w.do(t, "PUT", rlPath("Project", r1), rlObj{"company_id": c2}), 409)
			rlEq(t, "R1 company", rlStr(w.get(t, "Project", r1), "company_id"), w.companyID)
			other := mk(t, "OTHER", rlObj{"company_id": c2})
			rlWantError(t, w.do(t, "PUT", rlPath("Project", other), rlObj{"_parent_id": r1}), 409)
			roots(t, map[string]string{other: other})
			rlEq(t, "G company", rlStr(w.get(t, "Project", g), "company_id"), w.companyID)
			// A root without children may change company.
			w.put(t, "Project", other, rlObj{"company_id": w.companyID})
			w.put(t, "Project", other, rlObj{"_parent_id": g})
			roots(t, map[string]string{other: r1})
		})
	})
}

// ---------------------------------------------------------------------------
// 15. Deletes.

func TestRuleDeletes(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)

		t.Run("archive-only entities", func(t *testing.T) {
			addr := w.create(t, "DbAddress", rlObj{"code": "A1", "company_id": w.companyID})
			for ctrl, id := range map[string]string{"Company": w.companyID, "DbAddress": addr, "User": w.userID} {
				r := w.do(t, "DELETE", rlPath(ctrl, id), nil)
				rlWantError(t, r, 405, "archive")
				w.get(t, ctrl, id)
				w.put(t, ctrl, id, rlObj{"archived": true})
				rlEq(t, ctrl+" archived", w.get(t, ctrl, id)["archived"], any(true))
			}
		})

		t.Run("deleting a job deletes its plannings", func(t *testing.T) {
			id := w.newJob(t, nil)
			p1 := w.plan(t, id, rlTime("2030-08-01T08:00:00Z"), 60)
			p2 := w.plan(t, id, rlTime("2030-08-02T08:00:00Z"), 60)
			other := w.newJob(t, nil)
			p3 := w.plan(t, other, rlTime("2030-08-03T08:00:00Z"), 60)
			w.must(t, 204, "DELETE", rlPath("Jobs", id), nil)
			w.must(t, 404, "GET", rlPath("Jobs", id), nil)
			w.must(t, 404, "GET", rlPath("JobPlanning", p1), nil)
			w.must(t, 404, "GET", rlPath("JobPlanning", p2), nil)
			w.get(t, "JobPlanning", p3)
			w.must(t, 404, "DELETE", rlPath("Jobs", id), nil)
		})

		t.Run("a referenced row cannot be deleted", func(t *testing.T) {
			used := w.create(t, "JobType", rlObj{"code": "USED", "name": "Used"})
			unused := w.create(t, "JobType", rlObj{"code": "UNUSED", "name": "Unused"})
			job := w.newJob(t, rlObj{"job_type_id": used})
			rlWantError(t, w.do(t, "DELETE", rlPath("JobType", used), nil), 409)
			w.get(t, "JobType", used)
			w.must(t, 204, "DELETE", rlPath("JobType", unused), nil)
			w.must(t, 404, "GET", rlPath("JobType", unused), nil)
			rlWantError(t, w.do(t, "DELETE", rlPath("Project", w.projectID), nil), 409)
			w.must(t, 204, "DELETE", rlPath("Jobs", job), nil)
			w.must(t, 204, "DELETE", rlPath("JobType", used), nil)
		})
	})
}

// ---------------------------------------------------------------------------
// 16. PUT, PATCH, POST and URL semantics.

func TestRulePutSemantics(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		w := rlNewWorld(t, dsn)
		full := rlObj{"reference_back_office": "J-PUT", "name": "Full job", "description": "desc", "estimated_time": 120,
			"due_date": "2030-09-01T10:00:00Z", "customer_reference": "CR-1", "working_sequence": 3}
		id := w.newJob(t, full)
		w.create(t, "JobType", rlObj{"code": "JT2", "name": "Other"})

		t.Run("only properties present change", func(t *testing.T) {
			before := w.get(t, "Jobs", id)
			w.put(t, "Jobs", id, rlObj{"description": "new desc"})
			after := w.get(t, "Jobs", id)
			for k, v := range before {
				switch k {
				case "description":
					rlEq(t, k, rlStr(after, k), "new desc")
				case "modified_dateutc", "date_update", "@odata.context", "@odata.etag":
				default:
					rlEq(t, k, fmt.Sprint(after[k]), fmt.Sprint(v))
				}
			}
		})

		t.Run("PATCH works like PUT", func(t *testing.T) {
			b := w.must(t, 200, "PATCH", rlPath("Jobs", id), rlObj{"estimated_time": 30, "job_type_code": "JT2"})
			rlEq(t, "PATCH reply estimated_time", rlNum(t, b, "estimated_time"), 30)
			j := w.get(t, "Jobs", id)
			rlEq(t, "estimated_time", rlNum(t, j, "estimated_time"), 30)
			rlEq(t, "job_type_code", rlStr(j, "job_type_code"), "JT2")
			rlEq(t, "name kept", rlStr(j, "name"), "Full job")
			rlEq(t, "description kept", rlStr(j, "description"), "new desc")
		})

		t.Run("the body id", func(t *testing.T) {
			r := w.do(t, "PUT", rlPath("Jobs", id), rlObj{"id": rlNewGUID(), "name": "Other"})
			rlWantError(t, r, 400)
			rlWantDetail(t, r, "", "id")
			rlEq(t, "name after refusal", rlStr(w.get(t, "Jobs", id), "name"), "Full job")
			w.put(t, "Jobs", id, rlObj{"id": id, "name": "Same id"})
			w.put(t, "Jobs", id, rlObj{"id": strings.ToUpper(id), "name": "Upper-case id"})
			w.put(t, "Jobs", id, rlObj{"id": rlZeroGUID, "name": "Zero id"})
			rlEq(t, "name", rlStr(w.get(t, "Jobs", id), "name"), "Zero id")
		})

		t.Run("unknown and existing keys", func(t *testing.T) {
			rlWantError(t, w.do(t, "PUT", rlPath("Jobs", rlNewGUID()), rlObj{"name": "x"}), 404)
			rlWantError(t, w.do(t, "PATCH", rlPath("Jobs", rlNewGUID()), rlObj{"name": "x"}), 404)
			rlWantError(t, w.do(t, "GET", rlPath("Jobs", rlNewGUID()), nil), 404)
			n := len(w.list(t, "Jobs"))
			rlWantError(t, w.do(t, "POST", "/api/Jobs", w.jobBody(rlObj{"id": id, "name": "dup"})), 409)
			rlEq(t, "jobs after refused POST", len(w.list(t, "Jobs")), n)
			rlEq(t, "name after refused POST", rlStr(w.get(t, "Jobs", id), "name") != "dup", true)
			rlWantError(t, w.do(t, "POST", "/api/Jobs", w.jobBody(rlObj{"reference_back_office": "J-PUT"})), 409)
			// An empty or zero id means "assign one".
			for _, given := range []string{"", rlZeroGUID} {
				j := w.get(t, "Jobs", w.newJob(t, rlObj{"id": given}))
				if rlStr(j, "id") == rlZeroGUID || rlStr(j, "id") == "" {
					t.Errorf("id %q was not assigned: %s", given, rlStr(j, "id"))
				}
			}
			own := rlNewGUID()
			rlEq(t, "client id kept", w.newJob(t, rlObj{"id": own}), own)
		})

		t.Run("URL forms", func(t *testing.T) {
			for _, path := range []string{
				"/api/jobs/" + id,
				"/api/Jobs/" + strings.ToUpper(id),
				"/api/JOBS(" + id + ")",
				"/api/jobs(" + strings.ToUpper(id) + ")",
			} {
				rlEq(t, "GET "+path, rlStr(w.must(t, 200, "GET", path, nil), "id"), id)
			}
			w.must(t, 200, "PUT", "/api/jobs/"+id, rlObj{"description": "slash form"})
			rlEq(t, "description via slash form", rlStr(w.get(t, "Jobs", id), "description"), "slash form")
			w.must(t, 200, "PATCH", "/api/jobs/"+id, rlObj{"description": "slash patch"})
			rlEq(t, "description via slash PATCH", rlStr(w.get(t, "Jobs", id), "description"), "slash patch")
		})

		t.Run("Prefer: return=minimal", func(t *testing.T) {
			b := w.must(t, 201, "POST", "/api/Jobs", w.jobBody(rlObj{"name": "minimal"}), "Prefer", "return=minimal")
			newID := rlStr(b, "id")
			if len(b) != 1 || newID == "" {
				t.Errorf("minimal POST reply = %v, want only an id", b)
			}
			rlEq(t, "minimal POST stored", rlStr(w.get(t, "Jobs", newID), "name"), "minimal")
			b = w.must(t, 200, "PUT", rlPath("Jobs", newID), rlObj{"name": "minimal 2"}, "Prefer", "return=minimal")
			if len(b) != 1 || rlStr(b, "id") != newID {
				t.Errorf("minimal PUT reply = %v, want {id: %s}", b, newID)
			}
			rlEq(t, "minimal PUT stored", rlStr(w.get(t, "Jobs", newID), "name"), "minimal 2")
			full := w.must(t, 200, "PUT", rlPath("Jobs", newID), rlObj{"name": "full"})
			rlEq(t, "full PUT reply name", rlStr(full, "name"), "full")
		})
	})
}
