"""Leadership dashboard: a router over the pages in dashboards/views, with the global filters.

Run with `kpi dashboard --warehouse FILE` (or `streamlit run dashboards/app.py` with KPI_WAREHOUSE set).
Pages read the published warehouse only; every number is computed by the SQL layer.
"""

import sys
from pathlib import Path

# `streamlit run dashboards/app.py` puts dashboards/ first on sys.path; the repo root must come first
# so `dashboards` and `pipelines` resolve to this project's packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import datetime as dt  # noqa: E402

import streamlit as st  # noqa: E402

from dashboards import auth, data, ui  # noqa: E402
from dashboards.context import Context, set_context  # noqa: E402
from dashboards.filters import sidebar_filters  # noqa: E402
from platform_kpi.settings import load_settings  # noqa: E402

HERE = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Platform KPIs", page_icon=":material/monitoring:", layout="wide")
ui.css()

settings = load_settings()
try:
    who = auth.viewer(settings.dashboard_auth, st.context.headers)
except auth.NotSignedIn as exc:
    st.title("Platform KPIs")
    st.warning(
        "**Sign in first.** This dashboard is served behind a sign-in proxy, and this request did not come "
        f"through it ({exc}). Open it at the address your team published, where you are asked to sign in.",
        icon=":material/lock:",
    )
    st.stop()

path = data.warehouse_path()
if not path.exists():
    st.title("Platform KPIs")
    ui.empty(
        f"No published warehouse at `{path}`. Run `kpi demo` for demo data or "
        f"`kpi run --files DIR --warehouse {path}`, then reload this page.",
        not_configured=True,
    )
    st.stop()

version = data.warehouse_version(path)
db = (str(path), version)
months = data.months(*db)
if not months:
    st.title("Platform KPIs")
    ui.empty(
        "The warehouse has no KPI values yet: no deployments, changes, incidents or builds were loaded.",
        not_configured=True,
    )
    st.stop()

overview = st.Page(HERE / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview")
# Streamlit serves its default page at the root URL only, so /overview would be "Page not found" if the
# Overview were the default. The root is a hidden page that opens /overview instead (filters kept), so
# the root, /overview and every other page's own URL all work.
home = st.Page(lambda: None, title="Platform KPIs", url_path="home", default=True, visibility="hidden")
pages = {
    "Leadership": [
        home,
        overview,
        st.Page(HERE / "delivery.py", title="Delivery", icon=":material/rocket_launch:", url_path="delivery"),
        st.Page(
            HERE / "stability.py",
            title="Stability",
            icon=":material/health_and_safety:",
            url_path="stability",
        ),
        st.Page(HERE / "ci.py", title="CI", icon=":material/build:", url_path="ci"),
        st.Page(HERE / "costs.py", title="Costs", icon=":material/payments:", url_path="costs"),
        st.Page(
            HERE / "operations.py",
            title="Operations & experience",
            icon=":material/support_agent:",
            url_path="operations",
        ),
        st.Page(
            HERE / "security.py", title="Security & compliance", icon=":material/shield:", url_path="security"
        ),
        st.Page(HERE / "teams.py", title="Teams", icon=":material/groups:", url_path="teams"),
        st.Page(HERE / "service.py", title="Service drill-down", icon=":material/dns:", url_path="service"),
        st.Page(
            HERE / "platform.py", title="Platform adoption", icon=":material/route:", url_path="platform"
        ),
    ],
    "Data": [
        st.Page(
            HERE / "data_health.py",
            title="Data health",
            icon=":material/monitor_heart:",
            url_path="data-health",
        ),
        st.Page(HERE / "reports.py", title="Reports", icon=":material/description:", url_path="reports"),
    ],
}
if auth.may_use_sql(settings.dashboard_auth, who):  # with sign-in on, only the configured group sees it
    pages["Data"].append(st.Page(HERE / "sql.py", title="SQL", icon=":material/terminal:", url_path="sql"))
# Every page stays listed: with more than twelve, Streamlit would hide the last ones behind "View more".
page = st.navigation(pages, expanded=True)
if page is home:
    st.switch_page(overview, query_params=st.query_params.to_dict())

filters = sidebar_filters(
    data.services(*db), months, data.environments(*db)["environment"].tolist(), today=settings.today
)
published = dt.datetime.fromtimestamp(version, dt.UTC)
st.sidebar.caption(f"Warehouse `{path.name}` · published {published:%Y-%m-%d %H:%M} UTC")
if who.user:
    st.sidebar.caption(f"Signed in as {ui.md(who.user)}")
set_context(Context(path, version, filters))
page.run()
