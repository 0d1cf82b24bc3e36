"""Jenkins JSON API: builds of the configured jobs, folders (and multibranch projects) recursed.

One stream per configured job or folder (``builds:<path>``). Its leaf jobs are found by walking
``jobs`` recursively; each leaf's builds are read newest first with
``tree=allBuilds[number,result,timestamp,duration,url,building,actions[lastBuiltRevision[SHA1]]]{M,N}``
in ranges of 100 (``builds`` alone stops at the newest 100), down to the newest build already stored;
builds stored while still running are read again until they finish. The cursor is each leaf's highest build number (JSON).

Each raw record is the build as Jenkins sent it, wrapped with the job it belongs to:
``{"job": {"fullName", "_class", "parent_class"}, "build": {...}}``. A job named in sources.yaml
``jenkins.deployment_jobs`` is a deployment job: its builds are deployments to the configured environment.
"""

from __future__ import annotations

import json
import urllib.parse

from connectors.base import Connector, basic_client
from connectors.http import ApiClient, HttpPolicy
from platform_kpi.raw import Batch, RawStore
from platform_kpi.sources_config import SourcesConfig

SOURCE = "jenkins"
RANGE = 100
# actions[lastBuiltRevision[SHA1]]: the commit a build checked out (git plugin), so a deployment job's
# build names what it deployed
BUILD_TREE = "number,result,timestamp,duration,url,building,actions[lastBuiltRevision[SHA1]]"


def make_client(config: SourcesConfig, env=None, policy: HttpPolicy | None = None) -> ApiClient:
    return basic_client(config, SOURCE, "JENKINS_USER", env, policy, what="Jenkins user name")


def job_path(full_name: str) -> str:
    return "".join(f"job/{urllib.parse.quote(part, safe='')}/" for part in full_name.split("/") if part)


class JenkinsConnector(Connector):
    source = SOURCE

    def streams(self):
        return [
            (f"builds:{job}", lambda store, j=job: self.builds(store, j)) for job in self.source_config.scopes
        ]

    def _leaves(self, full_name: str, parent_class: str | None = None) -> list[tuple[str, str, str | None]]:
        """(full name, class, parent class) of every buildable job at or under ``full_name``."""
        node = self.client.get_json(
            job_path(full_name) + "api/json", {"tree": "_class,name,jobs[name,_class]"}
        )
        children = node.get("jobs")
        if children is None:
            return [(full_name, node.get("_class", ""), parent_class)]
        out = []
        for child in children:
            out += self._leaves(f"{full_name}/{child['name']}", node.get("_class"))
        return out

    def builds(self, store: RawStore, job: str) -> tuple[Batch, str | None]:
        stream = f"builds:{job}"
        cursor = json.loads(store.cursor(self.source, stream) or "{}")
        running = {}
        for key, number in store.query(
            f"select key, (payload -> 'build' ->> 'number')::bigint from raw.{SOURCE}__builds "
            "where scope = ? and (payload -> 'build' ->> 'building')::boolean",
            [job],
        ):
            leaf = key.rsplit("#", 1)[0]
            running[leaf] = min(running.get(leaf, number), number)
        batch = Batch(SOURCE)
        new_cursor = dict(cursor)
        for leaf, cls, parent_class in self._leaves(job):
            floor = int(cursor.get(leaf, 0))
            if leaf in running:
                floor = min(floor, running[leaf] - 1)
            lo = 0
            while True:
                tree = f"allBuilds[{BUILD_TREE}]{{{lo},{lo + RANGE}}}"
                page = (
                    self.client.get_json(job_path(leaf) + "api/json", {"tree": tree}).get("allBuilds") or []
                )
                done = False
                for build in page:
                    number = build.get("number")
                    if number is None or number <= floor:
                        done = True
                        continue
                    payload = {
                        "job": {"fullName": leaf, "_class": cls, "parent_class": parent_class},
                        "build": build,
                    }
                    batch.add("builds", f"{leaf}#{number}", job, payload)
                    new_cursor[leaf] = max(int(new_cursor.get(leaf, 0)), int(number))
                if done or len(page) < RANGE:
                    break
                lo += RANGE
        return batch, json.dumps(new_cursor, sort_keys=True)


CONNECTOR = JenkinsConnector
