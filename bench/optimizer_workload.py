"""The optimizer's fixture: a 300k-row tenant table and a workload over it.

Shared by tests/optimizer and bench/optimizer.py so the figures in docs/benchmarks.md come from
the workload the tests hold the advisor to. 500 tenants (600 rows each), ~100,000 customers (3
rows each: selective), 3 statuses (100,000 rows each: not worth an index).
"""

from __future__ import annotations

SCHEMA = "aibos_opt_fixture"
TABLE = f"{SCHEMA}.orders"
ROWS = 300_000

BUILD = f"""
DROP SCHEMA IF EXISTS {SCHEMA} CASCADE;
CREATE SCHEMA {SCHEMA};
CREATE TABLE {TABLE} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id uuid NOT NULL,
    customer_id bigint NOT NULL,
    status text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    created_at timestamptz NOT NULL
);
INSERT INTO {TABLE} (tenant_id, customer_id, status, amount, created_at)
SELECT ('00000000-0000-0000-0000-' || lpad((g % 500)::text, 12, '0'))::uuid,
       (g::bigint * 7919) % 100000,
       (ARRAY['open', 'paid', 'void'])[1 + g % 3],
       (g % 1000) / 10.0,
       timestamptz '2026-01-01' + g * interval '1 minute'
FROM generate_series(1, {ROWS}) g;
ANALYZE {TABLE};
"""

LIST_SQL = (
    f"SELECT id, customer_id, status, amount, created_at FROM {TABLE} "
    "WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 50 OFFSET {offset}"
)
CUSTOMER_SQL = f"SELECT id, status, amount FROM {TABLE} WHERE customer_id = $1"
STATUS_SQL = f"SELECT count(*) FROM {TABLE} WHERE status = $1"
UPDATE_SQL = f"UPDATE {TABLE} SET status = $1 WHERE id = $2"

# (sql, calls, mean ms): the list endpoint at two depths (one template once normalised), the
# customer lookup, the status count, and the status update (writes; a PK lookup).
WORKLOAD: list[tuple[str, int, float]] = [
    (LIST_SQL.format(offset=100), 700, 12.0),
    (LIST_SQL.format(offset=5000), 300, 14.0),
    (CUSTOMER_SQL, 500, 10.0),
    (STATUS_SQL, 200, 15.0),
    (UPDATE_SQL, 300, 0.2),
]

# The same rows behind the platform's RLS policy, queried as the application does through the
# runtime role: the tenant predicate comes from the policy, not from the query text.
RLS_TABLE = f"{SCHEMA}.orders_rls"
BUILD_RLS = f"""
DROP TABLE IF EXISTS {RLS_TABLE};
CREATE TABLE {RLS_TABLE} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE {RLS_TABLE} ADD PRIMARY KEY (id);
INSERT INTO {RLS_TABLE} SELECT * FROM {TABLE};
ALTER TABLE {RLS_TABLE} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {RLS_TABLE} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {RLS_TABLE} AS PERMISSIVE FOR ALL TO PUBLIC
    USING (tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid));
ANALYZE {RLS_TABLE};
"""
WORKLOAD_RLS: list[tuple[str, int, float]] = [
    (
        f"SELECT id, customer_id, status, amount, created_at FROM {RLS_TABLE} "
        "ORDER BY created_at DESC LIMIT 50",
        1000,
        12.0,
    ),
    (f"SELECT id, status, amount FROM {RLS_TABLE} WHERE customer_id = $1", 500, 10.0),
    (f"SELECT count(*) FROM {RLS_TABLE} WHERE status = $1", 200, 15.0),
]
