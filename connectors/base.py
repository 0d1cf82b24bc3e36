"""Pieces every API connector shares: time parsing, stream bookkeeping, parallel sub-requests."""

from __future__ import annotations

import base64
import contextvars
import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from connectors.http import ApiClient, AuthError, HttpPolicy, SourceError, request_counter
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig
from platform_kpi.sources_config import SourcesConfigError as ConfigError

Progress = Callable[[str], None]
T = TypeVar("T")
R = TypeVar("R")

#: Sub-requests (statuses, commits, details) run this many at a time.
WORKERS = 8
#: Streams of one source (repositories, projects, jobs) read this many at a time; the source's client
#: bounds the requests in flight and shares one view of the rate limit among them.
STREAM_WORKERS = 4


def parse_ts(value: Any) -> dt.datetime | None:
    """An ISO-8601 time (``Z`` or offset) as naive UTC; None when missing or unparseable."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value / 1000 if value > 1e11 else value, dt.UTC).replace(tzinfo=None)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def iso(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


def max_iso(*values: str | None) -> str | None:
    """The latest of ISO times (None ignored), as given."""
    present = [(t, v) for v in values if v and (t := parse_ts(v)) is not None]
    return max(present)[1] if present else None


def parallel(fn: Callable[[T], R], items: Iterable[T], workers: int = WORKERS) -> list[R]:
    """``[fn(x) for x in items]`` with up to ``workers`` at a time; the first error is raised."""
    items = list(items)
    if len(items) <= 1:
        return [fn(x) for x in items]
    # each call runs in a copy of the caller's context: its requests count for the caller's stream
    calls = [(contextvars.copy_context(), x) for x in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda call: call[0].run(fn, call[1]), calls))


class SyncFailed(SourceError):
    """Some streams of a source failed (their rows and cursors are unchanged); ``results`` has all."""

    def __init__(self, message: str, results: list[StreamResult]) -> None:
        super().__init__(message)
        self.results = results


@dataclass
class StreamResult:
    source: str
    stream: str
    fetched: int = 0
    written: int = 0
    requests: int = 0
    error: str | None = None
    seconds: float = 0.0  #: wall time of the stream: fetch, and commit (waiting for its turn included)


def token_client(
    config: SourcesConfig,
    source: str,
    headers: Callable[[str], dict[str, str]],
    env=None,
    policy: HttpPolicy | None = None,
) -> ApiClient:
    """An API client for a token-authenticated source: the token comes from the variable sources.yaml
    names and goes only into the headers ``headers(token)`` builds (never into logs or errors: every
    configured token is redacted from the client's messages)."""
    sc = config.sources[source]
    token = sc.token(env)
    return ApiClient(
        source,
        sc.base_url,
        headers=headers(token.reveal()),
        token_env=sc.token_env,
        policy=policy or config.http,
        secrets=[token, *config.secrets(env)],
    )


def basic_client(
    config: SourcesConfig,
    source: str,
    default_user_env: str,
    env=None,
    policy: HttpPolicy | None = None,
    what: str = "user name",
) -> ApiClient:
    """An API client authenticated with HTTP Basic: the user from the variable ``user_env`` names (or
    ``default_user_env``), the password or API token from ``token_env``'s. Both the token and the
    encoded header are redacted from every message."""
    sc = config.sources[source]
    token = sc.token(env)
    user_env = str(sc.options.get("user_env") or default_user_env)
    user = ((os.environ if env is None else env).get(user_env) or "").strip()
    if not user:
        raise ConfigError(
            sc.file,
            f"{source}.user_env",
            f"environment variable {user_env} is not set; it must hold the {what} (see .env.example)",
        )
    basic = base64.b64encode(f"{user}:{token.reveal()}".encode()).decode()
    return ApiClient(
        source,
        sc.base_url,
        headers={"Accept": "application/json"},
        token_env=sc.token_env,
        policy=policy or config.http,
        auth=httpx.BasicAuth(user, token.reveal()),
        secrets=[token, basic, *config.secrets(env)],
    )


class Connector:
    """A source's sync: each stream reads what changed since its cursor and commits rows + cursor."""

    source: str = ""
    default_per_page: int = 100  # the vendor's maximum page size

    @property
    def per_page(self) -> int:
        return int(self.source_config.options.get("per_page", self.default_per_page))

    def __init__(self, config: SourcesConfig, client: ApiClient, now: dt.datetime | None = None) -> None:
        self.config = config
        self.client = client
        self.source_config = config.sources[self.source]
        self.now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def streams(self) -> list[tuple[str, Callable[[RawStore], tuple[Batch, str | None]]]]:
        """(stream name, function fetching that stream's batch and its new cursor)."""
        raise NotImplementedError

    def cutoff(self, store: RawStore, stream: str) -> tuple[str | None, dt.datetime]:
        """The stream's cursor and the time to read from: cursor minus look-back, or the history start."""
        cursor = store.cursor(self.source, stream)
        start = self.config.history_start(self.now)
        parsed = parse_ts(cursor)
        if parsed is not None:
            start = max(start, parsed - self.config.lookback)
        return cursor, start

    @property
    def recheck_after(self) -> dt.datetime:
        """Unfinished items (deployment pending, build running, incident open) created after this are
        fetched again on every sync until they finish, however old the cursor."""
        return self.now - dt.timedelta(days=float(self.source_config.options.get("recheck_days", 14)))

    #: streams read at a time (1: in order, when a stream reads what an earlier one stored)
    stream_workers: int = STREAM_WORKERS

    def sync(self, store: RawStore, progress: Progress | None = None) -> list[StreamResult]:
        """Sync every stream; a stream that fails keeps its previous rows and cursor (nothing partial).

        Streams run ``stream_workers`` at a time. The store's connection is used by one of them at a
        time; each stream's requests are counted by a context variable its sub-requests inherit."""
        say = progress or (lambda _m: None)
        streams = self.streams()
        lock = threading.RLock()
        shared = _LockedStore(store, lock)
        auth_failed: list[AuthError] = []

        def run(item: tuple[str, Callable]) -> StreamResult:
            stream, fetch = item
            result = StreamResult(self.source, stream)
            if auth_failed:  # a refused token fails every stream alike: do not try the rest
                result.error = "not read: the token was refused"
                return result
            counter = [0]
            request_counter.set(counter)
            started = time.perf_counter()
            try:
                batch, cursor = fetch(shared)
                result.requests = counter[0]
                result.fetched = len(batch)
                prepared = store.prepare(batch)  # outside the lock: other streams commit meanwhile
                with lock:
                    # ops.sync_state gets the time up to the upsert (it is written in its transaction)
                    result.written = store.commit(
                        prepared,
                        stream,
                        cursor,
                        requests=result.requests,
                        seconds=round(time.perf_counter() - started, 3),
                    )
                result.seconds = round(time.perf_counter() - started, 3)
            except AuthError as exc:
                with lock:
                    store.record_failure(self.source, stream, self.client.redact(str(exc)))
                auth_failed.append(exc)
                result.error = self.client.redact(str(exc))
                return result
            except Exception as exc:
                result.requests = counter[0]
                result.seconds = round(time.perf_counter() - started, 3)
                # any error may quote what a server sent, and a server may echo the token
                result.error = self.client.redact(str(exc))
                with lock:
                    store.record_failure(self.source, stream, result.error)
                say(
                    f"  {self.source} {stream}: FAILED after {result.requests} requests, "
                    f"{result.seconds:.1f}s: {result.error}"
                )
                return result
            say(
                f"  {self.source} {stream}: {result.requests} requests, {result.seconds:.1f}s, "
                f"{result.fetched} records fetched, {result.written} new or changed"
            )
            return result

        if self.stream_workers <= 1 or len(streams) <= 1:
            results = [run(item) for item in streams]
        else:
            calls = [(contextvars.copy_context(), item) for item in streams]
            with ThreadPoolExecutor(max_workers=self.stream_workers) as pool:
                results = list(pool.map(lambda call: call[0].run(run, call[1]), calls))
        if auth_failed:
            raise auth_failed[0]
        failed = [r for r in results if r.error]
        if failed:
            raise SyncFailed(
                f"{self.source}: " + "; ".join(f"{r.stream}: {r.error}" for r in failed), results
            )
        return results


class _LockedStore:
    """The raw store as streams running at once see it: each call holds the connection's lock."""

    def __init__(self, store: RawStore, lock: threading.RLock) -> None:
        self._store, self._lock = store, lock

    def __getattr__(self, name: str):
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        def locked(*args, **kwargs):
            with self._lock:
                return attr(*args, **kwargs)

        return locked
