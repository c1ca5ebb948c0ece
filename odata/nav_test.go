package odata

import (
	"fmt"
	"testing"

	"github.com/ordo-fsm/ordo/schema"
)

// Every navigation name must be distinct from the entity's field names and
// from its other navigations: a path segment is looked up among both.
func TestNavigationNames(t *testing.T) {
	for _, e := range schema.Default.Entities {
		seen := map[string]string{}
		for _, f := range e.Fields {
			seen[f.Name] = "field"
		}
		for _, n := range Navigations(e) {
			if what, dup := seen[n.Name]; dup {
				t.Errorf("%s: navigation %s clashes with a %s", e.Name, n.Name, what)
			}
			seen[n.Name] = "navigation"
			got, ok := NavigationOf(e, n.Name)
			if !ok || got.Ref != n.Ref || got.Many != n.Many || got.Target != n.Target {
				t.Errorf("%s: NavigationOf(%s) = %+v, want %+v", e.Name, n.Name, got, n)
			}
			if n.Target == nil || n.Ref == nil {
				t.Errorf("%s: navigation %s has no target or reference", e.Name, n.Name)
			}
		}
	}
}

func TestJobsNavigations(t *testing.T) {
	jobs := schema.Default.MustEntity("jobs")
	var names []string
	for _, n := range Navigations(jobs) {
		s := n.Name + "->" + n.Target.Name
		if n.Many {
			s += "[]"
		}
		names = append(names, s)
	}
	want := "[_parent_job->jobs project->project job_type->job_type job_priority->job_priority job_status->job_status " +
		"db_address->db_address contact->contact requested_by_company->company requested_by_contact->contact " +
		"suggested_user->user skill->skill approval_responsible_user->user company->company " +
		"db_address_db_country->db_country _child_jobs->jobs[] job_planning->job_planning[]]"
	if got := fmt.Sprint(names); got != want {
		t.Errorf("jobs navigations:\n got %s\nwant %s", got, want)
	}
}
