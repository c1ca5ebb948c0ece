#!/bin/bash
# Builds a large SQLite database for the copy and growth measurements of
# docs/performance.md: the demo tenant, plus N clones of one of its jobs with
# new ids and ERP keys. Needs the sqlite3 command line tool.
#   scripts/big-sqlite.sh [N=1000000] [FILE=/tmp/big.db]
set -euo pipefail
N=${1:-1000000}
DB=${2:-/tmp/big.db}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(mktemp -d)/ordo
rm -f "$DB" "$DB-wal" "$DB-shm"
(cd "$ROOT" && go build -o "$BIN" ./cmd/ordo)
"$BIN" serve --db "$DB" --demo --addr 127.0.0.1:18999 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18999/readyz >/dev/null 2>&1 && break; sleep 0.3; done
kill "$pid"; wait "$pid" 2>/dev/null || true
cols=$(sqlite3 "$DB" "SELECT group_concat('\"' || name || '\"', ', ') FROM pragma_table_info('jobs')")
sel=$(sqlite3 "$DB" "SELECT group_concat(CASE name
  WHEN 'id' THEN 'printf(''%08x-0000-4000-8000-%012x'', n, n)'
  WHEN 'id2' THEN '0'
  WHEN 'reference_back_office' THEN '''CLONE-'' || n'
  ELSE 'j.\"' || name || '\"' END, ', ') FROM pragma_table_info('jobs')")
sqlite3 "$DB" "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $N)
  INSERT INTO jobs ($cols) SELECT $sel FROM c, (SELECT * FROM jobs LIMIT 1) j;
  PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
echo "$DB: $(sqlite3 "$DB" 'SELECT count(*) FROM jobs') jobs, $(du -h "$DB" | cut -f1)"
