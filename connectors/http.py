"""What every API client needs: retries, rate limits, pagination, bounded waiting, no leaked secrets.

One :class:`ApiClient` per source. It

* sends the source's auth header (the token is held in a :class:`Secret`, never printed) only to the
  configured origin (scheme, host and port): a redirect or an absolute next-page link to any other origin
  is a :class:`SourceError` naming the source, and nothing is sent there;
* redacts the configured secrets from every error message it builds (a server may echo the token in an
  error body), before anything is truncated, stored or printed;
* honours rate limits without busy-looping: ``Retry-After`` (seconds or an HTTP date), GitHub's
  ``x-ratelimit-remaining: 0`` + ``x-ratelimit-reset`` (epoch seconds), GitLab's ``RateLimit-Reset``,
  GitHub's secondary limit (403/429 with a message and no header: wait 60 s, then back off);
* retries 5xx answers, timeouts, dropped connections and bodies that are not complete JSON (a
  truncated page) with capped exponential backoff and jitter;
* gives up after a bounded time with a :class:`SourceError` naming the source and the endpoint;
* turns 401 (and a 403 that is not a rate limit) into an :class:`AuthError` naming the source and the
  environment variable that holds the token;
* counts requests, so tests and the closing note can report full vs incremental sync costs.

A page is returned only once its whole body parsed, so a caller never stores a partial page.
"""

from __future__ import annotations

import contextvars
import email.utils
import json
import logging
import random
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("kpi.connectors")

#: The requests of the stream being read (a one-item list the client adds to), per context: streams of a
#: source run at once, and each stream's sub-requests inherit its context (see connectors.base.parallel).
request_counter: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar(
    "request_counter", default=None
)


class Secret:
    """A credential: usable through :meth:`reveal`, shown as ``***`` everywhere else."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __reduce__(self):  # never pickled into a Dagster event or a log record
        raise TypeError("a Secret cannot be pickled")


REDACTED = "***"
MAX_REDIRECTS = 5
#: requests one source's client has in flight at most (its streams and their sub-requests together)
MAX_IN_FLIGHT = 8


def redact(text: str, secrets: Iterable[Secret | str]) -> str:
    """``text`` with every secret (and its URL-encoded forms) replaced by ``***``."""
    forms: set[str] = set()
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value:
            forms |= {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    for form in sorted(forms, key=len, reverse=True):  # longest first: a form may contain another
        text = text.replace(form, REDACTED)
    return text


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit: what credentials are bound to."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host.lower(), url.port or default


def _origin_text(url: httpx.URL) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


class SourceError(RuntimeError):
    """A source could not be read; the message names the source and endpoint, never a credential."""


class AuthError(SourceError):
    """The source refused the credentials (missing, wrong or without access)."""


@dataclass(frozen=True)
class HttpPolicy:
    """How patient a client is. Defaults suit real APIs; tests shorten them."""

    timeout: float = 30.0  #: seconds per request (connect/read)
    backoff_base: float = 1.0  #: first retry waits about this long ...
    backoff_cap: float = 60.0  #: ... doubling up to this
    max_attempts: int = 8  #: tries per request for 5xx / timeouts / truncated bodies
    give_up_after: float = 1800.0  #: total seconds one request may spend waiting and retrying
    max_rate_limit_wait: float = 3600.0  #: never sleep longer than this for one rate-limit reset
    secondary_limit_wait: float = 60.0  #: GitHub: wait at least this long on a secondary limit


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_sec: float = 0.0
    by_path: dict[str, int] = field(default_factory=dict)


class _Retry(Exception):
    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.wait = reason, wait


def _header_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: an integer or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class ApiClient:
    """An HTTP client for one source system (thread-safe: sub-resources may be fetched in parallel)."""

    def __init__(
        self,
        source: str,
        base_url: str,
        *,
        headers: dict[str, str],
        token_env: str | None = None,  #: the variable holding the token (None: a source without one)
        policy: HttpPolicy | None = None,
        auth: httpx.Auth | None = None,
        sleep: Callable[[float], None] = time.sleep,
        secrets: Iterable[Secret | str] = (),
    ) -> None:
        """``secrets``: every credential (in every form it takes on the wire) to redact from messages."""
        self.source = source
        self.token_env = token_env
        self.policy = policy or HttpPolicy()
        self.stats = RequestStats()
        self._lock = threading.Lock()
        self._sleep = sleep
        self._paused_until = 0.0  # epoch seconds: every worker holds its requests until then
        #: the workers' shared view of each rate limit (REST, GraphQL): [requests they may still start in
        #: the window, the window's reset in epoch seconds] from the last answer's headers (or GraphQL
        #: rateLimit object), less the requests started since and those in flight
        self._budgets: dict[str, list[float]] = {}
        self._in_flight: dict[str, int] = {}
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self._secrets = tuple(secrets)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers=headers,
            auth=auth,
            timeout=self.policy.timeout,
            # followed by _once, and only within the configured origin: httpx would send custom headers
            # (GitLab's PRIVATE-TOKEN) to any host a server redirects to
            follow_redirects=False,
        )
        self._origin = origin(self._http.base_url)

    def redact(self, text: str) -> str:
        """``text`` without this source's credentials."""
        return redact(text, self._secrets)

    def _same_origin_or_fail(self, url: httpx.URL, what: str) -> None:
        """Credentials go to the configured origin only: anything else is an error, and nothing is sent."""
        if origin(url) != self._origin:
            raise SourceError(
                f"{self.source}: {what} {_origin_text(url)}, not the configured origin "
                f"{_origin_text(self._http.base_url)}; credentials are sent only to the configured origin, so "
                f"nothing was requested there. If the API really moved, set {self.source}.base_url in sources.yaml."
            )

    def __repr__(self) -> str:
        return f"ApiClient({self.source!r}, {str(self._http.base_url)!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request -------------------------------------------------------------------------------

    def get(self, path: str, params: Any = None, *, accept: Collection[int] = ()) -> httpx.Response:
        """GET ``path`` (relative to the base URL, or an absolute next-page URL) and return the answer
        once its body is complete JSON; retries and waits as the module docstring says. An answer
        whose status is in ``accept`` is returned as it came (the caller reads the API's own error)."""
        return self.request("GET", path, params, accept=accept)

    def post_json(self, path: str, body: Any) -> Any:
        """POST a JSON body (a GraphQL query: a read, so retried like a GET) and return the parsed answer."""
        return self.request("POST", path, json_body=body).json()

    def request(
        self,
        method: str,
        path: str,
        params: Any = None,
        *,
        json_body: Any = None,
        accept: Collection[int] = (),
    ) -> httpx.Response:
        """One read (GET, or a POST that only reads, such as GraphQL), with retries and waits."""
        policy = self.policy
        deadline = time.monotonic() + policy.give_up_after
        attempt = 0
        endpoint = self._endpoint(path)
        if path.startswith(("http://", "https://")):
            self._same_origin_or_fail(httpx.URL(path), f"refusing {method} {endpoint}: it is on")
        while True:
            attempt += 1
            try:
                response = self._once(path, params, endpoint, accept, method=method, json_body=json_body)
                return response
            except _Retry as retry:
                wait = retry.wait
                if wait is None:
                    wait = min(policy.backoff_cap, policy.backoff_base * 2 ** (attempt - 1))
                    wait *= 0.5 + random.random() / 2  # jitter: clients retrying together spread out
                    if attempt >= policy.max_attempts:
                        raise SourceError(
                            f"{self.source}: {method} {endpoint} failed {attempt} times ({retry.reason}); giving up"
                        ) from None
                if wait > policy.max_rate_limit_wait or time.monotonic() + wait > deadline:
                    raise SourceError(
                        f"{self.source}: {method} {endpoint} still failing after "
                        f"{policy.give_up_after - max(0.0, deadline - time.monotonic()):.0f}s ({retry.reason}); "
                        f"the next retry would wait {wait:.0f}s, beyond the {policy.give_up_after:.0f}s limit; "
                        "giving up (nothing from this request was stored)"
                    ) from None
                log.warning(
                    "%s: %s %s: %s; retrying in %.1fs", self.source, method, endpoint, retry.reason, wait
                )
                with self._lock:
                    self.stats.retries += 1
                    self.stats.waited_sec += wait
                self._sleep(wait)

    def get_json(self, path: str, params: Any = None) -> Any:
        return self.get(path, params).json()

    def _endpoint(self, path: str) -> str:
        """The request's path without query string or host, for messages (never carries a secret)."""
        url = httpx.URL(path)
        return url.path if url.is_absolute_url else "/" + path.split("?")[0].lstrip("/")

    def _once(
        self,
        path: str,
        params: Any,
        endpoint: str,
        accept: Collection[int] = (),
        *,
        method: str = "GET",
        json_body: Any = None,
    ) -> httpx.Response:
        resource = "graphql" if method == "POST" and endpoint.rstrip("/").endswith("/graphql") else "rest"
        with self._slots:
            self._acquire(resource, endpoint)
            try:
                return self._send(path, params, endpoint, accept, method, json_body, resource)
            finally:
                with self._lock:
                    self._in_flight[resource] -= 1

    def _send(
        self,
        path: str,
        params: Any,
        endpoint: str,
        accept: Collection[int],
        method: str,
        json_body: Any,
        resource: str,
    ) -> httpx.Response:
        counter = request_counter.get()
        with self._lock:
            self.stats.requests += 1
            self.stats.by_path[endpoint] = self.stats.by_path.get(endpoint, 0) + 1
            if counter is not None:
                counter[0] += 1
        target: str | httpx.URL = path.lstrip("/") if not path.startswith("http") else path
        for _hop in range(MAX_REDIRECTS + 1):
            try:
                if method == "GET":
                    response = self._http.get(target, params=params)
                else:
                    response = self._http.request(method, target, params=params, json=json_body)
            except httpx.TimeoutException:
                raise _Retry("timed out") from None
            except httpx.TransportError as exc:
                raise _Retry(f"connection error {type(exc).__name__}") from None
            if not (response.is_redirect and response.headers.get("location")):
                break
            target = response.url.join(response.headers["location"])
            self._same_origin_or_fail(
                target, f"{method} {endpoint} was redirected (HTTP {response.status_code}) to"
            )
            params = None  # the Location carries the whole query
        else:
            raise SourceError(
                f"{self.source}: {method} {endpoint} was redirected more than {MAX_REDIRECTS} times"
            )
        status = response.status_code
        self._note_quota(response, resource)
        if status in accept:
            return response
        if status in (403, 429):
            wait = self._rate_limit_wait(response)
            if wait is not None:
                with self._lock:
                    self.stats.rate_limited += 1
                    # every worker holds off, not only the one that was refused
                    self._paused_until = max(self._paused_until, time.time() + wait)
                raise _Retry(f"rate limited (HTTP {status})", wait)
            if status == 429:  # a 429 without any hint (GitLab.com sometimes): exponential backoff
                with self._lock:
                    self.stats.rate_limited += 1
                raise _Retry("rate limited (HTTP 429, no reset hint)")
        if status in (401, 403):
            raise AuthError(
                f"{self.source}: HTTP {status} on {method} {endpoint}: the token in ${self.token_env} was refused "
                f"(missing, wrong, expired or without access). {_message(response, self.redact)}"
            )
        if status >= 500 or status == 408:
            raise _Retry(f"HTTP {status}", _header_seconds(response.headers.get("retry-after"), time.time()))
        if status >= 400:
            raise SourceError(
                f"{self.source}: HTTP {status} on {method} {endpoint}: {_message(response, self.redact)}"
            )
        try:
            parsed = json.loads(response.content or b"null")
        except ValueError:
            raise _Retry("the body is not complete JSON (truncated page)") from None
        # callers read the body with .json(): hand them this parse instead of a second one (a full
        # sync parses hundreds of MB of JSON)
        response.json = lambda **_kw: parsed  # type: ignore[method-assign]
        return response

    def _note_quota(self, response: httpx.Response, resource: str) -> None:
        """Note the limit an answer reports (GitHub ``x-ratelimit-*``, GitLab ``RateLimit-*``)."""
        h = response.headers
        for remaining, reset in (
            ("x-ratelimit-remaining", "x-ratelimit-reset"),
            ("ratelimit-remaining", "ratelimit-reset"),
        ):
            if h.get(remaining) is not None and h.get(reset):
                try:
                    left, until = int(float(h[remaining])), float(h[reset])
                except ValueError:
                    continue
                self._set_budget(resource, left, until, in_flight_self=True)
                return

    def note_limit(self, remaining: int, reset: float, resource: str = "graphql", cost: int = 1) -> None:
        """Note a limit a body reports (GitHub GraphQL's ``rateLimit { cost remaining resetAt }``):
        ``remaining`` points at ``cost`` each until ``reset`` (epoch seconds)."""
        self._set_budget(resource, remaining // max(1, cost), reset, in_flight_self=False)

    def _set_budget(self, resource: str, remaining: int, reset: float, *, in_flight_self: bool) -> None:
        with self._lock:
            # requests already sent but not yet counted by the server will spend the window too
            others = self._in_flight.get(resource, 0) - (1 if in_flight_self else 0)
            left = remaining - max(0, others)
            budget = self._budgets.get(resource)
            if budget is None or reset > budget[1] + 1.0 or left < budget[0]:
                # a new window, or fewer left than counted (answers arrive out of order: the lowest
                # count holds, with the reset it came with)
                self._budgets[resource] = [left, reset]

    def _acquire(self, resource: str, endpoint: str) -> None:
        """Wait until a request may start without exceeding the limit, then count it as started: the
        workers share the budget, so when it is spent they all wait for the window to reset."""
        slept_until = 0.0  # (epoch) what this request already waited for: not waited for twice
        while True:
            with self._lock:
                now = max(time.time(), slept_until)
                wait = self._paused_until - now
                budget = self._budgets.get(resource)
                if budget is not None and budget[1] + 1.0 <= now:
                    del self._budgets[resource]  # the window has reset: the next answer tells the new one
                    budget = None
                if wait <= 0 and budget is not None and budget[0] <= 0:
                    wait = budget[1] + 1.0 - now
                if wait <= 0:
                    if budget is not None:
                        budget[0] -= 1
                    self._in_flight[resource] = self._in_flight.get(resource, 0) + 1
                    return
                self.stats.waited_sec += wait
                slept_until = now + wait
            if wait > self.policy.max_rate_limit_wait:
                raise SourceError(
                    f"{self.source}: rate limit exhausted; it resets in {wait:.0f}s, beyond the "
                    f"{self.policy.max_rate_limit_wait:.0f}s limit; giving up before the request to {endpoint}"
                )
            log.warning("%s: rate limit exhausted; waiting %.1fs for it to reset", self.source, wait)
            self._sleep(wait)

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait if this 403/429 is a rate limit, else None (a real permission error)."""
        h = response.headers
        now = time.time()
        retry_after = _header_seconds(h.get("retry-after"), now)
        if retry_after is not None:
            return retry_after
        if h.get("x-ratelimit-remaining") == "0" and h.get("x-ratelimit-reset"):
            try:
                return max(0.0, float(h["x-ratelimit-reset"]) - now) + 1.0
            except ValueError:
                pass
        if h.get("ratelimit-remaining") == "0" and h.get("ratelimit-reset"):
            try:
                return max(0.0, float(h["ratelimit-reset"]) - now) + 1.0
            except ValueError:
                pass
        if (
            "rate limit" in _message(response, self.redact).lower()
            or h.get("x-ratelimit-state") == "THROTTLED"
        ):
            return self.policy.secondary_limit_wait
        return None

    # -- pagination --------------------------------------------------------------------------------

    def link_pages(self, path: str, params: Any = None) -> Iterator[httpx.Response]:
        """Every page of a listing paginated by ``Link: <...>; rel="next"`` (GitHub, GitLab)."""
        response = self.get(path, params)
        yield response
        while (nxt := response.links.get("next")) is not None:
            url = response.url.join(nxt["url"])
            self._same_origin_or_fail(
                url, f"refusing the next-page link of GET {self._endpoint(path)}: it is on"
            )
            response = self.get(str(url))
            yield response


def _message(response: httpx.Response, redact_: Callable[[str], str]) -> str:
    """The error an answer's body states, redacted before it is cut short (a cut token would survive)."""
    try:
        body = response.json()
    except ValueError:
        return redact_(response.text)[:200]
    if isinstance(body, dict):
        for key in ("message", "error", "errors"):
            if key in body:
                value = body[key]
                if isinstance(value, dict):
                    value = value.get("message", value)
                return redact_(str(value))[:300]
    return redact_(str(body))[:200]
