"""A 10-million-row FOCUS Parquet export through the cost pipeline, with seconds and peak RSS per phase.

Generates (once, cached under .bench/focus_10m/) a FOCUS 1.2 Parquet export of 10,000,000 rows the
way AWS Data Exports writes it (typed amounts and instants, Tags as a map; a year of hourly and daily
charges for 1,000 services in 8 teams, some untagged, a few crossing a month boundary), then runs,
each phase in its own process so peak memory is that phase's own:
  1. load      the export into raw.focus__costs (connectors/focus.py, DuckDB read_parquet)
  2. models    every SQL model (staging views, core.costs attribution, marts.cost_monthly, the cost
               observations and marts.kpi_monthly)
and prints seconds and peak RSS per phase against the memory target (≤ 2 GB, as bench/recompute.py).

    .venv/bin/python -m bench.focus_10m [--rows 10000000] [--dir .bench/focus_10m] [--regenerate]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TARGET_RSS_MB = 2048.0
SERVICES, TEAMS = 1000, 8


def generate(folder: Path, rows: int) -> Path:
    """The export file and a services.csv naming the services its tags use."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    export = folder / "files" / "focus" / "aws" / "BILLING_PERIOD=all" / "part-00001.parquet"
    export.parent.mkdir(parents=True, exist_ok=True)
    services = folder / "files" / "services.csv"
    services.parent.mkdir(parents=True, exist_ok=True)
    services.write_text(
        "service,team\n" + "".join(f"svc-{i:04d},team-{i % TEAMS}\n" for i in range(SERVICES))
    )
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    # Row i: service i % 1000; hour i // 1000 of the year, so each service has one row per hour; 1 in 20
    # untagged; 1 in 4 CI compute, 1 in 10 deployment; 1 in 100,000 a week long (crossing months).
    con.execute(
        f"""
        copy (
            select
                round(0.01 + (hash(i) % 10000) / 1000.0, 6)::decimal(18, 6) as BilledCost,
                round(0.01 + (hash(i) % 10000) / 1000.0, 6)::decimal(18, 6) as EffectiveCost,
                round(0.02 + (hash(i) % 10000) / 900.0, 6)::decimal(18, 6) as ListCost,
                round(0.02 + (hash(i) % 10000) / 950.0, 6)::decimal(18, 6) as ContractedCost,
                '123456789012' as BillingAccountId,
                'acme' as BillingAccountName,
                'Billing Account' as BillingAccountType,
                'USD' as BillingCurrency,
                date_trunc('month', ts) as BillingPeriodStart,
                date_trunc('month', ts) + interval 1 month as BillingPeriodEnd,
                case when i % 1000 = 999 then 'Tax' when i % 1000 = 998 then 'Credit' else 'Usage' end
                    as ChargeCategory,
                cast(null as varchar) as ChargeClass,
                'Compute usage' as ChargeDescription,
                'Usage-Based' as ChargeFrequency,
                ts as ChargePeriodStart,
                ts + case when i % 100000 = 7 then interval 7 day else interval 1 hour end as ChargePeriodEnd,
                1.0::double as ConsumedQuantity,
                'Hours' as ConsumedUnit,
                'INV-' || strftime(ts, '%Y%m') as InvoiceId,
                'USD' as PricingCurrency,
                1.0::double as PricingQuantity,
                'Hours' as PricingUnit,
                'AWS' as ProviderName,
                'AWS' as PublisherName,
                'eu-west-1' as RegionId,
                'arn:aws:ec2:eu-west-1:123456789012:instance/i-' || lpad(to_hex(i % 50000), 8, '0') as ResourceId,
                'i-' || lpad(to_hex(i % 50000), 8, '0') as ResourceName,
                'Instance' as ResourceType,
                'Compute' as ServiceCategory,
                case when i % 4 = 0 then 'Amazon Elastic Compute Cloud' when i % 10 = 1 then 'AWS CodeDeploy'
                    else 'Amazon Elastic Kubernetes Service' end as ServiceName,
                'Virtual Machines' as ServiceSubcategory,
                lpad(((i % {SERVICES}) % {TEAMS})::varchar, 12, '2') as SubAccountId,
                'team-' || ((i % {SERVICES}) % {TEAMS}) as SubAccountName,
                'Account' as SubAccountType,
                case when i % 20 = 3 then map([]::varchar[], []::varchar[])
                    else map_from_entries(list_filter([
                        {{'key': 'service', 'value': 'svc-' || lpad((i % {SERVICES})::varchar, 4, '0')}},
                        {{'key': 'cost-category', 'value':
                            case when i % 4 = 0 then 'ci' when i % 10 = 1 then 'deploy' end}}
                    ], lambda e: e.value is not null)) end as Tags
            from (
                select range as i,
                    timestamptz '2025-12-01 00:00:00+00' + to_hours((range // {SERVICES}) % 8760) as ts
                from range({rows})
            )
        ) to '{export}' (format parquet, row_group_size 122880)
        """
    )
    con.close()
    return export


def _phase(name: str, folder: Path, memory_limit: str | None) -> dict:
    """One part of the refresh job's asset graph, in-process as `kpi run` runs it."""
    import dagster as dg

    from assets.inputs import kpi_config
    from assets.transform import model_assets
    from pipelines.execute import run_pipeline
    from platform_kpi.settings import work_path_for
    from platform_kpi.warehouse import write_connection

    # The pipeline's own cap (KPI_DUCKDB_MEMORY_LIMIT), or none: DuckDB's default of 80% of RAM.
    os.environ["KPI_DUCKDB_MEMORY_LIMIT"] = memory_limit or ""
    started = time.perf_counter()
    out: dict = {}
    db = folder / "bench.duckdb"
    selection = {
        "load": dg.AssetSelection.groups("raw") | dg.AssetSelection.assets(kpi_config),
        "models": dg.AssetSelection.assets(*model_assets),
    }.get(name)
    if selection is None:
        raise SystemExit(f"unknown phase {name}")
    if name == "load":
        work_path_for(db).unlink(missing_ok=True)
    steps: dict[str, float] = {}

    def _step(line: str) -> None:  # "[ 3/12] core_models (1.23s)"
        if line.startswith("[") and line.endswith("s)"):
            step, took = line.split("] ", 1)[1].rsplit(" (", 1)
            steps[step] = float(took.removesuffix("s)"))

    run_pipeline(
        folder / "files",
        db,
        selection=selection,
        checks=False,
        progress=_step,
        as_of=dt.datetime(2026, 11, 28),
    )
    out.update({k: v for k, v in steps.items() if v >= 0.5})
    with write_connection(work_path_for(db)) as con:
        if name == "load":
            out["focus_rows"] = con.execute("select count(*) from raw.focus__costs").fetchall()[0][0]
        else:
            out["core.costs rows"] = con.execute("select count(*) from core.costs").fetchall()[0][0]
            out["cost_per_build months"] = con.execute(
                "select count(*) from marts.kpi_monthly where kpi_id = 'cost_per_build' and scope_type = 'org' "
                "and value is not null"
            ).fetchall()[0][0]
            out["split rows"] = con.execute("select sum(split_rows) from marts.cost_monthly").fetchall()[0][0]
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0)  # KiB on Linux
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dir", default=".bench/focus_10m")
    parser.add_argument("--regenerate", action="store_true")
    from platform_kpi.settings import DEFAULT_MEMORY_LIMIT

    parser.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        help=f"DuckDB memory_limit for the run (default: the pipeline's own, {DEFAULT_MEMORY_LIMIT}; "
        "'none': DuckDB's default of 80%% of RAM)",
    )
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    limit = None if args.memory_limit.lower() == "none" else args.memory_limit
    if args.phase:
        print(json.dumps(_phase(args.phase, folder, limit)))
        return 0
    export = folder / "files" / "focus" / "aws" / "BILLING_PERIOD=all" / "part-00001.parquet"
    marker = folder / "rows.txt"
    fresh = export.exists() and marker.exists() and marker.read_text().strip() == str(args.rows)
    if args.regenerate or not fresh:
        print(f"generating a {args.rows:,}-row FOCUS 1.2 Parquet export in {folder} ...", flush=True)
        t = time.perf_counter()
        generate(folder, args.rows)
        marker.write_text(str(args.rows))
        print(f"  {export.stat().st_size / 2**20:.0f} MB in {time.perf_counter() - t:.1f}s", flush=True)
    results = {}
    for phase in ("load", "models"):
        print(f"phase {phase} ...", flush=True)
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.focus_10m",
                "--dir",
                str(folder),
                "--phase",
                phase,
                "--memory-limit",
                args.memory_limit,
            ],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            return 1
        results[phase] = json.loads(proc.stdout.strip().splitlines()[-1])
        for key, value in results[phase].items():
            print(f"    {key}: {value}")
    peak = max(r["peak_rss_mb"] for r in results.values())
    print(f"\nDuckDB memory_limit: {limit or 'DuckDB default (80% of RAM)'}")
    print(
        f"{args.rows:,} FOCUS rows: load {results['load']['seconds']:.1f}s, models {results['models']['seconds']:.1f}s; "
        f"peak RSS {peak:.0f} MB (target ≤ {TARGET_RSS_MB:.0f} MB: {'met' if peak <= TARGET_RSS_MB else 'MISSED'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
