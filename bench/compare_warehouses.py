"""Compare tables of two warehouses row for row: `python -m bench.compare_warehouses A.duckdb B.duckdb [schema.table ...]`.

Rows are matched on their non-float columns; float values must agree to 1e-9 relative, because DuckDB
sums floats in parallel and two runs of the same SQL differ in the last bits (979.412948 vs
979.4129480000001). Used to show a refactor changed no number (issue 11: the demo's kpi_monthly)."""

import sys

import duckdb

c = duckdb.connect()
c.execute(f"attach '{sys.argv[1]}' as a (read_only)")
c.execute(f"attach '{sys.argv[2]}' as b (read_only)")
for t in sys.argv[3:] or ["marts.kpi_monthly"]:
    types = dict(c.execute(f"select column_name, column_type from (describe a.{t})").fetchall())
    cols = list(types)
    keys = [k for k in cols if types[k] not in ("DOUBLE", "FLOAT") and not types[k].startswith("DECIMAL")]
    nums = [k for k in cols if k not in keys]
    na, nb = (c.execute(f"select count(*) from {s}.{t}").fetchone()[0] for s in "ab")
    on = " and ".join(f"a.{k} is not distinct from b.{k}" for k in keys)
    diff = (
        " or ".join(
            f"not (a.{n} is not distinct from b.{n} or abs(a.{n} - b.{n}) <= 1e-9 * greatest(abs(a.{n}), abs(b.{n})))"
            for n in nums
        )
        or "false"
    )
    unmatched = c.execute(
        f"select count(*) from a.{t} a full join b.{t} b on {on} where a.{keys[0]} is null and b.{keys[0]} is not null or b.{keys[0]} is null and a.{keys[0]} is not null"
    ).fetchone()[0]
    differing = c.execute(f"select count(*) from a.{t} a join b.{t} b on {on} where {diff}").fetchone()[0]
    print(f"{t}: rows {na} vs {nb}; unmatched {unmatched}; values differing beyond 1e-9: {differing}")
