"""Reports: browse and download the monthly reports (PDF, HTML, Markdown)."""

import re

import streamlit as st

from dashboards import context, data, ui

ctx = context.get()
st.title("Monthly reports")

folders = {}
for base in data.reports_dirs(ctx.warehouse):
    if base.is_dir():
        for sub in sorted(base.iterdir()):
            if sub.is_dir() and re.fullmatch(r"\d{4}-\d{2}", sub.name) and sub.name not in folders:
                folders[sub.name] = sub
if not folders:
    where = " or ".join(f"`{p}`" for p in data.reports_dirs(ctx.warehouse))
    ui.empty(
        f"No monthly report has been written yet (looked in {where}). They are written on the 1st of each "
        "month by the Dagster schedule, or by hand with `kpi report --month YYYY-MM`.",
        not_configured=True,
    )
    st.stop()

months = sorted(folders, reverse=True)
st.caption(f"{len(months)} report(s) · newest {months[0]} · folder `{folders[months[0]].parent}`")
month = st.selectbox("Month", months, key="report_month")
folder = folders[month]
files = {p.suffix.lstrip("."): p for p in folder.glob("report.*")}
mimes = {"pdf": "application/pdf", "html": "text/html", "md": "text/markdown"}
cols = st.columns(6)
for i, kind in enumerate(("pdf", "html", "md")):
    if kind in files:
        cols[i].download_button(
            kind.upper(),
            files[kind].read_bytes(),
            f"platform-kpi-report-{month}.{kind}",
            mimes[kind],
            key=f"dl_{kind}",
            icon=":material/download:",
            on_click="ignore",
        )
    else:
        cols[i].caption(f"no {kind.upper()}")
if "md" in files:
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", "", files["md"].read_text())  # charts are in the PDF/HTML
    summary = text.split("## Executive summary", 1)[-1].split("\n## ", 1)[0]
    with st.container(border=True):
        st.markdown(f"**Executive summary, {month}**\n{summary}")
    with st.expander("The whole report (Markdown)"):
        st.markdown(text)
