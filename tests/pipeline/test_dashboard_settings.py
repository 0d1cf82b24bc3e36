"""The dashboard's server settings come from the one settings module, read when asked."""

from __future__ import annotations

import pytest

from dashboards.auth import NotSignedIn, may_use_sql, viewer
from platform_kpi.settings import DashboardAuth, load_settings


def test_defaults_loopback_and_no_sign_in() -> None:
    settings = load_settings({})
    assert settings.dashboard_address == "127.0.0.1"
    assert settings.dashboard_auth == DashboardAuth(mode="none")
    assert may_use_sql(settings.dashboard_auth, viewer(settings.dashboard_auth, {}))


def test_proxy_mode_from_the_environment() -> None:
    auth = load_settings(
        {
            "KPI_DASHBOARD_AUTH": "Proxy",
            "KPI_DASHBOARD_USER_HEADER": "X-Auth-Request-Email",
            "KPI_DASHBOARD_SQL_GROUP": "analysts",
        }
    ).dashboard_auth
    assert (auth.mode, auth.user_header, auth.groups_header, auth.sql_group) == (
        "proxy",
        "X-Auth-Request-Email",
        "X-Forwarded-Groups",
        "analysts",
    )
    who = viewer(auth, {"x-auth-request-email": "ann@example.org", "X-Forwarded-Groups": "staff, analysts"})
    assert who.user == "ann@example.org" and who.groups == {"staff", "analysts"}
    assert may_use_sql(auth, who)
    assert not may_use_sql(auth, viewer(auth, {"X-Auth-Request-Email": "bob@example.org"}))
    with pytest.raises(NotSignedIn, match="no X-Auth-Request-Email header"):
        viewer(auth, {"X-Forwarded-User": "someone"})
    # no group configured: nobody gets the SQL page when sign-in is on
    no_group = DashboardAuth(mode="proxy")
    assert not may_use_sql(
        no_group, viewer(no_group, {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "admins"})
    )


def test_a_bad_mode_names_the_variable() -> None:
    with pytest.raises(ValueError, match="KPI_DASHBOARD_AUTH='oidc' is not one of none, proxy"):
        load_settings({"KPI_DASHBOARD_AUTH": "oidc"})
