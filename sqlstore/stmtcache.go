package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// maxCachedStmts bounds the cache: statement texts vary with IN lists and
// OData filters, and those beyond the bound simply run unprepared.
const maxCachedStmts = 2000

// stmtCache keeps one prepared *sql.Stmt per SQL text for a pool;
// database/sql then prepares it at most once per connection and reuses it in
// every transaction on that connection.
//
// A statement seen for the first time runs unprepared and is prepared in the
// background: preparing on the pool needs a free connection, and the SQLite
// writer pool's only connection is the one the current transaction holds.
type stmtCache struct {
	pool    *sql.DB
	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
	running sync.WaitGroup // background prepares, awaited by close
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for query, or nil when it is not (yet)
// prepared; the caller then runs the query directly.
func (c *stmtCache) get(query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	c.mu.RLock()
	st := c.stmts[query]
	c.mu.RUnlock()
	if st != nil {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.pending[query] || len(c.stmts)+len(c.pending) >= maxCachedStmts {
		return nil
	}
	c.pending[query] = true
	c.running.Add(1)
	go c.prepare(query)
	return nil
}

func (c *stmtCache) prepare(query string) {
	defer c.running.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.pool.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if err != nil {
		return // it runs unprepared, and reports its own error there
	}
	if c.closed {
		st.Close()
		return
	}
	c.stmts[query] = st
}

// close stops new prepares, waits for running ones and closes every statement.
func (c *stmtCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.running.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.stmts {
		st.Close()
	}
	clear(c.stmts)
}

// queryRow runs a one-row query on pool outside any transaction, through the
// pool's prepared statement when there is one (SQLite: a statement prepared
// per call costs more than running it on a small table).
func (db *DB) queryRow(ctx context.Context, pool *sql.DB, query string, args ...any) *sql.Row {
	if st := db.stmts[pool].get(query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return pool.QueryRowContext(ctx, query, args...)
}
