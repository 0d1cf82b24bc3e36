"""Incremental builds of marts.kpi_values: a daily refresh rebuilds only the periods whose observations
changed, and the periods that read those periods' values (decision record 0002, step 4). Pure Python.

A KPI row of a period depends on the observations of that period, and on the values of a few periods
before it: the previous period (``previous_value``), the same period a year before
(``previous_year_value``, a relative target's ``previous_year`` baseline), the previous month or four
weeks (a ``previous_month`` baseline) and the trailing periods of a trend target. So when a period's
observations change, it and the periods that look back at it are rebuilt, each from all of its own
observations, and the earlier periods they look back at are computed alongside without being written.

What changed is found by fingerprint: per grain, period and measure, the count and a hash sum of the
observations (team, service, time, value, weight) recorded at the last build in ``ops.kpi_values_state``.
Anything else the model reads (KPI definitions, targets, benchmarks, the services and their teams) or
an earlier first period forces a full build, as does ``kpi run --full``. The plan goes to the temporary
table ``kpi_values_plan`` (grain, period_start, role 'build' | 'context') that the model's SQL reads;
a full build plans every period of the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from platform_kpi.warehouse import table_names

STATE = "ops.kpi_values_state"
PLAN = "kpi_values_plan"
# Months of periods built at a time (see ``batches``).
BATCH_MONTHS = 3

# The periods a period's values are read by, per grain: (unit, offsets); the trend window adds 1..N.
_LOOKS_BACK = {"month": ("month", (1, 12)), "week": ("day", (7, 28, 364))}

_FINGERPRINTS = """
    with measures as (
        select measure, bool_or(list_contains(grains, 'weekly')) as weekly
        from marts.kpi_definitions
        group by measure
    ),
    observations as (
        select o.measure, o.observed_at, m.weekly, hash(o.team, o.service, o.observed_at, o.x, o.w) as h
        from marts.kpi_observations as o
        join measures as m using (measure)
    )
    select 'month' as grain, date_trunc('month', observed_at)::date as period_start, measure,
        count(*) as n, sum(h) as h
    from observations
    group by all
    union all
    select 'week', date_trunc('week', observed_at)::date, measure, count(*), sum(h)
    from observations
    where weekly
    group by all
"""

# Everything else kpi_values.sql reads, as one fingerprint.
_INPUTS = """
    select concat_ws('|',
        (select count(*) || ':' || coalesce(sum(hash(t)), 0) from marts.kpi_definitions as t),
        (select count(*) || ':' || coalesce(sum(hash(t)), 0) from marts.kpi_targets as t),
        (select count(*) || ':' || coalesce(sum(hash(t)), 0) from marts.dora_benchmarks as t),
        (select count(*) || ':' || coalesce(sum(hash(service, team)), 0) from core.services)
    )
"""


@dataclass(frozen=True)
class Plan:
    full: bool
    reason: str
    build_periods: int


def plan_kpi_values(con: duckdb.DuckDBPyConnection, *, full: bool = False) -> Plan:
    """Find the periods to build (temporary table ``kpi_values_build``) and say whether the build is
    full or incremental; ``batches`` then writes ``kpi_values_plan`` for each part of the build."""
    con.execute(f"create or replace temp table kpi_values_fingerprints as {_FINGERPRINTS}")
    inputs = con.execute(_INPUTS).fetchone()[0]
    trend = con.execute(
        "select coalesce(max(months), 0) from marts.kpi_targets where kind = 'trend'"
    ).fetchone()[0]
    con.execute("create or replace temp table kpi_values_trend as select ?::int as months", [int(trend)])
    con.execute("create or replace temp table kpi_values_build (grain varchar, period_start date)")
    con.execute(f"create or replace temp table {PLAN} (grain varchar, period_start date, role varchar)")
    con.execute(
        "create or replace temp table kpi_values_context (grain varchar, period_start date, "
        "scope_type varchar, scope varchar, kpi_id varchar, value double)"
    )
    # The dense range of each grain, as the model's spine fills it.
    con.execute(
        """
        create or replace temp table kpi_values_range as
        select grain, min(period_start) as first, max(period_start) as last
        from kpi_values_fingerprints group by grain
        """
    )
    reason = _full_reason(con, inputs, full)
    if reason:
        con.execute(
            """
            insert into kpi_values_build
            select grain, unnest(generate_series(first, last,
                case grain when 'month' then interval 1 month else interval 7 day end))::date
            from kpi_values_range
            """
        )
    else:
        _plan_changed(con, int(trend))
    con.execute("create or replace temp table kpi_values_inputs as select ? as inputs", [inputs])
    built = con.execute("select count(*) from kpi_values_build").fetchone()[0]
    return Plan(full=bool(reason), reason=reason or "changed periods only", build_periods=built)


def batches(con: duckdb.DuckDBPyConnection, months: int = BATCH_MONTHS):
    """Write ``kpi_values_plan`` for each part of the build in turn (yielding after each): the build
    periods of ``months`` consecutive months (a week goes with the month it starts in) and the earlier
    periods those read. Building in parts bounds the memory a build needs: quantiles and the
    period-to-period joins of a whole history at 1,000 services did not fit in 1.5 GB."""
    trend = con.execute("select months from kpi_values_trend").fetchone()[0]
    groups = [
        g
        for (g,) in con.execute(
            f"""
            select distinct (datediff('month', date '2000-01-01', date_trunc('month', period_start)) // {int(months)})
            from kpi_values_build order by 1
            """
        ).fetchall()
    ]
    for group in groups:
        con.execute(f"delete from {PLAN}")
        con.execute(
            f"""
            insert into {PLAN}
            select grain, period_start, 'build' from kpi_values_build
            where datediff('month', date '2000-01-01', date_trunc('month', period_start)) // {int(months)} = ?
            """,
            [group],
        )
        _add_periods(con, "context", trend)
        _context_values(con)
        yield


def _full_reason(con: duckdb.DuckDBPyConnection, inputs: str, full: bool) -> str | None:
    if full:
        return "a full build was asked for"
    if not {STATE, "marts.kpi_values"} <= table_names(con):
        return "no earlier build to start from"
    previous = con.execute(f"select inputs from {STATE} where kind = 'inputs'").fetchone()
    if previous is None or previous[0] != inputs:
        return "KPI definitions, targets, benchmarks or services changed"
    moved = con.execute(
        f"""
        select count(*) from kpi_values_range as r
        full join (select grain, first, last from {STATE} where kind = 'range') as p using (grain)
        where r.first is distinct from p.first or r.last < p.last
        """
    ).fetchone()[0]
    if moved:
        return "the first period moved or the last one went away"
    return None


def _context_values(con: duckdb.DuckDBPyConnection) -> None:
    """The values of the plan's context periods, read from the table (built earlier in this build, or
    unchanged since the last one), for the model's previous-period, previous-year and target columns."""
    source = (
        "marts.kpi_values"
        if "marts.kpi_values" in table_names(con)
        else "(select null::varchar as grain, null::date as period_start, null::varchar as scope_type, "
        "null::varchar as scope, null::varchar as kpi_id, null::double as value where false)"
    )
    con.execute(
        f"""
        create or replace temp table kpi_values_context as
        select k.grain, k.period_start, k.scope_type, k.scope, k.kpi_id, k.value
        from {source} as k
        semi join (select grain, period_start from {PLAN} where role = 'context') using (grain, period_start)
        """
    )


def _plan_changed(con: duckdb.DuckDBPyConnection, trend: int) -> None:
    """The periods whose fingerprints differ, the new periods at the end of the range, and the periods
    reading them, within the range."""
    con.execute(
        f"""
        create or replace temp table kpi_values_touched as
        select distinct coalesce(c.grain, p.grain) as grain, coalesce(c.period_start, p.period_start) as period_start
        from kpi_values_fingerprints as c
        full join (select grain, period_start, measure, n, h from {STATE} where kind = 'fingerprint') as p
            using (grain, period_start, measure)
        where c.n is distinct from p.n or c.h is distinct from p.h
        union
        -- periods after the last build's last period: new, including ones without observations
        select r.grain, unnest(generate_series(
            p.last + case r.grain when 'month' then interval 1 month else interval 7 day end, r.last,
            case r.grain when 'month' then interval 1 month else interval 7 day end))::date
        from kpi_values_range as r join (select grain, last from {STATE} where kind = 'range') as p using (grain)
        """
    )
    con.execute(f"delete from {PLAN}")
    con.execute(f"insert into {PLAN} select grain, period_start, 'touched' from kpi_values_touched")
    _add_periods(con, "build", trend)
    con.execute(
        f"insert into kpi_values_build select grain, period_start from {PLAN} where role in ('touched', 'build')"
    )
    con.execute(f"delete from {PLAN}")


def _add_periods(con: duckdb.DuckDBPyConnection, role: str, trend: int) -> None:
    """Add to ``kpi_values_plan`` the periods of the range that read the plan's periods (role 'build':
    later periods) or that they read (role 'context': earlier periods), each period once."""
    sign = "+" if role == "build" else "-"
    for grain, (unit, offsets) in _LOOKS_BACK.items():
        step = 1 if unit == "month" else 7
        shifts = sorted({*offsets, *(step * k for k in range(1, trend + 1))})
        shifted = f"[{', '.join(str(s) for s in shifts)}]"
        interval = "to_months" if unit == "month" else "to_days"
        con.execute(
            f"""
            insert into {PLAN}
            select distinct t.grain, (t.period_start {sign} {interval}(u.s))::date as period_start, '{role}'
            from {PLAN} as t
            join kpi_values_range as r on r.grain = t.grain
            cross join (select unnest({shifted}) as s) as u
            where t.grain = '{grain}'
              and (t.period_start {sign} {interval}(u.s))::date between r.first and r.last
              and (t.period_start {sign} {interval}(u.s))::date not in (
                  select period_start from {PLAN} as q where q.grain = t.grain
              )
            """
        )


def record_kpi_values_state(con: duckdb.DuckDBPyConnection, planned: Plan) -> None:
    """After a build: what it was built from, for the next run's plan, and how it was built (kind
    'build': measure says full or incremental, n the periods rebuilt)."""
    build = "full" if planned.full else "incremental"
    con.execute(
        f"""
        create or replace table {STATE} as
        select 'build' as kind, null::varchar as grain, null::date as period_start, '{build}' as measure,
            {int(planned.build_periods)}::bigint as n, null::hugeint as h, null::date as first, null::date as last,
            null::varchar as inputs
        union all
        select 'fingerprint', grain, period_start, measure, n, h, null, null, null
        from kpi_values_fingerprints
        union all
        select 'range', grain, null, null, null, null, first, last, null from kpi_values_range
        union all
        select 'inputs', null, null, null, null, null, null, null, inputs from kpi_values_inputs
        """
    )
    con.execute(
        f"comment on table {STATE} is 'How marts.kpi_values was last built (kind build: full or "
        "incremental, periods rebuilt) and from what (observation fingerprints per grain, period and "
        "measure; the period range; the other inputs), so that a daily refresh rebuilds only the "
        "periods that changed.'"
    )


# The incremental models and their (planner, batches, state recorder).
INCREMENTAL = {"marts.kpi_values": (plan_kpi_values, batches, record_kpi_values_state)}
