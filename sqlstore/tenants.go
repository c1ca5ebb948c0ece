package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/ordo-fsm/ordo"
)

// Tenant domains keep the case they were created with and are matched
// case-insensitively: lookups compare lower(domain) with normDomain.
func normDomain(d string) string { return strings.ToLower(strings.TrimSpace(d)) }

// CreateTenant adds a tenant and runs seed inside the same transaction, so a
// tenant never exists without its system rows.
func (db *DB) CreateTenant(ctx context.Context, domain, name string, seed func(ordo.Tx) error) (ordo.Tenant, error) {
	t := ordo.Tenant{Domain: strings.TrimSpace(domain), Name: name}
	if t.Domain == "" || strings.ContainsAny(t.Domain, "@: ") {
		return t, ordo.Errorf(ordo.EInvalid, "tenant domain %q is empty or contains '@', ':' or spaces", domain)
	}
	sqlTx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return t, db.mapError(err)
	}
	defer sqlTx.Rollback()
	p := db.dialect.Placeholder
	var existing string
	err = sqlTx.QueryRowContext(ctx, "SELECT domain FROM tenant WHERE lower(domain) = "+p(1), normDomain(domain)).Scan(&existing)
	if err == nil {
		return t, ordo.Errorf(ordo.EConflict, "tenant %s already exists", existing)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return t, db.mapError(err)
	}
	err = sqlTx.QueryRowContext(ctx, "INSERT INTO tenant (domain, name, created_at) VALUES ("+p(1)+", "+p(2)+", "+p(3)+") RETURNING id",
		t.Domain, name, time.Now().UTC().Format(time.RFC3339)).Scan(&t.ID)
	if err != nil {
		if db.dialect.IsUniqueViolation(err) {
			return t, ordo.Errorf(ordo.EConflict, "tenant %s already exists", t.Domain)
		}
		return t, db.mapError(err)
	}
	if seed != nil {
		tx := &Tx{db: db, q: sqlTx, tx: sqlTx, tenant: t.ID, stmts: db.stmts[db.writer]}
		if err := seed(tx); err != nil {
			return t, db.mapError(err)
		}
		if err := tx.flushChanges(ctx); err != nil {
			return t, db.mapError(err)
		}
	}
	return t, db.mapError(sqlTx.Commit())
}

// TenantByDomain finds a tenant.
func (db *DB) TenantByDomain(ctx context.Context, domain string) (ordo.Tenant, error) {
	t := ordo.Tenant{}
	err := db.reader.QueryRowContext(ctx, "SELECT id, domain, name FROM tenant WHERE lower(domain) = "+db.dialect.Placeholder(1),
		normDomain(domain)).Scan(&t.ID, &t.Domain, &t.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return t, ordo.Errorf(ordo.ENotFound, "tenant %s not found", domain)
	}
	return t, db.mapError(err)
}

// Tenants lists every tenant.
func (db *DB) Tenants(ctx context.Context) ([]ordo.Tenant, error) {
	rows, err := db.reader.QueryContext(ctx, "SELECT id, domain, name FROM tenant ORDER BY lower(domain), id")
	if err != nil {
		return nil, db.mapError(err)
	}
	defer rows.Close()
	var out []ordo.Tenant
	for rows.Next() {
		var t ordo.Tenant
		if err := rows.Scan(&t.ID, &t.Domain, &t.Name); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetCredential creates an API user or replaces its password hash.
func (db *DB) SetCredential(ctx context.Context, tenantID int64, username, passwordHash string) error {
	p := db.dialect.Placeholder
	_, err := db.writer.ExecContext(ctx, "INSERT INTO credential (tenant_id, username, password_hash, created_at) VALUES ("+
		p(1)+", "+p(2)+", "+p(3)+", "+p(4)+") ON CONFLICT (tenant_id, username) DO UPDATE SET password_hash = excluded.password_hash",
		tenantID, username, passwordHash, time.Now().UTC().Format(time.RFC3339))
	if err == nil {
		db.credentialsChanged() // this process's caches at once; others by notification
	}
	return db.mapError(err)
}

// Credential is a stored API user.
type Credential struct {
	ID           int64
	TenantID     int64
	Domain       string
	Username     string
	PasswordHash string
}

// CredentialByLogin finds the credential of username in the tenant domain.
func (db *DB) CredentialByLogin(ctx context.Context, domain, username string) (Credential, error) {
	c := Credential{}
	p := db.dialect.Placeholder
	err := db.reader.QueryRowContext(ctx, `SELECT c.id, c.tenant_id, t.domain, c.username, c.password_hash
		FROM credential c JOIN tenant t ON t.id = c.tenant_id
		WHERE lower(t.domain) = `+p(1)+` AND c.username = `+p(2), normDomain(domain), username).
		Scan(&c.ID, &c.TenantID, &c.Domain, &c.Username, &c.PasswordHash)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ordo.Errorf(ordo.EUnauthorized, "unknown user")
	}
	return c, db.mapError(err)
}

// PasswordHash returns the current hash of a credential ("" when deleted):
// the credential cache compares it to detect a changed password.
func (db *DB) PasswordHash(ctx context.Context, credentialID int64) (string, error) {
	var h string
	err := db.queryRow(ctx, db.reader, "SELECT password_hash FROM credential WHERE id = "+db.dialect.Placeholder(1),
		credentialID).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return h, db.mapError(err)
}
