"""Template references in CI configuration files: what a repository scan keeps of each CI file.

* GitHub Actions workflows (``.github/workflows/*.yml``): ``jobs.<id>.uses`` (a reusable workflow,
  ``owner/repo/.github/workflows/build.yml@v3``) and ``jobs.<id>.steps[].uses`` (an action,
  ``actions/checkout@v4``), kind ``github_uses``.
* GitLab CI (``.gitlab-ci.yml``): ``include:`` as a string (local file or remote URL), a list, or maps
  with ``project:`` + ``file:`` (+ ``ref:``), ``template:``, ``component:`` (``host/group/project/name@1.0``),
  ``remote:`` or ``local:``; kinds ``gitlab_include_<form>``.
* Jenkinsfiles: ``@Library('name@version') _``, ``@Library(['a@1', 'b'])`` and ``library 'name@version'``,
  kind ``jenkins_library``.

Each reference is ``{"kind", "reference", "version"}``: the reference without its version, and the
version it is pinned to (``None`` when unpinned). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

GITHUB_WORKFLOW = re.compile(r"^\.github/workflows/[^/]+\.ya?ml$")
GITLAB_CI = ".gitlab-ci.yml"
JENKINSFILE = re.compile(r"(^|/)Jenkinsfile$")


class CiConfigError(ValueError):
    """A CI file that cannot be read as its format (invalid YAML); the message says where."""


class _TolerantLoader(yaml.SafeLoader):
    """Safe YAML that reads GitLab's custom tags (``!reference [...]``) as plain values."""


def _any_tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_TolerantLoader.add_multi_constructor("!", _any_tag)


def is_ci_file(path: str) -> bool:
    return bool(GITHUB_WORKFLOW.match(path)) or path == GITLAB_CI or bool(JENKINSFILE.search(path))


def _split(value: str, sep: str = "@") -> tuple[str, str | None]:
    ref, found, version = value.strip().rpartition(sep)
    return (ref, version or None) if found and ref else (value.strip(), None)


def _ref(kind: str, reference: str, version: str | None) -> dict[str, Any]:
    return {"kind": kind, "reference": reference, "version": version}


def _load(text: str, path: str) -> Any:
    try:
        return yaml.load(text, Loader=_TolerantLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise CiConfigError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def github_workflow_refs(text: str, path: str = "workflow") -> list[dict[str, Any]]:
    """Every ``uses:`` of a workflow (reusable workflows of jobs, actions of steps), in file order."""
    doc = _load(text, path)
    refs: list[dict[str, Any]] = []
    jobs = doc.get("jobs") if isinstance(doc, dict) else None
    for job in (jobs or {}).values() if isinstance(jobs, dict) else ():
        if not isinstance(job, dict):
            continue
        if isinstance(job.get("uses"), str):
            refs.append(_ref("github_uses", *_split(job["uses"])))
        for step in job.get("steps") or () if isinstance(job.get("steps"), list) else ():
            if isinstance(step, dict) and isinstance(step.get("uses"), str):
                refs.append(_ref("github_uses", *_split(step["uses"])))
    return refs


def gitlab_include_refs(text: str, path: str = GITLAB_CI) -> list[dict[str, Any]]:
    """Every ``include:`` entry of a GitLab CI file, in file order."""
    doc = _load(text, path)
    include = doc.get("include") if isinstance(doc, dict) else None
    if include is None:
        return []
    refs: list[dict[str, Any]] = []
    for item in include if isinstance(include, list) else [include]:
        if isinstance(item, str):  # a bare string: a remote URL or a local file
            kind = (
                "gitlab_include_remote"
                if item.startswith(("http://", "https://"))
                else "gitlab_include_local"
            )
            refs.append(_ref(kind, item, None))
        elif isinstance(item, dict):
            if "project" in item:
                files = item.get("file") or []
                ref = item.get("ref")
                for file in files if isinstance(files, list) else [files]:
                    reference = f"{str(item['project']).strip('/')}/{str(file).lstrip('/')}"
                    refs.append(_ref("gitlab_include_project", reference, str(ref) if ref else None))
            elif "component" in item:
                refs.append(_ref("gitlab_include_component", *_split(str(item["component"]))))
            elif "template" in item:
                refs.append(_ref("gitlab_include_template", str(item["template"]), None))
            elif "remote" in item:
                refs.append(_ref("gitlab_include_remote", str(item["remote"]), None))
            elif "local" in item:
                refs.append(_ref("gitlab_include_local", str(item["local"]), None))
    return refs


_LIBRARY_ANNOTATION = re.compile(r"@Library\s*\(\s*(\[[^\]]*\]|'[^']*'|\"[^\"]*\")", re.S)
_LIBRARY_STEP = re.compile(r"(?m)^\s*library\s*\(?\s*(?:identifier\s*:\s*)?['\"]([^'\"]+)['\"]")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def jenkins_library_refs(text: str) -> list[dict[str, Any]]:
    """Every shared library a Jenkinsfile loads (``@Library`` annotations and ``library`` steps)."""
    names: list[str] = []
    for match in _LIBRARY_ANNOTATION.finditer(text):
        names += [a or b for a, b in _QUOTED.findall(match.group(1))]
    names += _LIBRARY_STEP.findall(text)
    return [_ref("jenkins_library", *_split(n)) for n in names if n.strip()]


def refs_of(path: str, text: str) -> list[dict[str, Any]]:
    """The template references of the CI file at ``path`` (raises CiConfigError for invalid YAML)."""
    if GITHUB_WORKFLOW.match(path):
        return github_workflow_refs(text, path)
    if path == GITLAB_CI:
        return gitlab_include_refs(text, path)
    if JENKINSFILE.search(path):
        return jenkins_library_refs(text)
    return []
