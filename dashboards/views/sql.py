"""SQL: read-only ad-hoc queries over the published warehouse, with a result grid and CSV download.

Each query runs in a capped process of its own (platform_kpi.readonly_query): a runaway query is stopped
at its time or memory limit, or as soon as its user leaves, and nobody else notices.
"""

import logging

import streamlit as st

from dashboards import context, data, ui
from platform_kpi.readonly_query import QUERY_KINDS

log = logging.getLogger(__name__)

ctx = context.get()
limits = data.sql_limits()
st.title("SQL")
stops = f"{limits.timeout_sec:g} s or " if limits.timeout_sec else ""
st.caption(
    f"One read-only query at a time ({QUERY_KINDS}) on a connection that cannot write, attach databases, "
    f"read files, load extensions or change settings. A query stops after {stops}{limits.memory_limit} of memory; "
    f"results stop at {limits.max_rows:,} rows."
)

default = (
    "select month, scope, kpi_id, value, sample_size, tier\n"
    "from marts.kpi_monthly\nwhere scope_type = 'team' and kpi_id = 'change_failure_rate'\n"
    "order by month desc, scope\nlimit 50"
)
with st.form("sql_form"):
    sql = st.text_area("Query", value=default, height=160, key="sql_text")
    submitted = st.form_submit_button("Run query", type="primary", icon=":material/play_arrow:")

if submitted:
    st.session_state["sql_result"] = None
    status = st.empty()

    def waiting(seconds: float) -> None:
        # Also where Streamlit stops this script (a rerun, a closed tab): the query's process is then killed.
        status.caption(f":material/hourglass_top: Running… {seconds:.0f} s")

    try:
        result = data.run_readonly_sql(ctx.warehouse, sql, on_wait=waiting)
    except data.QueryError as exc:
        status.empty()
        st.error(str(exc), icon=":material/block:")
    else:
        status.empty()
        st.session_state["sql_result"] = result

res = st.session_state.get("sql_result")
if res is not None:
    try:
        n = len(res.frame)
        note = f"{n:,} row{'' if n == 1 else 's'} in {res.seconds:.1f} s"
        if res.truncated:
            note += f" (stopped at {res.max_rows:,}; more rows were cut)"
        if res.renamed:
            note += " · duplicate column names made unique: " + ", ".join(
                f"{new} ({old})" for new, old in res.renamed.items()
            )
        if res.as_text:
            note += " · shown as text: " + ", ".join(res.as_text)
        st.caption(note)
        st.dataframe(res.frame, hide_index=True)
        ui.export(res.frame, "query result", key="sql")
    except Exception:  # a result the grid cannot draw must not break the page on every rerun
        log.exception("SQL page: could not show a query result")
        st.session_state["sql_result"] = None
        st.error(
            "This result cannot be shown here. Cast unusual columns to text (`cast(x as varchar)`) and run it again.",
            icon=":material/error:",
        )

with st.expander("Tables"):
    tables = data.table_rows(*ctx.db)
    st.dataframe(
        [{"table": t, "rows": n} for t, n in tables.items() if t.split(".")[0] in ("core", "marts", "ops")],
        hide_index=True,
    )
