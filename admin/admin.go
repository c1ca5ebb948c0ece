// Package admin holds the operator's actions shared by the CLI, the demo and
// the tests: creating tenants and their API users.
package admin

import (
	"context"

	"github.com/ordo-fsm/ordo"
	"github.com/ordo-fsm/ordo/auth"
	"github.com/ordo-fsm/ordo/service"
	"github.com/ordo-fsm/ordo/sqlstore"
)

// CreateTenant creates a tenant with its system rows (job statuses, the
// Location family) and its first API user.
func CreateTenant(ctx context.Context, db *sqlstore.DB, svc *service.Service, domain, name, user, password string) (ordo.Tenant, error) {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return ordo.Tenant{}, err
	}
	t, err := db.CreateTenant(ctx, domain, name, func(tx ordo.Tx) error { return svc.SeedTenant(ctx, tx) })
	if err != nil {
		return t, err
	}
	return t, db.SetCredential(ctx, t.ID, user, hash)
}

// SetPassword adds an API user to a tenant or replaces its password.
func SetPassword(ctx context.Context, db *sqlstore.DB, domain, user, password string) (ordo.Tenant, error) {
	t, err := db.TenantByDomain(ctx, domain)
	if err != nil {
		return t, err
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return t, err
	}
	return t, db.SetCredential(ctx, t.ID, user, hash)
}
