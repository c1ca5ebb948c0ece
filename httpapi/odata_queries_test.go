package httpapi_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordo-fsm/ordo/demo"
	"github.com/ordo-fsm/ordo/internal/testenv"
	"github.com/ordo-fsm/ordo/schema"
)

// odDemoData is the demo data set as the API returns it unfiltered: the
// expected answer of every query is computed from it in Go.
type odDemoData struct {
	jobs, projects, companies, plannings, users, userSkills, models, brands map[string]odRow
	planByJob                                                               map[string][]odRow
	jobsByProject                                                           map[string][]odRow
	skillsByUser                                                            map[string][]odRow
}

// odDemoClock stamps modified_dateutc: every write of the demo is 30 s
// after the previous one from 2026-01-27T08:00Z, so that the delta-sync
// queries at 12:00 cut the data set in two.
var odDemoStart = time.Date(2026, 1, 27, 8, 0, 0, 0, time.UTC)

// odDemo starts a server with the demo data set in tenant DEMO and reads it all back.
func odDemo(t *testing.T, dsn string) (*testenv.Server, *testenv.Client, *odDemoData) {
	t.Helper()
	srv := testenv.NewServer(t, dsn)
	var ticks atomic.Int64
	srv.Service.Now = func() time.Time { return odDemoStart.Add(time.Duration(ticks.Add(1)) * 30 * time.Second) }
	c := srv.Tenant(t, "DEMO")
	start := time.Now()
	if err := demo.Generate(context.Background(), srv.Service, c.Tenant.ID, demo.Options{Jobs: 300, Now: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	t.Logf("demo data set in %v", time.Since(start).Round(time.Millisecond))
	d := &odDemoData{
		jobs: odAll(t, c, "Jobs"), projects: odAll(t, c, "Project"), companies: odAll(t, c, "Company"),
		plannings: odAll(t, c, "JobPlanning"), users: odAll(t, c, "User"), userSkills: odAll(t, c, "UserSkill"),
		models: odAll(t, c, "EquipmentModel"), brands: odAll(t, c, "EquipmentBrand"),
		planByJob: map[string][]odRow{}, jobsByProject: map[string][]odRow{}, skillsByUser: map[string][]odRow{},
	}
	if len(d.jobs) != 300 {
		t.Fatalf("%d jobs, want 300", len(d.jobs))
	}
	for _, p := range d.plannings {
		d.planByJob[odStr(p, "jobs_id")] = append(d.planByJob[odStr(p, "jobs_id")], p)
	}
	for _, j := range d.jobs {
		d.jobsByProject[odStr(j, "project_id")] = append(d.jobsByProject[odStr(j, "project_id")], j)
	}
	for _, us := range d.userSkills {
		d.skillsByUser[odStr(us, "user_id")] = append(d.skillsByUser[odStr(us, "user_id")], us)
	}
	return srv, c, d
}

const odZeroGUID = "00000000-0000-0000-0000-000000000000"

var odZeroDate = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func (d *odDemoData) project(j odRow) odRow { return d.projects[odStr(j, "project_id")] }
func (d *odDemoData) company(j odRow) odRow { return d.companies[odStr(d.project(j), "company_id")] }

// odCase is one query and how to compute its answer from the data set.
type odCase struct {
	set   string // controller; Jobs when empty
	query string // written for humans; escaped by odQuery
	match func(r odRow) bool
	order []odKey
	// expand checks the expansions of one returned row against the data
	// set (full is the row as read unfiltered).
	expand func(t *testing.T, got, full odRow)
	// minRows guards against vacuous cases: the answer must have at least
	// this many rows (and fewer than all when below is set).
	minRows int
	below   bool
}

// odField reads a field in the Go type of its schema kind (the first entity
// declaring it decides; kinds agree across entities).
func odField(f string) func(odRow) any {
	var kind schema.Kind
	for _, e := range schema.Default.Entities {
		if fd, ok := e.Field(f); ok {
			kind = fd.Kind
			break
		}
	}
	return func(r odRow) any {
		switch kind {
		case schema.KindInt:
			return odInt(r, f)
		case schema.KindDecimal:
			return odFloat(r, f)
		case schema.KindBool:
			return odBool(r, f)
		case schema.KindDate:
			return odTime(r, f)
		}
		return odStr(r, f)
	}
}

func asc(f string) odKey  { return odKey{val: odField(f)} }
func desc(f string) odKey { return odKey{val: odField(f), desc: true} }

// odCheck runs one case: the rows (walking every page), their order, the
// $top/$skip window, the selected members and their values, the count and
// the expansions.
func odCheck(t *testing.T, c *testenv.Client, all map[string]odRow, tc odCase) {
	t.Helper()
	set := cmpOr(tc.set, "Jobs")
	opts := odTopLevel(tc.query)
	var want []odRow
	for _, r := range all {
		if tc.match(r) {
			want = append(want, r)
		}
	}
	total := len(want)
	if total < tc.minRows || (tc.below && total == len(all)) {
		t.Fatalf("%s?%s: the data set gives %d of %d rows; the case is too weak", set, tc.query, total, len(all))
	}
	odSort(want, tc.order)
	if s, ok := opts["$skip"]; ok {
		n, _ := strconv.Atoi(s)
		want = want[min(n, len(want)):]
	}
	if s, ok := opts["$top"]; ok {
		n, _ := strconv.Atoi(s)
		want = want[:min(n, len(want))]
	}
	got := odWalk(t, c, odQuery(set, tc.query))
	if !slices.Equal(odIDs(got.Rows), odIDs(want)) {
		t.Fatalf("%s?%s: got %d rows %v...,\nwant %d rows %v...", set, tc.query, len(got.Rows), head(odIDs(got.Rows)), len(want), head(odIDs(want)))
	}
	if wantPages := max(1, (len(want)+99)/100); got.Pages != wantPages && !(len(want)%100 == 0 && got.Pages == wantPages+1) {
		t.Errorf("%s?%s: %d pages for %d rows", set, tc.query, got.Pages, len(want))
	}
	if opts["$count"] == "true" {
		if got.Count == nil || *got.Count != int64(total) {
			t.Errorf("%s?%s: @odata.count %v, want %d", set, tc.query, got.Count, total)
		}
	} else if got.Count != nil {
		t.Errorf("%s?%s: @odata.count without $count=true", set, tc.query)
	}
	sel, hasSel := opts["$select"]
	navs := odExpandNames(opts["$expand"])
	if hasSel && sel != "*" {
		list := []string{"id"}
		for _, f := range strings.Split(sel, ",") {
			if f = strings.TrimSpace(f); f != "id" {
				list = append(list, f)
			}
		}
		wantCtx := "/api/$metadata#" + set + "(" + strings.Join(list, ",")
		if !strings.Contains(got.Context, wantCtx) {
			t.Errorf("%s?%s: @odata.context %s, want it to contain %s", set, tc.query, got.Context, wantCtx)
		}
	} else if !strings.HasSuffix(got.Context, "/api/$metadata#"+set) && !strings.Contains(got.Context, "/api/$metadata#"+set+"(") {
		t.Errorf("%s?%s: @odata.context %s", set, tc.query, got.Context)
	}
	for _, r := range got.Rows {
		full := all[odStr(r, "id")]
		wantKeys := map[string]bool{}
		if hasSel && sel != "*" {
			wantKeys["id"] = true
			for _, f := range strings.Split(sel, ",") {
				wantKeys[strings.TrimSpace(f)] = true
			}
		} else {
			for k := range full {
				wantKeys[k] = true
			}
		}
		for _, n := range navs {
			if _, ok := r[n]; ok { // an unset to-one navigation is left out (no nulls)
				wantKeys[n] = true
			}
			if _, ok := r[n+"@odata.count"]; ok {
				wantKeys[n+"@odata.count"] = true
			}
		}
		if len(wantKeys) != len(r) {
			t.Fatalf("%s?%s: row has members %v, want %d members", set, tc.query, odKeys(r), len(wantKeys))
		}
		for k := range r {
			if !wantKeys[k] {
				t.Fatalf("%s?%s: unexpected member %s", set, tc.query, k)
			}
			if slices.Contains(navs, k) || strings.HasSuffix(k, "@odata.count") {
				continue
			}
			if !odSameJSON(r[k], full[k]) {
				t.Fatalf("%s?%s: %s = %v, want %v", set, tc.query, k, r[k], full[k])
			}
		}
		if tc.expand != nil {
			tc.expand(t, r, full)
		} else if len(navs) > 0 {
			t.Fatalf("%s?%s: expansions not checked", set, tc.query)
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func head(ids []string) []string { return ids[:min(3, len(ids))] }

// TestODataQueries compares the answers of many OData queries with the rows
// computed in Go from the whole demo data set.
func TestODataQueries(t *testing.T) {
	testenv.Each(t, func(t *testing.T, dsn string) {
		_, c, d := odDemo(t, dsn)
		noon := time.Date(2026, 1, 27, 12, 0, 0, 0, time.UTC)
		feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		jm := func(j odRow) time.Time { return odTime(j, "modified_dateutc") }
		plans := func(j odRow) []odRow { return d.planByJob[odStr(j, "id")] }
		anyPlan := func(j odRow, f func(p odRow) bool) bool { return slices.ContainsFunc(plans(j), f) }
		allPlans := func(j odRow, f func(p odRow) bool) bool {
			return !slices.ContainsFunc(plans(j), func(p odRow) bool { return !f(p) })
		}
		code := func(j odRow) string { return odStr(d.company(j), "code") }
		et := func(j odRow) int64 { return odInt(j, "estimated_time") }
		str := func(f, v string) func(odRow) bool { return func(r odRow) bool { return odStr(r, f) == v } }
		none := func(odRow) bool { return false }
		jobCases := []odCase{
			// delta sync, both date forms, with the index order
			{query: "$filter=modified_dateutc gt 2026-01-27T12:00:00Z&$orderby=modified_dateutc",
				match: func(j odRow) bool { return jm(j).After(noon) }, order: []odKey{asc("modified_dateutc")}, minRows: 10, below: true},
			{query: "$filter=modified_dateutc gt '2026-01-27T12:00:00.000Z'&$orderby=modified_dateutc",
				match: func(j odRow) bool { return jm(j).After(noon) }, order: []odKey{asc("modified_dateutc")}, minRows: 10, below: true},
			{query: "$filter=modified_dateutc ge 2026-01-27T12:00:00.000Z and modified_dateutc lt '2026-01-27T14:00:00Z'",
				match: func(j odRow) bool { return !jm(j).Before(noon) && jm(j).Before(noon.Add(2*time.Hour)) }, minRows: 1, below: true},
			{query: "$filter=modified_dateutc le '2026-01-27T12:00:00Z'&$orderby=modified_dateutc desc&$select=modified_dateutc,reference_back_office",
				match: func(j odRow) bool { return !jm(j).After(noon) }, order: []odKey{desc("modified_dateutc")}, minRows: 10, below: true},
			{query: "$filter=modified_dateutc gt 2026-01-27T13:00:00+01:00&$orderby=modified_dateutc&$top=150",
				match: func(j odRow) bool { return jm(j).After(noon) }, order: []odKey{asc("modified_dateutc")}, minRows: 10},
			{query: "$filter=modified_dateutc gt 2026-01-27&$count=true&$top=1",
				match: func(j odRow) bool { return jm(j).After(noon.Add(-12 * time.Hour)) }},
			// paths through references, one to three levels
			{query: "$filter=project/company/code eq 'C0001'", match: func(j odRow) bool { return code(j) == "C0001" }, minRows: 5, below: true},
			{query: "$filter=project/company/code eq 'C0003' and estimated_time ge 120",
				match: func(j odRow) bool { return code(j) == "C0003" && et(j) >= 120 }, minRows: 2, below: true},
			{query: "$filter=project/company/city eq 'Paris' or project/company/city eq 'Lille'",
				match: func(j odRow) bool { c := odStr(d.company(j), "city"); return c == "Paris" || c == "Lille" }, minRows: 2, below: true},
			{query: "$filter=project/_parent/reference_back_office eq 'L0002-1'",
				match: func(j odRow) bool {
					return odStr(d.projects[odStr(d.project(j), "_parent_id")], "reference_back_office") == "L0002-1"
				}, minRows: 1, below: true},
			{query: "$filter=project/equipment_model/equipment_brand/code eq 'BR_Kone'",
				match: func(j odRow) bool {
					m := d.models[odStr(d.project(j), "equipment_model_id")]
					return odStr(d.brands[odStr(m, "equipment_brand_id")], "code") == "BR_Kone"
				}, minRows: 2, below: true},
			{query: "$filter=company/code eq 'C0002' and project/company/code eq 'C0002'",
				match: func(j odRow) bool { return code(j) == "C0002" }, minRows: 2, below: true},
			{query: "$filter=project/company eq null", match: none},
			{query: "$filter=_parent_job eq null&$top=5", match: func(odRow) bool { return true }},
			{query: "$filter=skill eq null", match: str("skill_id", odZeroGUID), minRows: 50, below: true},
			{query: "$filter=skill ne null and skill/code eq 'SK02'", match: str("skill_code", "SK02"), minRows: 2, below: true},
			// any / all over job_planning
			{query: "$filter=job_planning/any()", match: func(j odRow) bool { return len(plans(j)) > 0 }, minRows: 50, below: true},
			{query: "$filter=not job_planning/any()", match: func(j odRow) bool { return len(plans(j)) == 0 }, minRows: 50, below: true},
			{query: "$filter=job_planning/any(p: p/user_code eq 'T003')",
				match: func(j odRow) bool { return anyPlan(j, func(p odRow) bool { return odStr(p, "user_code") == "T003" }) }, minRows: 2, below: true},
			{query: "$filter=job_planning/any(p: p/is_leader)",
				match: func(j odRow) bool { return anyPlan(j, func(p odRow) bool { return odBool(p, "is_leader") }) }, minRows: 2, below: true},
			{query: "$filter=job_planning/all(p: p/user_code eq 'T001')",
				match: func(j odRow) bool { return allPlans(j, func(p odRow) bool { return odStr(p, "user_code") == "T001" }) }, minRows: 50, below: true},
			{query: "$filter=job_planning/any(p: p/date_from ge 2026-02-01T00:00:00Z) and job_planning/all(p: p/date_to gt p/date_from)",
				match: func(j odRow) bool {
					return anyPlan(j, func(p odRow) bool { return !odTime(p, "date_from").Before(feb) })
				}, minRows: 2, below: true},
			{query: "$filter=job_planning/any(p: p/user/lastname eq 'Maes' or p/user/firstname eq 'Finn')",
				match: func(j odRow) bool {
					return anyPlan(j, func(p odRow) bool {
						u := d.users[odStr(p, "user_id")]
						return odStr(u, "lastname") == "Maes" || odStr(u, "firstname") == "Finn"
					})
				}, minRows: 2, below: true},
			{query: "$filter=job_planning/any(p: p/user_code eq 'T002' and p/date_from lt 2026-02-01) or estimated_time eq 240",
				match: func(j odRow) bool {
					return et(j) == 240 || anyPlan(j, func(p odRow) bool { return odStr(p, "user_code") == "T002" && odTime(p, "date_from").Before(feb) })
				}, minRows: 2, below: true},
			{query: "$filter=job_planning/all(p: p/is_leader) and job_planning/any()",
				match: func(j odRow) bool {
					return len(plans(j)) > 0 && allPlans(j, func(p odRow) bool { return odBool(p, "is_leader") })
				}, minRows: 1, below: true},
			// in
			{query: "$filter=job_status_code in ('Open', 'Pooling', 'Suggested')",
				match: func(j odRow) bool {
					return slices.Contains([]string{"Open", "Pooling", "Suggested"}, odStr(j, "job_status_code"))
				}, minRows: 20, below: true},
			{query: "$filter=estimated_time in (30, 60, 90)", match: func(j odRow) bool { return et(j) == 30 || et(j) == 60 || et(j) == 90 }, minRows: 20, below: true},
			{query: "$filter=reference_back_office in ('WO000001', 'WO000150', 'WO000300', 'NOPE')",
				match: func(j odRow) bool {
					return slices.Contains([]string{"WO000001", "WO000150", "WO000300"}, odStr(j, "reference_back_office"))
				}, minRows: 3},
			{query: "$filter=project/company/code in ('C0002', 'C0004')", match: func(j odRow) bool { return code(j) == "C0002" || code(j) == "C0004" }, minRows: 5, below: true},
			{query: "$filter=id2 in (1, 2, 3, 299)", match: func(j odRow) bool { return slices.Contains([]int64{1, 2, 3, 299}, odInt(j, "id2")) }, minRows: 4},
			// string functions
			{query: "$filter=contains(description, 'noise')", match: func(j odRow) bool { return strings.Contains(odStr(j, "description"), "noise") }, minRows: 5, below: true},
			{query: "$filter=startswith(name, 'Repair')", match: func(j odRow) bool { return strings.HasPrefix(odStr(j, "name"), "Repair") }, minRows: 5, below: true},
			{query: "$filter=endswith(name, ' 2')", match: func(j odRow) bool { return strings.HasSuffix(odStr(j, "name"), " 2") }, minRows: 5, below: true},
			{query: "$filter=tolower(job_type_code) eq 'jt_repair'", match: str("job_type_code", "JT_Repair"), minRows: 5, below: true},
			{query: "$filter=toupper(job_status_code) eq 'OPEN'", match: str("job_status_code", "Open"), minRows: 5, below: true},
			{query: "$filter=length(name) gt 20", match: func(j odRow) bool { return len([]rune(odStr(j, "name"))) > 20 }, minRows: 5, below: true},
			{query: "$filter=indexof(description, 'E42') ge 0", match: func(j odRow) bool { return strings.Contains(odStr(j, "description"), "E42") }, minRows: 5, below: true},
			{query: "$filter=substring(reference_back_office, 2) eq '000123'", match: str("reference_back_office", "WO000123"), minRows: 1},
			{query: "$filter=substring(reference_back_office, 2, 4) eq '0001'",
				match: func(j odRow) bool { return odStr(j, "reference_back_office")[2:6] == "0001" }, minRows: 50, below: true},
			{query: "$filter=concat(concat(job_type_code, '/'), job_priority_code) eq 'JT_Repair/P_Urgent'",
				match: func(j odRow) bool {
					return odStr(j, "job_type_code") == "JT_Repair" && odStr(j, "job_priority_code") == "P_Urgent"
				}, minRows: 2, below: true},
			{query: "$filter=trim(description) eq description and contains(tolower(name), 'gen2')",
				match: func(j odRow) bool { return strings.Contains(strings.ToLower(odStr(j, "name")), "gen2") }, minRows: 2, below: true},
			// arithmetic
			{query: "$filter=estimated_time add 30 gt 200", match: func(j odRow) bool { return et(j)+30 > 200 }, minRows: 5, below: true},
			{query: "$filter=estimated_time mul 2 eq 240", match: func(j odRow) bool { return et(j)*2 == 240 }, minRows: 5, below: true},
			{query: "$filter=estimated_time div 60 eq 2", match: func(j odRow) bool { return et(j)/60 == 2 }, minRows: 5, below: true},
			{query: "$filter=estimated_time mod 60 eq 30", match: func(j odRow) bool { return et(j)%60 == 30 }, minRows: 5, below: true},
			{query: "$filter=id2 sub 100 lt 0 and -estimated_time lt -150",
				match: func(j odRow) bool { return odInt(j, "id2") < 100 && et(j) > 150 }, minRows: 5, below: true},
			{query: "$filter=estimated_time div 0 eq 1 or not (estimated_time div 0 eq 1)", match: none},
			{query: "$filter=(estimated_time add 15) div 2 ge 60.5", match: func(j odRow) bool { return (et(j)+15)/2 >= 61 }, minRows: 5, below: true},
			// null means the kind's default
			{query: "$filter=skill_code eq null", match: str("skill_code", ""), minRows: 50, below: true},
			{query: "$filter=date_closed ne null", match: func(j odRow) bool { return !odTime(j, "date_closed").Equal(odZeroDate) }, minRows: 5, below: true},
			{query: "$filter=suggested_user_id ne null", match: func(j odRow) bool { return odStr(j, "suggested_user_id") != odZeroGUID }, minRows: 5, below: true},
			{query: "$filter=db_address_city ne null", match: func(j odRow) bool { return odStr(j, "db_address_city") != "" }, minRows: 2, below: true},
			{query: "$filter=db_address_latitude_decimal eq null and earliest_date_plannable eq null",
				match: func(j odRow) bool { return odFloat(j, "db_address_latitude_decimal") == 0 }, minRows: 5, below: true},
			// dates
			{query: "$filter=year(due_date) eq 2026 and month(due_date) eq 3",
				match: func(j odRow) bool { t := odTime(j, "due_date"); return t.Year() == 2026 && t.Month() == 3 }, minRows: 5, below: true},
			{query: "$filter=date(due_date) ge 2026-03-15 and due_date lt 2026-03-20T00:00:00Z",
				match: func(j odRow) bool {
					t := odTime(j, "due_date")
					return !t.Before(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)) && t.Before(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC))
				}, minRows: 2, below: true},
			{query: "$filter=day(due_date) le 10", match: func(j odRow) bool { return odTime(j, "due_date").Day() <= 10 }, minRows: 5, below: true},
			// booleans through a reference, not
			{query: "$filter=project/is_mobile_installation", match: func(j odRow) bool { return odBool(d.project(j), "is_mobile_installation") }, minRows: 2, below: true},
			{query: "$filter=project/is_mobile_installation eq false and job_priority_code eq 'P_High'",
				match: func(j odRow) bool {
					return !odBool(d.project(j), "is_mobile_installation") && odStr(j, "job_priority_code") == "P_High"
				}, minRows: 5, below: true},
			{query: "$filter=not (job_status_code eq 'Open' or job_status_code eq 'Canceled')",
				match: func(j odRow) bool { s := odStr(j, "job_status_code"); return s != "Open" && s != "Canceled" }, minRows: 50, below: true},
			// $orderby (keyset paging over several pages), $select, $top, $skip, $count
			{query: "$orderby=estimated_time desc,reference_back_office&$top=150&$select=reference_back_office,estimated_time",
				match: func(odRow) bool { return true }, order: []odKey{desc("estimated_time"), asc("reference_back_office")}},
			{query: "$orderby=due_date,estimated_time desc&$skip=10&$top=120&$count=true",
				match: func(odRow) bool { return true }, order: []odKey{asc("due_date"), desc("estimated_time")}},
			{query: "$filter=estimated_time ge 180&$orderby=project/company/code desc,job_status_code&$select=name,job_status_code",
				match: func(j odRow) bool { return et(j) >= 180 },
				order: []odKey{{val: func(j odRow) any { return code(j) }, desc: true}, asc("job_status_code")}, minRows: 5},
			{query: "$orderby=job_status_code,due_date desc&$select=job_status_code,due_date",
				match: func(odRow) bool { return true }, order: []odKey{asc("job_status_code"), desc("due_date")}},
			{query: "$orderby=modified_dateutc desc&$top=250", match: func(odRow) bool { return true }, order: []odKey{desc("modified_dateutc")}},
			{query: "$orderby=project/is_mobile_installation desc,id2&$select=id2&$top=130",
				match: func(odRow) bool { return true },
				order: []odKey{{val: func(j odRow) any { return odBool(d.project(j), "is_mobile_installation") }, desc: true}, asc("id2")}},
			{query: "$orderby=db_address_latitude_decimal,estimated_time&$select=estimated_time",
				match: func(odRow) bool { return true }, order: []odKey{asc("db_address_latitude_decimal"), asc("estimated_time")}},
			{query: "$select=*&$filter=id2 le 3", match: func(j odRow) bool { return odInt(j, "id2") <= 3 }, minRows: 3},
			{query: "$count=true&$filter=job_status_code eq 'Planned'&$top=5", match: str("job_status_code", "Planned"), minRows: 5},
			{query: "$top=0&$count=true", match: func(odRow) bool { return true }},
			{query: "$skip=290&$count=true", match: func(odRow) bool { return true }},
			{query: "$skip=95&$select=id", match: func(odRow) bool { return true }},
			// $expand: to-one (nested), to-many with nested options
			{query: "$filter=project/company/code eq 'C0005'&$select=name&$expand=project($select=name,company_id;$expand=company($select=code))",
				match: func(j odRow) bool { return code(j) == "C0005" }, minRows: 2,
				expand: func(t *testing.T, got, full odRow) {
					p := got["project"].(odRow)
					wp := d.project(full)
					if odStr(p, "id") != odStr(wp, "id") || odStr(p, "name") != odStr(wp, "name") || len(p) != 4 {
						t.Fatalf("project %v, want %s", p, odStr(wp, "id"))
					}
					co := p["company"].(odRow)
					if odStr(co, "code") != "C0005" || odStr(co, "id") != odStr(wp, "company_id") || len(co) != 2 {
						t.Fatalf("company %v", co)
					}
				}},
			{query: "$filter=job_planning/any()&$select=reference_back_office&$expand=job_planning($filter=is_leader;$orderby=date_from desc;$select=user_code,date_from)",
				match: func(j odRow) bool { return len(plans(j)) > 0 }, minRows: 50,
				expand: func(t *testing.T, got, full odRow) {
					var want []odRow
					for _, p := range plans(full) {
						if odBool(p, "is_leader") {
							want = append(want, p)
						}
					}
					odSort(want, []odKey{desc("date_from")})
					gotP := odExpandedList(t, got, "job_planning")
					if !slices.Equal(odIDs(gotP), odIDs(want)) {
						t.Fatalf("job_planning %v, want %v", odIDs(gotP), odIDs(want))
					}
					for _, p := range gotP {
						if len(p) != 3 || p["user_code"] != d.plannings[odStr(p, "id")]["user_code"] || p["date_from"] != d.plannings[odStr(p, "id")]["date_from"] {
							t.Fatalf("planning %v", p)
						}
					}
				}},
			{query: "$filter=estimated_time ge 210&$expand=job_planning($top=1;$orderby=date_from;$count=true)",
				match: func(j odRow) bool { return et(j) >= 210 }, minRows: 10,
				expand: func(t *testing.T, got, full odRow) {
					want := slices.Clone(plans(full))
					odSort(want, []odKey{asc("date_from")})
					if n := got["job_planning@odata.count"]; !odSameJSON(n, len(want)) {
						t.Fatalf("job_planning@odata.count %v, want %d", n, len(want))
					}
					gotP := odExpandedList(t, got, "job_planning")
					if !slices.Equal(odIDs(gotP), odIDs(want[:min(1, len(want))])) {
						t.Fatalf("job_planning %v, want the first of %v", odIDs(gotP), odIDs(want))
					}
					for _, p := range gotP {
						if !odSameJSON(p, d.plannings[odStr(p, "id")]) {
							t.Fatalf("planning %v", p)
						}
					}
				}},
			{query: "$filter=skill ne null&$top=40&$expand=job_planning($top=1;$skip=0;$orderby=date_from desc;$select=date_from),skill,job_type($select=name)",
				match: func(j odRow) bool { return odStr(j, "skill_id") != odZeroGUID }, minRows: 40,
				expand: func(t *testing.T, got, full odRow) {
					want := slices.Clone(plans(full))
					odSort(want, []odKey{desc("date_from")})
					if gotP := odExpandedList(t, got, "job_planning"); !slices.Equal(odIDs(gotP), odIDs(want[:min(1, len(want))])) {
						t.Fatalf("job_planning %v, want the last of %v", odIDs(gotP), odIDs(want))
					}
					if sk := got["skill"].(odRow); odStr(sk, "id") != odStr(full, "skill_id") || odStr(sk, "code") != odStr(full, "skill_code") {
						t.Fatalf("skill %v", sk)
					}
					if jt := got["job_type"].(odRow); odStr(jt, "id") != odStr(full, "job_type_id") || len(jt) != 2 {
						t.Fatalf("job_type %v", jt)
					}
				}},
			{query: "$filter=id2 le 20&$select=id2&$expand=_parent_job,project($select=reference_back_office;$expand=_parent($select=reference_back_office;$expand=company($select=code)))",
				match: func(j odRow) bool { return odInt(j, "id2") <= 20 }, minRows: 20,
				expand: func(t *testing.T, got, full odRow) {
					if got["_parent_job"] != nil {
						t.Fatalf("_parent_job %v, want it left out (no parent)", got["_parent_job"])
					}
					p := got["project"].(odRow)
					wp := d.project(full)
					if odStr(p, "reference_back_office") != odStr(wp, "reference_back_office") {
						t.Fatalf("project %v", p)
					}
					parent, _ := p["_parent"].(odRow)
					wpp, ok := d.projects[odStr(wp, "_parent_id")]
					switch {
					case !ok && p["_parent"] != nil:
						t.Fatalf("_parent %v, want it left out", p["_parent"])
					case ok && (odStr(parent, "reference_back_office") != odStr(wpp, "reference_back_office") ||
						odStr(parent["company"].(odRow), "code") != odStr(d.companies[odStr(wpp, "company_id")], "code")):
						t.Fatalf("_parent %v, want %v", parent, wpp["reference_back_office"])
					}
				}},
		}
		projectCases := []odCase{
			{set: "Project", query: "$filter=company/code eq 'C0001' and _parent ne null&$orderby=reference_back_office",
				match: func(p odRow) bool {
					return odStr(d.companies[odStr(p, "company_id")], "code") == "C0001" && odStr(p, "_parent_id") != odZeroGUID
				}, order: []odKey{asc("reference_back_office")}, minRows: 2},
			{set: "Project", query: "$filter=jobs/any(j: j/estimated_time ge 240)",
				match: func(p odRow) bool {
					return slices.ContainsFunc(d.jobsByProject[odStr(p, "id")], func(j odRow) bool { return et(j) >= 240 })
				}, minRows: 2, below: true},
			{set: "Project", query: "$filter=nb_open_jobs gt 2&$select=reference_back_office,nb_open_jobs&$expand=jobs($select=reference_back_office;$orderby=reference_back_office desc;$filter=job_status_code ne 'Canceled')",
				match: func(p odRow) bool { return odInt(p, "nb_open_jobs") > 2 }, minRows: 2,
				expand: func(t *testing.T, got, full odRow) {
					var want []odRow
					for _, j := range d.jobsByProject[odStr(full, "id")] {
						if odStr(j, "job_status_code") != "Canceled" {
							want = append(want, j)
						}
					}
					odSort(want, []odKey{desc("reference_back_office")})
					gotJ := odExpandedList(t, got, "jobs")
					if !slices.Equal(odIDs(gotJ), odIDs(want)) {
						t.Fatalf("jobs %v, want %v", odIDs(gotJ), odIDs(want))
					}
				}},
		}
		otherCases := []struct {
			all map[string]odRow
			odCase
		}{
			{d.companies, odCase{set: "Company", query: "$filter=db_country_code eq 'BE'&$orderby=code desc",
				match: str("db_country_code", "BE"), order: []odKey{desc("code")}, minRows: 2}},
			{d.plannings, odCase{set: "JobPlanning", query: "$filter=jobs/project/company/code eq 'C0002'&$orderby=date_from",
				match: func(p odRow) bool { return code(d.jobs[odStr(p, "jobs_id")]) == "C0002" }, order: []odKey{asc("date_from")}, minRows: 2}},
			{d.users, odCase{set: "User", query: "$filter=user_skill/any(s: s/skill_code eq 'SK01')&$select=code,lastname",
				match: func(u odRow) bool {
					return slices.ContainsFunc(d.skillsByUser[odStr(u, "id")], func(us odRow) bool { return odStr(us, "skill_code") == "SK01" })
				}, minRows: 1}},
			{d.models, odCase{set: "EquipmentModel", query: "$filter=equipment_brand/code eq 'BR_Kone'&$select=code&$expand=translations($select=value_translated)",
				match: func(m odRow) bool { return odStr(d.brands[odStr(m, "equipment_brand_id")], "code") == "BR_Kone" }, minRows: 2,
				expand: func(t *testing.T, got, full odRow) {
					tr := odExpandedList(t, got, "translations")
					if len(tr) != 1 || odStr(tr[0], "value_translated") != odStr(full, "name")+" (FR)" || len(tr[0]) != 2 {
						t.Fatalf("translations %v", tr)
					}
				}}},
		}
		n := 0
		run := func(all map[string]odRow, tc odCase) {
			n++
			t.Run(cmpOr(tc.set, "Jobs")+"?"+tc.query, func(t *testing.T) { odCheck(t, c, all, tc) })
		}
		for _, tc := range jobCases {
			run(d.jobs, tc)
		}
		for _, tc := range projectCases {
			run(d.projects, tc)
		}
		for _, tc := range otherCases {
			run(tc.all, tc.odCase)
		}
		if n < 60 {
			t.Errorf("only %d queries", n)
		}

		// $select and $expand on one entity.
		t.Run("single entity", func(t *testing.T) {
			var job odRow
			for _, j := range d.jobs {
				if len(plans(j)) > 0 && (job == nil || odStr(j, "id") < odStr(job, "id")) {
					job = j
				}
			}
			id := odStr(job, "id")
			plain := c.Do("GET", "/api/Jobs("+id+")", nil)
			path := odQuery("Jobs("+id+")", "$select=name,estimated_time&$expand=project($select=name;$expand=company($select=code)),job_planning($orderby=date_from desc;$select=user_code,date_from)")
			r := c.Do("GET", path, nil)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			wantCtx := c.URL + "/api/$metadata#Jobs(id,name,estimated_time,project(id,name,company(id,code)),job_planning(id,user_code,date_from))/$entity"
			if r.Body["@odata.context"] != wantCtx {
				t.Errorf("@odata.context %v, want %s", r.Body["@odata.context"], wantCtx)
			}
			etag := plain.Header.Get("ETag")
			if etag == "" || r.Header.Get("ETag") != etag || r.Body["@odata.etag"] != etag {
				t.Errorf("ETag %q / %v, want the entity's %q", r.Header.Get("ETag"), r.Body["@odata.etag"], etag)
			}
			if got := odKeys(r.Body); !slices.Equal(got, []string{"@odata.context", "@odata.etag", "estimated_time", "id", "job_planning", "name", "project"}) {
				t.Errorf("members %v", got)
			}
			if r.Body["name"] != job["name"] || !odSameJSON(r.Body["estimated_time"], job["estimated_time"]) {
				t.Errorf("fields %v %v", r.Body["name"], r.Body["estimated_time"])
			}
			p := r.Body["project"].(odRow)
			if odStr(p, "id") != odStr(job, "project_id") || odStr(p["company"].(odRow), "code") != code(job) {
				t.Errorf("project %v", p)
			}
			want := slices.Clone(plans(job))
			odSort(want, []odKey{desc("date_from")})
			if got := odExpandedList(t, r.Body, "job_planning"); !slices.Equal(odIDs(got), odIDs(want)) {
				t.Errorf("job_planning %v, want %v", odIDs(got), odIDs(want))
			}
			if r := c.Do("GET", path, nil, "If-None-Match", etag); r.Status != 304 {
				t.Errorf("If-None-Match: %d", r.Status)
			}
			if r := c.Do("GET", odQuery("Jobs("+odZeroGUID+")", "$expand=project"), nil); r.Status != 404 {
				t.Errorf("unknown id: %d", r.Status)
			}
		})
	})
}

// odExpandedList is a to-many expansion of a row.
func odExpandedList(t *testing.T, r odRow, name string) []odRow {
	t.Helper()
	list, ok := r[name].([]any)
	if !ok {
		t.Fatalf("%s is %T, want an array", name, r[name])
	}
	out := make([]odRow, len(list))
	for i, v := range list {
		out[i] = v.(odRow)
	}
	return out
}
