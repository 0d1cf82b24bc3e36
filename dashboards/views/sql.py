"""SQL: read-only ad-hoc queries over the published warehouse, with a result grid and CSV download."""

import streamlit as st

from dashboards import context, data, ui

ctx = context.get()
st.title("SQL")
st.caption(
    "One SELECT at a time on a read-only connection that cannot write, attach databases or read files. "
    f"Results stop at {data.SQL_ROW_LIMIT:,} rows."
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
    try:
        result = data.run_readonly_sql(ctx.warehouse, sql)
    except data.QueryRefused as exc:
        st.error(str(exc), icon=":material/block:")
        st.session_state["sql_result"] = None
    else:
        st.session_state["sql_result"] = result
res = st.session_state.get("sql_result")
if res is not None:
    n = len(res.frame)
    note = f"{n:,} row{'' if n == 1 else 's'}" + (f" (stopped at {data.SQL_ROW_LIMIT:,})" if res.truncated else "")
    st.caption(note)
    st.dataframe(res.frame, hide_index=True)
    ui.export(res.frame, "query result", key="sql")

with st.expander("Tables"):
    tables = data.table_rows(*ctx.db)
    st.dataframe(
        [{"table": t, "rows": n} for t, n in tables.items() if t.split(".")[0] in ("core", "marts", "ops")],
        hide_index=True,
    )
