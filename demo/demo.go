// Package demo creates the DEMO tenant and a realistic data set: companies
// with addresses and contacts, location trees with installations, technicians
// with skills, lookups, a few hundred jobs across the workflow and their
// plannings. Everything goes through the service, so the data obeys the same
// rules as data sent by an ERP. The data is deterministic.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/admin"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// The demo tenant's credentials, printed by `ordo serve --demo`.
const (
	Domain   = "DEMO"
	User     = "api"
	Password = "demo"
)

// Ensure creates the demo tenant when it does not exist yet.
func Ensure(ctx context.Context, db *sqlstore.DB, svc *service.Service) (bool, error) {
	if _, err := db.TenantByDomain(ctx, Domain); err == nil {
		return false, nil
	} else if !ordo.IsCode(err, ordo.ENotFound) {
		return false, err
	}
	t, err := admin.CreateTenant(ctx, db, svc, Domain, "Demo field service", User, Password)
	if err != nil {
		return false, err
	}
	return true, Generate(ctx, svc, t.ID, Options{Jobs: 300})
}

// Options size the data set.
type Options struct {
	Jobs int
	// Now anchors plannings in time (default: the current day).
	Now time.Time
}

type gen struct {
	ctx    context.Context
	svc    *service.Service
	tenant int64
	rnd    *rand.Rand
	now    time.Time
	booked map[string][][2]time.Time // plannings per technician
}

func (g *gen) id() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(g.rnd.UintN(256))
	}
	u, _ := uuid.FromBytes(b[:])
	u[6] = (u[6] & 0x0f) | 0x40 // version 4
	u[8] = (u[8] & 0x3f) | 0x80 // RFC 4122 variant
	return u.String()
}

func (g *gen) create(entity string, body map[string]any) ordo.Record {
	e := g.svc.Registry().MustEntity(entity)
	if _, ok := body["id"]; !ok {
		body["id"] = g.id()
	}
	rec, err := g.svc.Create(g.ctx, g.tenant, e, body)
	if err != nil {
		panic(fmt.Errorf("demo %s %v: %w", entity, body["id"], err))
	}
	return rec
}

func (g *gen) pick(list []ordo.Record) ordo.Record { return list[g.rnd.IntN(len(list))] }

// Generate fills tenant with the demo data set.
func Generate(ctx context.Context, svc *service.Service, tenant int64, opt Options) (err error) {
	if opt.Now.IsZero() {
		opt.Now = time.Now().UTC().Truncate(24 * time.Hour)
	}
	g := &gen{ctx: ctx, svc: svc, tenant: tenant, rnd: rand.New(rand.NewPCG(42, 7)), now: opt.Now}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	g.run(opt)
	return nil
}

var cities = []struct {
	city, zip, country string
	lat, lon           float64
}{
	{"Brussels", "1000", "BE", 50.8466, 4.3528}, {"Antwerp", "2000", "BE", 51.2194, 4.4025}, {"Ghent", "9000", "BE", 51.0543, 3.7174},
	{"Lille", "59000", "FR", 50.6292, 3.0573}, {"Paris", "75011", "FR", 48.8566, 2.3522}, {"Rotterdam", "3011", "NL", 51.9244, 4.4777},
	{"Utrecht", "3511", "NL", 52.0907, 5.1214}, {"Cologne", "50667", "DE", 50.9375, 6.9603},
}

// free returns the first start at or after start, in steps of half an hour,
// when the technician has nothing booked for length, and books it.
func (g *gen) free(tech string, start time.Time, length time.Duration) time.Time {
	if g.booked == nil {
		g.booked = map[string][][2]time.Time{}
	}
	for {
		clash := false
		for _, b := range g.booked[tech] {
			if start.Before(b[1]) && b[0].Before(start.Add(length)) {
				clash = true
				break
			}
		}
		if !clash {
			g.booked[tech] = append(g.booked[tech], [2]time.Time{start, start.Add(length)})
			return start
		}
		start = start.Add(30 * time.Minute)
	}
}

var streets = []string{"Rue de la Loi", "Meir", "Korenmarkt", "Rue Nationale", "Boulevard Voltaire", "Coolsingel", "Oudegracht", "Hohe Straße"}

func (g *gen) run(opt Options) {
	for _, c := range [][2]string{{"BE", "Belgium"}, {"FR", "France"}, {"NL", "Netherlands"}, {"DE", "Germany"}} {
		g.create("db_country", map[string]any{"code": c[0], "name": c[1]})
	}
	var orgs []ordo.Record
	for _, o := range [][2]string{{"NORTH", "Ordo North"}, {"SOUTH", "Ordo South"}} {
		orgs = append(orgs, g.create("sales_organization", map[string]any{"code": o[0], "name": o[1], "db_country_id": nil}))
	}
	var jobTypes []ordo.Record
	for i, t := range []string{"Repair", "Maintenance", "Installation", "Inspection"} {
		jobTypes = append(jobTypes, g.create("job_type", map[string]any{"code": "JT_" + t, "name": t, "is_default": i == 0}))
	}
	var priorities []ordo.Record
	for i, p := range []string{"Low", "Normal", "High", "Urgent"} {
		priorities = append(priorities, g.create("job_priority", map[string]any{"code": "P_" + p, "name": p, "sequence": i + 1, "is_default": p == "Normal"}))
	}
	for _, s := range []struct {
		code, name  string
		def, closed bool
	}{{"ACTIVE", "Active", true, false}, {"OUT", "Out of service", false, false}, {"CLOSED", "Closed", false, true}} {
		g.create("project_status", map[string]any{"code": s.code, "name": s.name, "is_default": s.def, "is_closed": s.closed})
	}
	// A tenant status for jobs imported back into the ERP.
	g.create("job_status", map[string]any{"code": "ERP_IMP", "name": "Imported in ERP", "system_job_status_code": "Completed",
		"usable_on_api": true, "color_text": "#607d8b", "sequence": 100})
	// Planning: the tenant works in Brussels, Monday-Friday 08:00-17:00.
	g.create("planning_setting", map[string]any{"time_zone": "Europe/Brussels"})
	var skills []ordo.Record
	for i, s := range []string{"Elevators", "HVAC", "Electrical", "Fire alarms", "Access control"} {
		skills = append(skills, g.create("skill", map[string]any{"code": fmt.Sprintf("SK%02d", i+1), "name": s}))
	}
	families := map[string]ordo.Record{}
	for i, f := range []string{"Elevator", "Escalator", "HVAC unit", "Fire alarm panel", "Access gate"} {
		families[f] = g.create("equipment_family", map[string]any{"code": fmt.Sprintf("FAM%02d", i+1), "name": f, "_parent_code": ""})
	}
	type model struct{ brand, family, name string }
	var models []ordo.Record
	for i, m := range []model{{"Otis", "Elevator", "Gen2"}, {"Schindler", "Elevator", "3300"}, {"Kone", "Elevator", "MonoSpace"},
		{"Kone", "Escalator", "TravelMaster"}, {"Daikin", "HVAC unit", "VRV IV"}, {"Carrier", "HVAC unit", "AquaSnap"},
		{"Siemens", "Fire alarm panel", "FC2060"}, {"Siemens", "Access gate", "SiPass"}} {
		models = append(models, g.create("equipment_model", map[string]any{
			"code": fmt.Sprintf("MOD%02d", i+1), "name": m.name,
			"equipment_brand":           map[string]any{"code": "BR_" + m.brand, "name": m.brand},
			"equipment_family_id":       families[m.family].ID(),
			"warranty_period_nb_months": 24, "replacement_period_nb_months": 240,
			"translations": []any{map[string]any{"field_name": "name", "language_code": "fr", "value_translated": m.name + " (FR)"}},
		}))
	}
	var users []ordo.Record
	firsts := []string{"Anna", "Bram", "Chloé", "Dries", "Emma", "Finn", "Greet", "Hugo", "Ines", "Jonas", "Lotte", "Milan"}
	lasts := []string{"Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters", "De Smet", "Dubois", "Lambert"}
	for i := range firsts {
		u := g.create("user", map[string]any{
			"code": fmt.Sprintf("T%03d", i+1), "username": fmt.Sprintf("tech%02d@demo.example", i+1),
			"firstname": firsts[i], "lastname": lasts[i], "allow_service_app": true,
			"sales_organization_id": orgs[i%2].ID(), "mobile": fmt.Sprintf("+32 470 00 %02d %02d", i, i*3%100),
		})
		users = append(users, u)
		for _, k := range g.rnd.Perm(len(skills))[:1+i%3] {
			g.create("user_skill", map[string]any{"user_id": u.ID(), "skill_id": skills[k].ID()})
		}
	}
	for i, t := range []string{"Holiday", "Sick", "Training"} {
		ut := g.create("user_unavailability_type", map[string]any{"code": "UN_" + t, "name": t})
		start := g.now.AddDate(0, 0, 3+i*5)
		g.create("user_unavailability", map[string]any{"user_id": users[i*3].ID(), "user_unavailability_type_id": ut.ID(),
			"date_start": start.Format(time.RFC3339), "date_end": start.AddDate(0, 0, 2).Format(time.RFC3339), "is_approved": i != 1})
		g.free(users[i*3].ID(), start, 48*time.Hour) // nothing is planned during an absence
	}
	// Companies, each with an address, a contact, and location trees.
	var installations, mobiles []ordo.Record
	companyNames := []string{"Atlas Offices", "Belfort Hospital", "Citadel Mall", "Delta Logistics", "Europa Hotel", "Flanders Expo", "Gare Centrale", "Harbor Towers"}
	for i, name := range companyNames {
		c := cities[i%len(cities)]
		co := g.create("company", map[string]any{"code": fmt.Sprintf("C%04d", i+1), "name": name, "is_client": true,
			"city": c.city, "zip": c.zip, "street": streets[i], "street_number": fmt.Sprint(10 + i), "db_country_code": c.country,
			"sales_organization_code": orgs[i%2].String("code"), "email": fmt.Sprintf("facility@company%d.example", i+1)})
		g.create("contact", map[string]any{"reference_back_office": fmt.Sprintf("CT%04d", i+1), "company_id": co.ID(),
			"lastname": lasts[(i+5)%len(lasts)], "firstname": firsts[(i+3)%len(firsts)], "phone": "+32 2 555 00 " + fmt.Sprint(10+i)})
		for l := 0; l < 1+i%3; l++ {
			addr := g.create("db_address", map[string]any{"code": fmt.Sprintf("A%04d-%d", i+1, l+1), "company_id": co.ID(),
				"name": fmt.Sprintf("%s site %d", name, l+1), "street": streets[(i+l)%len(streets)], "street_number": fmt.Sprint(1 + l*7),
				"zip": c.zip, "city": c.city, "db_country_code": c.country})
			loc := g.create("project", map[string]any{"reference_back_office": fmt.Sprintf("L%04d-%d", i+1, l+1),
				"name": fmt.Sprintf("%s — building %c", name, 'A'+l), "company_id": co.ID(), "equipment_family_id": ordo.LocationFamilyID,
				"db_address_id": addr.ID(), "location": c.city})
			for k := 0; k < 2+(i+l)%3; k++ {
				m := g.pick(models)
				inst := g.create("project", map[string]any{"reference_back_office": fmt.Sprintf("I%04d-%d-%d", i+1, l+1, k+1),
					"name": fmt.Sprintf("%s %d", m.String("name"), k+1), "company_id": co.ID(), "_parent_id": loc.ID(),
					"equipment_model_id": m.ID(), "equipment_family_id": m.String("equipment_family_id"),
					"serial_number": fmt.Sprintf("SN-%d%04d", i+1, g.rnd.IntN(10000)), "db_address_id": addr.ID(),
					"date_built": g.now.AddDate(-2-k, -i, 0).Format(time.RFC3339)})
				installations = append(installations, inst)
			}
		}
		if i%4 == 0 {
			mobiles = append(mobiles, g.create("project", map[string]any{"reference_back_office": fmt.Sprintf("M%04d", i+1),
				"name": name + " mobile crane", "company_id": co.ID(), "is_mobile_installation": true}))
		}
	}
	g.jobs(opt.Jobs, installations, mobiles, jobTypes, priorities, skills, users)
}

func (g *gen) jobs(n int, installations, mobiles, jobTypes, priorities, skills, users []ordo.Record) {
	for i := 0; i < n; i++ {
		var project ordo.Record
		body := map[string]any{}
		if i%25 == 24 && len(mobiles) > 0 {
			project = g.pick(mobiles)
			c := cities[i%len(cities)]
			body["db_address_street"], body["db_address_city"], body["db_address_zip"] = streets[i%len(streets)], c.city, c.zip
			body["db_address_db_country_code"] = c.country
		} else {
			project = g.pick(installations)
			body["db_address_id"] = project.String("db_address_id")
		}
		jt := g.pick(jobTypes)
		body["reference_back_office"] = fmt.Sprintf("WO%06d", i+1)
		body["name"] = fmt.Sprintf("%s %s", jt.String("name"), project.String("name"))
		body["project_id"] = project.ID()
		body["job_type_id"] = jt.ID()
		body["job_priority_id"] = g.pick(priorities).ID()
		body["estimated_time"] = 30 + 30*g.rnd.IntN(8)
		body["due_date"] = g.now.AddDate(0, 0, 7+g.rnd.IntN(60)).Format(time.RFC3339)
		body["description"] = "Customer reports: " + []string{"unusual noise", "door does not close", "error code E42", "yearly check due", "temperature too high"}[g.rnd.IntN(5)]
		if g.rnd.IntN(3) == 0 {
			body["skill_id"] = g.pick(skills).ID()
		}
		start := g.now.AddDate(0, 0, g.rnd.IntN(40)-20).Add(time.Duration(7+g.rnd.IntN(9)) * time.Hour)
		tech := g.pick(users)
		// Where each job ends up in the workflow.
		stage := g.rnd.IntN(10)
		switch stage {
		case 0:
			body["job_status_code"] = "Open"
		case 1:
			body["job_status_code"] = "Pooling"
		case 2:
			body["job_status_code"] = "Suggested"
			body["suggested_user_id"] = tech.ID()
			body["suggested_date_start"] = start.Format(time.RFC3339)
		default:
			body["job_status_code"] = "ToBePlanned"
		}
		// Coordinates near the job's city, so that slot search counts travel;
		// jobs on mobile installations have none.
		if c := cities[i%len(cities)]; i%25 != 24 {
			body["db_address_latitude_decimal"] = c.lat + float64(i%7-3)*0.01
			body["db_address_longitude_decimal"] = c.lon + float64(i%5-2)*0.01
		}
		length := time.Duration(body["estimated_time"].(int)) * time.Minute
		if stage == 2 || stage >= 4 { // a technician is never booked twice at once
			start = g.free(tech.ID(), start, length)
		}
		if stage == 2 {
			body["suggested_date_start"] = start.Format(time.RFC3339)
		}
		job := g.create("jobs", body)
		if stage < 4 {
			continue
		}
		g.create("job_planning", map[string]any{"jobs_id": job.ID(), "user_id": tech.ID(), "is_leader": true,
			"date_from": start.Format(time.RFC3339), "date_to": start.Add(length).Format(time.RFC3339)})
		moves := map[int][]string{
			6: {ordo.StatusInProgress},
			7: {ordo.StatusInProgress, ordo.StatusCompleted},
			8: {ordo.StatusInProgress, ordo.StatusWaitingFurtherAction},
			9: {ordo.StatusCanceled},
		}[stage]
		for _, st := range moves {
			if err := g.svc.MoveJob(g.ctx, g.tenant, job.ID(), st); err != nil {
				panic(fmt.Errorf("demo move job: %w", err))
			}
		}
		if stage == 7 && i%2 == 0 {
			if err := g.svc.ChangeToVirtualStatus(g.ctx, g.tenant, job.ID(), "", "ERP_IMP"); err != nil {
				panic(err)
			}
		}
	}
}
