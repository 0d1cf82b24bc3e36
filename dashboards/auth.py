"""Who is looking at the dashboard, when it is served behind an authenticating reverse proxy.

The proxy (oauth2-proxy, an ingress with auth, ...) signs people in and passes who they are in a
request header, and their groups in another (comma-separated). The dashboard trusts those headers, so
it must be reachable only through the proxy, and the proxy must overwrite any copy a browser sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from platform_kpi.settings import DashboardAuth


@dataclass(frozen=True)
class Viewer:
    user: str | None  # None: no sign-in configured
    groups: frozenset[str] = field(default_factory=frozenset)


class NotSignedIn(Exception):
    """The request did not come through the sign-in proxy (no user header, or an ambiguous one)."""


def _values(headers: Mapping[str, str], name: str) -> list[str]:
    get_all = getattr(headers, "get_all", None)  # st.context.headers keeps repeated headers
    if get_all is not None:
        return [v.strip() for v in get_all(name)]
    return [v.strip() for k, v in headers.items() if k.lower() == name.lower()]  # header names ignore case


def viewer(auth: DashboardAuth, headers: Mapping[str, str]) -> Viewer:
    """The signed-in viewer of a request, from its headers; raises NotSignedIn when sign-in is on and the
    request does not say who it is."""
    if not auth.enabled:
        return Viewer(None)
    users = {v for v in _values(headers, auth.user_header) if v}
    if len(users) != 1:
        raise NotSignedIn(
            f"no {auth.user_header} header"
            if not users
            else f"{len(users)} different {auth.user_header} headers"
        )
    groups = frozenset(
        g.strip() for value in _values(headers, auth.groups_header) for g in value.split(",") if g.strip()
    )
    return Viewer(users.pop(), groups)


def may_use_sql(auth: DashboardAuth, who: Viewer) -> bool:
    """The SQL page: everyone when sign-in is off; with sign-in, members of the configured group only
    (nobody when no group is configured)."""
    if not auth.enabled:
        return True
    return auth.sql_group is not None and auth.sql_group in who.groups
