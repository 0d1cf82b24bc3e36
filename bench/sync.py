"""The sync benchmark (issue #16): the demo organisation read from the built-in API simulator.

Generates the demo organisation (``kpi demo``'s defaults: 40 services, 24 months, seed 7, a fixed
today), serves it from the simulator on 127.0.0.1 as ``kpi demo --via-api`` does, then runs into a
temporary raw store

  1. a full sync (empty store), and
  2. an incremental sync one hour later with nothing new,

and prints per source and per stream the requests (as the simulator logged them, and as the client
counted them), records fetched and wall seconds, the totals, and the targets with met/MISSED:

* full sync: ≥ 4× fewer requests and ≥ 4× less wall time than before the work of #16
  (33,908 requests, ~80 s, measured by the issue);
* incremental sync with nothing new: ≤ 1 request per stream.

    .venv/bin/python -m bench.sync [--services 40] [--months 24] [--rest] [--in-process]

``--rest`` reads GitHub pull requests and deployments through REST (``graphql: false``). The simulator
runs in a process of its own (as a real API is elsewhere: its CPU is not the sync's, and it does not
hold the sync's interpreter lock); ``--in-process`` serves it from the sync's own process instead, as
``kpi demo --via-api`` does (and as the figures before #16 were measured).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

from bench.data import TODAY

BEFORE_REQUESTS = 33_908
BEFORE_SECONDS = 80.0
TARGET_FACTOR = 4.0
TARGET_INCREMENTAL_PER_STREAM = 1


def _kind(stream: str) -> str:
    """``pulls:acme/api`` -> ``pulls`` (streams of the same kind summed over repositories/services)."""
    return stream.split(":", 1)[0]


class _ServerProcess:
    """The simulator serving ``files`` in a child process; ``requests()`` = its log's length, then reset."""

    def __init__(self, files: Path) -> None:
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-c", f"from bench.sync import _serve; _serve({str(files)!r})"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.port = int(self.proc.stdout.readline())
        self.tokens = json.loads(self.proc.stdout.readline())

    def url(self, vendor: str) -> str:
        return f"http://127.0.0.1:{self.port}/{vendor}"

    def _ask(self, line: str) -> str:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def reset_log(self) -> None:
        self._ask("reset")

    def requests(self) -> list:
        return [None] * int(self._ask("count"))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _serve(files: str) -> None:
    """The child of :class:`_ServerProcess`: serve, then answer ``count``/``reset`` on stdin until EOF."""
    import sys

    from platform_kpi.simulator.demo import build_sim_data
    from platform_kpi.simulator.server import Simulator

    with Simulator(build_sim_data(Path(files))) as sim:
        print(sim.port, flush=True)
        print(json.dumps(sim.tokens), flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                print(len(sim.requests()), flush=True)
            elif line.strip() == "reset":
                sim.reset_log()
                print("ok", flush=True)


def _run(con, config, env, now, sim) -> tuple[dict, int, float]:
    from platform_kpi.sync import sync_all

    sim.reset_log()
    started = time.perf_counter()
    results = sync_all(con, config, env=env, now=now)
    seconds = time.perf_counter() - started
    return results, len(sim.requests()), seconds


def _report(title: str, results: dict, logged: int, seconds: float) -> dict[str, int]:
    """Prints the phase; returns requests per stream."""
    print(f"\n== {title}: {logged:,} requests (simulator log), {seconds:.1f}s wall")
    per_stream: dict[str, int] = {}
    print(f"  {'source':<10} {'requests':>9} {'streams':>8} {'seconds':>8}  status")
    for name, r in results.items():
        if not r.configured:
            continue
        status = f"FAILED: {r.error}" if r.error else "ok"
        print(f"  {name:<10} {r.requests:>9,} {len(r.streams):>8} {r.seconds:>8.1f}  {status}")
    print(
        f"  per stream kind (summed over scopes): {'requests':>9} {'fetched':>8} {'seconds':>8} {'max/stream':>10}"
    )
    for name, r in results.items():
        kinds: dict[str, list] = defaultdict(lambda: [0, 0, 0.0, 0, 0])
        for s in r.streams:
            k = kinds[_kind(s.stream)]
            k[0] += s.requests
            k[1] += s.fetched
            k[2] += getattr(s, "seconds", 0.0) or 0.0  # StreamResult.seconds (added by #16)
            k[3] = max(k[3], s.requests)
            k[4] += 1
            per_stream[f"{name} {s.stream}"] = s.requests
        for kind, (req, fetched, secs, most, n) in kinds.items():
            label = f"{name} {kind} ({n})"
            print(f"    {label:<36} {req:>9,} {fetched:>8,} {secs:>8.1f} {most:>10,}")
    return per_stream


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=40)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rest", action="store_true", help="GitHub pull requests through REST (graphql: false)"
    )
    parser.add_argument("--verbose", action="store_true", help="print every stream")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="serve the simulator from this process (as kpi demo --via-api)",
    )
    args = parser.parse_args(argv)

    from platform_kpi.demo.alerts import generate_alerts
    from platform_kpi.demo.org import generate_demo_org
    from platform_kpi.simulator.demo import TOKEN_ENVS, build_sim_data, write_demo_sources_yaml
    from platform_kpi.simulator.server import Simulator
    from platform_kpi.sources_config import load_sources_config
    from platform_kpi.warehouse import write_connection

    with tempfile.TemporaryDirectory(prefix="kpi-bench-sync-") as tmp:
        home = Path(tmp)
        files = home / "files"
        t0 = time.perf_counter()
        generate_demo_org(files, services=args.services, months=args.months, seed=args.seed, today=TODAY)
        generate_alerts(files, months=args.months, seed=args.seed, today=TODAY)
        print(
            f"Demo organisation: {args.services} services, {args.months} months, seed {args.seed}, "
            f"today {TODAY} ({time.perf_counter() - t0:.1f}s to generate); simulator "
            + ("in this process" if args.in_process else "in a process of its own")
            + (", GitHub through REST" if args.rest else ", GitHub through GraphQL")
        )
        with Simulator(build_sim_data(files)) if args.in_process else _ServerProcess(files) as sim:
            path = write_demo_sources_yaml(
                home / "sources.yaml", files, {v: sim.url(v) for v in ("github", "pagerduty")}
            )
            if args.rest:
                raw = yaml.safe_load(path.read_text())
                raw["github"]["graphql"] = False
                path.write_text(yaml.safe_dump(raw, sort_keys=False))
            config = load_sources_config(path)
            env = {TOKEN_ENVS[v]: sim.tokens[v] for v in TOKEN_ENVS}
            now = dt.datetime.combine(TODAY, dt.time(6))
            with write_connection(home / "sync.duckdb") as con:
                full, full_logged, full_sec = _run(con, config, env, now, sim)
                _report("full sync", full, full_logged, full_sec)
                inc, inc_logged, inc_sec = _run(con, config, env, now + dt.timedelta(hours=1), sim)
                per_stream = _report("incremental sync, nothing new", inc, inc_logged, inc_sec)
            if args.verbose:
                for stream, n in per_stream.items():
                    print(f"    {stream}: {n}")

    failed = [n for res in (full, inc) for n, r in res.items() if r.error]
    worst = max(per_stream.values(), default=0)
    over = sorted(s for s, n in per_stream.items() if n > TARGET_INCREMENTAL_PER_STREAM)
    targets = [
        (
            f"full sync requests ≤ {BEFORE_REQUESTS / TARGET_FACTOR:,.0f} (4× fewer than {BEFORE_REQUESTS:,})",
            f"{full_logged:,} ({BEFORE_REQUESTS / max(full_logged, 1):.1f}× fewer)",
            full_logged * TARGET_FACTOR <= BEFORE_REQUESTS,
        ),
        (
            f"full sync wall ≤ {BEFORE_SECONDS / TARGET_FACTOR:.0f}s (4× less than {BEFORE_SECONDS:.0f}s)",
            f"{full_sec:.1f}s ({BEFORE_SECONDS / max(full_sec, 1e-9):.1f}× less)",
            full_sec * TARGET_FACTOR <= BEFORE_SECONDS,
        ),
        (
            f"incremental, nothing new: ≤ {TARGET_INCREMENTAL_PER_STREAM} request per stream",
            f"max {worst} over {len(per_stream)} streams, {inc_logged} in all"
            + (f"; over: {', '.join(over[:5])}{' ...' if len(over) > 5 else ''}" if over else ""),
            worst <= TARGET_INCREMENTAL_PER_STREAM,
        ),
    ]
    print("\n== targets")
    for what, figure, met in targets:
        print(f"  {'met   ' if met else 'MISSED'}  {what}: {figure}")
    if failed:
        print(f"  FAILED sources: {', '.join(failed)}")
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
