"""Data health: when each source last synced, what the data checks found, and what was quarantined."""

import datetime as dt

import pandas as pd
import streamlit as st

from dashboards import context, data, ui

ctx = context.get()
rows = data.table_rows(*ctx.db)

st.title("Data health")
settings = data.settings_row(*ctx.db)
published = dt.datetime.fromtimestamp(ctx.version, dt.UTC)
st.caption(
    f"Warehouse `{ctx.warehouse.name}` published {published:%Y-%m-%d %H:%M} UTC"
    + (
        f" · pipeline run at {pd.Timestamp(settings['as_of']):%Y-%m-%d %H:%M} UTC"
        if settings.get("as_of") is not None
        else ""
    )
)

st.markdown("#### Source connectors: last sync")
sync = data.sync_state(*ctx.db)
if sync is None or sync.empty:
    ui.empty(
        "No source connector has synced into this warehouse ("
        + ("there is no `ops.sync_state` table" if sync is None else "`ops.sync_state` is empty")
        + "): the data below came from file imports. Configure a connector (`kpi sync`) to see its last sync here.",
        not_configured=True,
    )
else:
    st.dataframe(sync, hide_index=True)
    ui.export(sync, "sync state", key="sync")

st.markdown("#### Loaded data: rows and newest event per table and source")
fresh = data.domain_freshness(*ctx.db)
if fresh.empty or fresh["rows"].sum() == 0:
    ui.empty("No domain table holds rows yet.", not_configured=True)
else:
    fresh = fresh.assign(
        age_days=[
            (published.replace(tzinfo=None) - t).days if pd.notna(t) else None for t in fresh["newest_event"]
        ]
    )
    st.dataframe(fresh, hide_index=True)

st.markdown("#### Input files: every record loaded or quarantined")
accounting = data.file_accounting(*ctx.db)
if accounting is None:
    ui.empty(
        "This warehouse has no `ops.file_accounting`: it was built before file accounting existed.",
        not_configured=True,
    )
elif accounting.empty:
    ui.empty("No file import in this warehouse (`kpi run --files DIR` loads one).", not_configured=True)
else:
    read = accounting[accounting["status"].isin(["read", "empty"])]
    unbalanced = int((~read["adds_up"].astype(bool)).sum())
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Records read", f"{int(read['records'].sum()):,}", border=True)
    c2.metric("Loaded", f"{int(read['loaded'].sum()):,}", border=True)
    c3.metric("Quarantined", f"{int(read['quarantined'].sum()):,}", border=True)
    c4.metric("Files that do not add up", unbalanced, border=True)
    st.caption(
        "Per file: records read = loaded + quarantined, and lines = header + blank + lines of records "
        "(a quoted field may span lines). A run whose files do not add up is not published."
    )
    for row in accounting.itertuples():
        if row.status == "missing":
            st.warning(f"**{row.entity}**: {row.note}; nothing was loaded for {row.entity}.")
        elif row.status == "ignored":
            st.warning(f"**{row.file}**: {row.note}.")
        elif row.records == 0:
            st.warning(f"**{row.file}**: {row.note or 'no records'}; nothing was loaded for {row.entity}.")
    st.dataframe(accounting, hide_index=True)
    ui.export(accounting, "file accounting", key="accounting")

st.markdown("#### Data checks (Great Expectations)")
checks = data.check_results(*ctx.db)
if checks is None:
    ui.empty("This warehouse has no `ops.check_results`: the checks have not run.", not_configured=True)
elif checks.empty:
    ui.empty("The checks recorded no results.")
else:
    failed = int((~checks["success"].astype(bool)).sum())
    c1, c2, c3 = st.columns(3)
    c1.metric("Expectations", len(checks), border=True)
    c2.metric("Passed", len(checks) - failed, border=True)
    c3.metric("Failed", failed, border=True)
    st.dataframe(checks, hide_index=True, height=260)
    ui.export(checks, "check results", key="checks")

st.markdown("#### Quarantined input rows")
quarantined = data.quarantine(*ctx.db)
if quarantined.empty:
    st.success("No input row was quarantined: every row loaded.", icon=":material/check_circle:")
else:
    st.markdown(
        f"**{len(quarantined)}** input rows were not loaded and are not counted in any KPI. Fix them at the "
        "source and re-run; re-runs never duplicate."
    )
    reasons = (
        quarantined.groupby(["entity", "reason"], as_index=False).size().rename(columns={"size": "rows"})
    )
    st.dataframe(reasons.sort_values("rows", ascending=False), hide_index=True)
    st.dataframe(quarantined, hide_index=True, height=240)
    ui.export(quarantined, "quarantine", key="quarantine")

if settings:
    with st.expander("KPI rules used by the last run"):
        st.json({k: (str(v) if not isinstance(v, int | float | str) else v) for k, v in settings.items()})

if "ops.catalog_conflicts" in rows:  # the service catalog against the services file / sources.yaml
    st.markdown("#### Service catalog against the services file and sources.yaml")
    conflicts = data.query(ctx.db[0], "select * from ops.catalog_conflicts")
    if conflicts.empty:
        st.success(
            "The catalog agrees with the services file and sources.yaml.", icon=":material/check_circle:"
        )
    else:
        st.warning(
            f"**{len(conflicts)}** services are described differently by the catalog; the services file or "
            "sources.yaml wins in every KPI. Fix whichever side is wrong.",
            icon=":material/warning:",
        )
        st.dataframe(conflicts, hide_index=True)
