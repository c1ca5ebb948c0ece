package service

import (
	"context"

	"github.com/ordo-fsm/ordo"
)

// SeedTenant creates the rows every tenant has: the system job statuses with
// their fixed ids and the equipment family Location. It runs inside the
// transaction that creates the tenant.
func (s *Service) SeedTenant(ctx context.Context, tx ordo.Tx) error {
	now := s.Now()
	se := s.reg.MustEntity("job_status")
	for i, st := range ordo.SystemStatuses {
		err := tx.Insert(ctx, se, ordo.Record{
			"id": st.ID, "code": st.Code, "name": st.Name,
			"system_job_status_id": st.ID, "system_job_status_code": st.Code,
			"sequence": int64(i + 1), "usable_on_api": st.UsableOnAPI, "modified_dateutc": now,
		})
		if err != nil {
			return err
		}
	}
	return tx.Insert(ctx, s.reg.MustEntity("equipment_family"), ordo.Record{
		"id": ordo.LocationFamilyID, "code": "Location", "name": "Location",
		"description": "Head of a non-mobile installation tree", "modified_dateutc": now,
	})
}
