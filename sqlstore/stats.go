package sqlstore

import (
	"context"
	"time"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/schema"
)

// ProjectStats implements ordo.Tx: the project aggregates of contract section 5
// in two indexed queries (jobs by project, plannings by job).
func (tx *Tx) ProjectStats(ctx context.Context, projectID string) (ordo.ProjectStats, error) {
	var st ordo.ProjectStats
	a := tx.args()
	g := func(v string) string { return a.Add(schema.KindGUID, v) }
	tenant, project := a.AddRaw(tx.tenant), g(projectID)
	completed, canceled := g(ordo.StatusCompleted), g(ordo.StatusCanceled)
	planned, toBePlanned, wfa := g(ordo.StatusPlanned), g(ordo.StatusToBePlanned), g(ordo.StatusWaitingFurtherAction)
	var lastClosed any
	err := tx.queryRow(ctx, `SELECT
		COUNT(CASE WHEN s.system_job_status_id NOT IN (`+completed+`, `+canceled+`) THEN 1 END),
		COUNT(CASE WHEN s.system_job_status_id = `+planned+` THEN 1 END),
		COUNT(CASE WHEN s.system_job_status_id = `+toBePlanned+` THEN 1 END),
		COUNT(CASE WHEN s.system_job_status_id = `+wfa+` THEN 1 END),
		MAX(CASE WHEN s.system_job_status_id = `+completed+` THEN j.date_closed END)
		FROM jobs j JOIN job_status s ON s.tenant_id = j.tenant_id AND s.id = j.job_status_id
		WHERE j.tenant_id = `+tenant+` AND j.project_id = `+project, a.List...).
		Scan(&st.Open, &st.Planned, &st.ToBePlanned, &st.WaitingFurtherAction, &lastClosed)
	if err != nil {
		return st, err
	}
	if st.LastJob, err = tx.scanDate(lastClosed); err != nil {
		return st, err
	}
	a = tx.args()
	tenant, project = a.AddRaw(tx.tenant), g(projectID)
	completed, canceled = g(ordo.StatusCompleted), g(ordo.StatusCanceled)
	var next any
	err = tx.queryRow(ctx, `SELECT MIN(p.date_from)
		FROM job_planning p
		JOIN jobs j ON j.tenant_id = p.tenant_id AND j.id = p.jobs_id
		JOIN job_status s ON s.tenant_id = j.tenant_id AND s.id = j.job_status_id
		WHERE p.tenant_id = `+tenant+` AND j.project_id = `+project+`
		AND s.system_job_status_id NOT IN (`+completed+`, `+canceled+`)`, a.List...).Scan(&next)
	if err != nil {
		return st, err
	}
	st.NextJob, err = tx.scanDate(next)
	return st, err
}

// EarliestPlanning implements ordo.Tx, through the index on jobs_id.
func (tx *Tx) EarliestPlanning(ctx context.Context, jobID string) (time.Time, error) {
	a := tx.args()
	var first any
	err := tx.queryRow(ctx, "SELECT MIN(date_from) FROM job_planning WHERE tenant_id = "+a.AddRaw(tx.tenant)+
		" AND jobs_id = "+a.Add(schema.KindGUID, jobID), a.List...).Scan(&first)
	if err != nil {
		return time.Time{}, err
	}
	return tx.scanDate(first)
}

func (tx *Tx) scanDate(raw any) (time.Time, error) {
	if raw == nil {
		return schema.ZeroDate, nil
	}
	v, err := tx.db.dialect.Scan(schema.KindDate, raw)
	if err != nil {
		return time.Time{}, err
	}
	return v.(time.Time), nil
}
