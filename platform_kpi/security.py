"""Security and compliance inputs into raw tables: the report files under ``<files>/security`` (see
connectors.security_files for the layout and each tool's documented shape) and the security settings
of config/kpi.yaml (SLA per severity, Terraform workspaces' services) into ops tables the models read.

A re-run replaces what the files gave (rows an API sync wrote stay); a file or record that cannot be
used is a row of raw.security__load_errors (file, position, reason) and ends in ops.quarantine, while
every other record is loaded. Pure Python (no Dagster).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from connectors import security_files
from platform_kpi.config import SecuritySettings, SourcesConfig
from platform_kpi.raw_tables import ensure_raw_tables, raw_table, replace_raw

SECURITY_RAW_TABLES = (
    "security__trivy_scans",
    "security__trivy_vulnerabilities",
    "security__github_alerts",
    "security__conftest_results",
    "security__kyverno_results",
    "security__terraform_assessments",
    "security__attestations",
    "security__waivers",
    "security__deployment_artifacts",
    "security__provisioning_requests",
    "security__load_errors",
)
#: tables an API sync also writes: the file load replaces only the rows that came from files
_SHARED = {
    "security__github_alerts": "_file not like 'http%'",
    "security__attestations": "_file not like 'http%'",
}
SECURITY_CONFIG_TABLES = ("security_sla", "security_workspaces")


def _frame(table: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = list(raw_table(table).column_names)
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype(object).where(frame.notna(), None) if len(frame) else frame


def write_security_config(con: duckdb.DuckDBPyConnection, settings: SecuritySettings) -> None:
    """ops.security_sla (days to fix per severity) and ops.security_workspaces (workspace -> service)."""
    con.execute("create schema if not exists ops")
    sla = pd.DataFrame(
        [{"severity": k, "sla_days": float(v)} for k, v in settings.sla_days.items()],
        columns=["severity", "sla_days"],
    )
    con.register("security_sla_frame", sla)
    con.execute(
        "create or replace table ops.security_sla as "
        "select severity::varchar as severity, sla_days::double as sla_days from security_sla_frame"
    )
    con.unregister("security_sla_frame")
    workspaces = pd.DataFrame(
        [{"workspace": k, "service": v} for k, v in settings.workspaces.items()],
        columns=["workspace", "service"],
    )
    con.register("security_workspaces_frame", workspaces)
    con.execute(
        "create or replace table ops.security_workspaces as "
        "select workspace::varchar as workspace, service::varchar as service from security_workspaces_frame"
    )
    con.unregister("security_workspaces_frame")


def ensure_security_tables(con: duckdb.DuckDBPyConnection, settings: SecuritySettings | None = None) -> None:
    """The security config tables, and the security raw tables (empty) when missing: every build has
    them, so the security models run (to no rows) even where no security file was loaded."""
    write_security_config(con, settings or SecuritySettings())
    ensure_raw_tables(con, [*SECURITY_RAW_TABLES, "hcp_terraform__assessment_results"])


FINGERPRINTS = "ops.load_fingerprints"
_LOADER = "security_files"


def _fingerprint(files_dir: Path | None) -> str:
    """What the file load reads: every file under ``<files_dir>/security`` (path, size, content hash)
    and the raw tables' contract, as one hash."""
    digest = hashlib.sha256()
    for table in SECURITY_RAW_TABLES:
        digest.update(raw_table(table).ddl().encode())
    root = files_dir / security_files.FOLDER if files_dir is not None else None
    if root is not None and root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            digest.update(f"{path.relative_to(root).as_posix()}\0{path.stat().st_size}\0".encode())
            with path.open("rb") as f:
                digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()


def _stored_fingerprint(con: duckdb.DuckDBPyConnection) -> tuple[str, int] | None:
    con.execute(
        f"create table if not exists {FINGERPRINTS} (loader varchar primary key, fingerprint varchar, files bigint)"
    )
    con.execute(
        f"comment on table {FINGERPRINTS} is 'What each file loader read last time (a hash of the files and "
        "of the raw contract, and how many files): a load of the same files again keeps the rows they gave.'"
    )
    row = con.execute(f"select fingerprint, files from {FINGERPRINTS} where loader = ?", [_LOADER]).fetchone()
    return (row[0], int(row[1])) if row else None


def load_security_files(
    con: duckdb.DuckDBPyConnection,
    files_dir: Path | None,
    settings: SecuritySettings | None = None,
    *,
    reuse: bool = True,
) -> dict[str, int]:
    """Replace the file rows of every security raw table with what ``<files_dir>/security`` holds now,
    and write the security config tables. Returns rows per table (and ``files`` read).

    When the folder holds exactly the files of the last load (paths, sizes and contents) and
    ``reuse`` is on, their rows are in the raw tables already: nothing is parsed again (a daily run
    where no security report changed saves the whole parse, seconds at 1,000 services)."""
    write_security_config(con, settings or SecuritySettings())
    ensure_raw_tables(con, SECURITY_RAW_TABLES)
    fingerprint = _fingerprint(files_dir)
    stored = _stored_fingerprint(con)
    if reuse and stored is not None and stored[0] == fingerprint:
        # What replacing security__load_errors whole would also do: drop the API sync's rows, which
        # the sync writes again.
        con.execute("delete from raw.security__load_errors where _file like 'http%'")
        counts = {"files": stored[1]}
        for table in SECURITY_RAW_TABLES:
            where = f" where {_SHARED[table]}" if table in _SHARED else ""
            counts[table] = con.execute(f"select count(*) from raw.{table}{where}").fetchone()[0]
        return counts
    load = security_files.read_security_folder(files_dir)
    counts: dict[str, int] = {"files": load.files}
    for table in SECURITY_RAW_TABLES:
        rows = load.errors if table == "security__load_errors" else load.rows.get(table, [])
        frame = _frame(table, rows)
        if table in _SHARED:
            counts[table] = replace_raw(con, table, frame, where=_SHARED[table])
        else:
            counts[table] = replace_raw(con, table, frame)
    con.execute(f"insert or replace into {FINGERPRINTS} values (?, ?, ?)", [_LOADER, fingerprint, load.files])
    return counts


# --- the GitHub API: Dependabot and code-scanning alerts, attestations --------------------------------


def _api_watermark(con: duckdb.DuckDBPyConnection, tool: str, repo: str):
    return con.execute(
        "select max(updated_at) from raw.security__github_alerts "
        "where tool = ? and lower(repo) = lower(?) and _file like 'http%'",
        [tool, repo],
    ).fetchone()[0]


def sync_github_security(
    con: duckdb.DuckDBPyConnection,
    config: SourcesConfig,
    *,
    env: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Sync the alerts of every repository of the GitHub source (sources.yaml ``github.security_alerts:
    true``) into raw.security__github_alerts, newest change first down to the stored watermark less the
    look-back, and check the attestations of deployed digests not yet attested. A repository whose
    listing fails keeps its stored alerts (the error is returned); a refused token raises."""
    from connectors import github, github_security
    from connectors.http import AuthError, SourceError

    source = config.sources.get("github")
    if source is None or not source.options.get("security_alerts"):
        return {"configured": False}
    ensure_raw_tables(con, SECURITY_RAW_TABLES)
    say = progress or (lambda _m: None)
    client = github.make_client(config, env)
    result: dict[str, Any] = {"configured": True, "alerts": 0, "attested": 0, "errors": []}
    per_page = int(source.options.get("per_page") or 100)
    try:
        for repo in source.scopes:
            for tool in github_security.TOOLS:
                mark = _api_watermark(con, tool, repo)
                since = mark - config.lookback if mark is not None else None
                try:
                    rows, bad = github_security.alert_rows(client, repo, tool, since, per_page)
                except AuthError:
                    raise
                except SourceError as exc:
                    result["errors"].append(client.redact(str(exc)))
                    continue
                if rows:
                    frame = _frame("security__github_alerts", rows)
                    numbers = sorted({r["number"] for r in rows})
                    replace_raw(
                        con,
                        "security__github_alerts",
                        frame,
                        where="tool = ? and lower(repo) = lower(?) and _file like 'http%' and list_contains(?, number)",
                        params=[tool, repo, numbers],
                    )
                if bad:
                    errors = [
                        {
                            "source": "github",
                            "entity": tool,
                            "_file": url,
                            "position": pos,
                            "reason": reason,
                            "record": None,
                        }
                        for url, pos, reason in bad
                    ]
                    con.execute(
                        "delete from raw.security__load_errors where _file like 'http%' and entity = ?",
                        [tool],
                    )
                    con.register("security_api_errors", _frame("security__load_errors", errors))
                    con.execute("insert into raw.security__load_errors select * from security_api_errors")
                    con.unregister("security_api_errors")
                result["alerts"] += len(rows)
                say(f"github security: {repo} {tool}: {len(rows)} alerts new or changed")
        orgs = sorted({repo.split("/")[0] for repo in source.scopes})
        pending = [
            r[0]
            for r in con.execute(
                "select distinct artifact_digest from raw.security__deployment_artifacts "
                "where artifact_digest is not null and artifact_digest not in "
                "(select subject_digest from raw.security__attestations) order by 1"
            ).fetchall()
        ]
        found: list[dict[str, Any]] = []
        for digest in pending:
            for org in orgs:
                try:
                    proven = github_security.attested_digests(client, org, digest)
                except AuthError:
                    raise
                except (SourceError, security_files.BadRecord) as exc:
                    result["errors"].append(client.redact(str(exc)))
                    continue
                if digest in proven:
                    url = f"{source.base_url.rstrip('/')}/orgs/{org}/attestations/{digest}"
                    found.append({"_file": url, "subject_digest": digest, "attestations": 1})
                    break
        if found:
            con.register("security_api_attested", _frame("security__attestations", found))
            con.execute("insert into raw.security__attestations select * from security_api_attested")
            con.unregister("security_api_attested")
        result["attested"] = len(found)
    finally:
        result["requests"] = client.stats.requests
        client.close()
    return result
