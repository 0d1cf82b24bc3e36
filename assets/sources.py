"""API sources (GitHub, GitLab, Jenkins, PagerDuty, Opsgenie): one asset per source syncing its raw
tables incrementally, the sources.yaml mapping tables, and a freshness check per source.

A source that is not configured still materializes its (empty) raw tables, so the graph always runs.
A source that cannot be read (the API keeps failing past the retry budget) keeps its previous rows and
cursor; its freshness check then fails with the error, and the rest of the pipeline still runs on the
data already synced. A missing or refused token fails the asset with a message naming the variable.
"""

import datetime as dt

import dagster as dg

from assets.resources import WarehouseResource
from platform_kpi.config import Configuration
from platform_kpi.raw import RAW_TABLES, ensure_tables
from platform_kpi.raw_tables import raw_table
from platform_kpi.sources_config import SOURCES
from platform_kpi.sync import SOURCE_CONFIG_TABLES, sync_source, write_source_config

DEFAULT_FRESHNESS_HOURS = 26.0


class SourcesResource(dg.ConfigurableResource):
    """Which sources.yaml to read (the run's ``configuration`` resource holds it, validated), and
    whether the source assets fetch (``kpi sync`` fetches first, then runs the graph with
    ``fetch=False`` so nothing is fetched twice)."""

    config: str | None = None
    fetch: bool = True


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["ops", table]),
            group_name="sources",
            kinds={"duckdb"},
            description={
                "source_scopes": "The repositories, projects, jobs and vendor services sources.yaml reads now.",
                "source_services": "Services and owning teams named in sources.yaml (services of the API sources).",
                "source_service_map": "Which repository/path, project, job or vendor service belongs to which service.",
                "source_environments": "How each source's environment names map to ours (e.g. Prod-EU -> production).",
                "source_deploy_jobs": "Jenkins jobs / GitHub workflows whose runs count as deployments, and their environment.",
                "source_fields": "Which field of a service desk's records (Jira, ServiceNow) names the requesting team or the service.",
            }[table],
        )
        for table in SOURCE_CONFIG_TABLES
    ],
    name="source_config",
    can_subset=False,
)
def source_config(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    configuration: dg.ResourceParam[Configuration],
):
    """Write what sources.yaml says about names into the ops.source_* tables the staging models join."""
    config = configuration.sources
    with warehouse.connect() as con:
        counts = write_source_config(con, config)
    for table in SOURCE_CONFIG_TABLES:
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["ops", table]),
            metadata={"rows": counts[table], "sources_yaml": str(config.path or "not configured")},
        )


def _sync_asset(source: str) -> dg.AssetsDefinition:
    @dg.multi_asset(
        specs=[
            dg.AssetSpec(
                dg.AssetKey(["raw", f"{source}__{entity}"]),
                group_name="raw",
                kinds={"duckdb", source},
                description=raw_table(f"{source}__{entity}").description,
            )
            for entity in RAW_TABLES[source]
        ],
        name=f"{source}_sync",
        can_subset=False,
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        sources: SourcesResource,
        configuration: dg.ResourceParam[Configuration],
    ):
        config = configuration.sources
        with warehouse.connect() as con:
            ensure_tables(con)
            meta: dict = {"configured": source in config.sources}
            if source in config.sources and sources.fetch:
                result = sync_source(con, config, source, progress=context.log.info)
                meta.update(requests=result.requests, written=result.written, seconds=result.seconds)
                if result.error:
                    meta["error"] = result.error
                    context.log.error(f"{source}: sync failed, previous data kept: {result.error}")
            counts = {
                entity: con.execute(f"select count(*) from raw.{source}__{entity}").fetchone()[0]
                for entity in RAW_TABLES[source]
            }
        for entity in RAW_TABLES[source]:
            yield dg.MaterializeResult(
                asset_key=dg.AssetKey(["raw", f"{source}__{entity}"]),
                metadata={**meta, "rows": counts[entity]},
            )

    return _asset


def _freshness_check(source: str) -> dg.AssetChecksDefinition:
    entity = RAW_TABLES[source][0]

    @dg.asset_check(
        asset=dg.AssetKey(["raw", f"{source}__{entity}"]),
        name=f"{source}_fresh",
        blocking=False,
        description=f"Every {source} stream synced successfully within its freshness limit "
        f"(sources.yaml {source}.freshness_hours, default {DEFAULT_FRESHNESS_HOURS:g}); passes when not configured.",
    )
    def _check(
        warehouse: WarehouseResource, configuration: dg.ResourceParam[Configuration]
    ) -> dg.AssetCheckResult:
        config = configuration.sources
        if source not in config.sources:
            return dg.AssetCheckResult(passed=True, metadata={"configured": False})
        limit = float(config.sources[source].options.get("freshness_hours", DEFAULT_FRESHNESS_HOURS))
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        with warehouse.connect() as con:
            ensure_tables(con, sync_state=True)
            rows = con.execute(
                "select stream, last_success_at, last_error from ops.sync_state where source = ? order by stream",
                [source],
            ).fetchall()
        stale = [
            f"{stream}: "
            + (f"last success {ok:%Y-%m-%d %H:%M}" if ok else "never synced")
            + (f" ({err})" if err else "")
            for stream, ok, err in rows
            if ok is None or now - ok > dt.timedelta(hours=limit) or err
        ]
        if not rows:
            stale = ["never synced"]
        return dg.AssetCheckResult(
            passed=not stale,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "streams": len(rows),
                "stale": "; ".join(stale)[:2000] or "none",
                "oldest_success": str(min((r[1] for r in rows if r[1]), default=None)),
            },
        )

    return _check


source_assets = [source_config, *(_sync_asset(s) for s in SOURCES)]
source_checks = [_freshness_check(s) for s in SOURCES]
