"""The simulator's GitHub GraphQL endpoint (``POST /github/graphql``): a small GraphQL reader for the
pull-request query the GitHub connector sends, answered from the same data as the REST routes.

The query is parsed (operation, variables, fields with arguments, aliases, ``@include``/``@skip`` and
inline fragments) and checked against the part of GitHub's schema modelled below: an unknown field is
answered the way GitHub answers it (HTTP 200, ``errors[]`` with ``undefinedField``), a connection
without ``first``/``last`` or with more than 100 is refused as GitHub refuses it
(docs.github.com/graphql/guides/using-pagination-in-the-graphql-api). The answer is the selected fields
only, with ``rateLimit { cost remaining resetAt }`` (docs.github.com/graphql/overview/rate-limits-and-
query-limits-for-the-graphql-api). Cursors are opaque base64 strings, as GitHub's are.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(r'\.\.\.|[{}():,!\[\]@$=]|"(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*|-?\d+(?:\.\d+)?')


class QueryError(Exception):
    """The query is not one GitHub would answer; ``errors`` is GitHub's error list."""

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.errors = [{"message": message, **extra}]


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any] = field(default_factory=dict)
    directives: list[tuple[str, dict]] = field(default_factory=list)
    selections: list = field(default_factory=list)  # Field | Fragment


@dataclass
class Fragment:
    on: str
    selections: list


@dataclass
class Var:
    name: str


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = [t for t in _TOKEN.findall(re.sub(r"#[^\n]*", "", text)) if t != ","]
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise QueryError(f"Parse error on {tok!r} (expected {expected or 'more'})")
        self.i += 1
        return tok

    def document(self) -> list:
        if self.peek() == "query":
            self.take()
            if self.peek() not in ("(", "{"):
                self.take()  # the operation's name
            if self.peek() == "(":  # variable definitions: checked by use, not here
                depth = 0
                while True:
                    tok = self.take()
                    depth += tok == "("
                    depth -= tok == ")"
                    if depth == 0:
                        break
        sels = self.selection_set()
        if self.peek() is not None:
            raise QueryError("Parse error: one operation per document")
        return sels

    def selection_set(self) -> list:
        self.take("{")
        out: list = []
        while self.peek() != "}":
            if self.peek() == "...":
                self.take()
                self.take("on")
                out.append(Fragment(self.take(), self.selection_set()))
                continue
            name = alias = self.take()
            if self.peek() == ":":
                self.take()
                name = self.take()
            f = Field(name, alias)
            if self.peek() == "(":
                f.args = self.arguments()
            while self.peek() == "@":
                self.take()
                d = self.take()
                f.directives.append((d, self.arguments() if self.peek() == "(" else {}))
            if self.peek() == "{":
                f.selections = self.selection_set()
            out.append(f)
        self.take("}")
        return out

    def arguments(self) -> dict:
        self.take("(")
        args = {}
        while self.peek() != ")":
            key = self.take()
            self.take(":")
            args[key] = self.value()
        self.take(")")
        return args

    def value(self) -> Any:
        tok = self.take()
        if tok == "$":
            return Var(self.take())
        if tok == "[":
            items = []
            while self.peek() != "]":
                items.append(self.value())
            self.take("]")
            return items
        if tok == "{":
            obj = {}
            while self.peek() != "}":
                k = self.take()
                self.take(":")
                obj[k] = self.value()
            self.take("}")
            return obj
        if tok.startswith('"'):
            return tok[1:-1]
        if re.fullmatch(r"-?\d+", tok):
            return int(tok)
        return {"true": True, "false": False, "null": None}.get(tok, tok)  # enums stay names


def _bind(value: Any, variables: dict) -> Any:
    if isinstance(value, Var):
        if value.name not in variables:
            raise QueryError(
                f"Variable ${value.name} is not defined", extensions={"code": "variableNotDefined"}
            )
        return variables[value.name]
    if isinstance(value, list):
        return [_bind(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: _bind(v, variables) for k, v in value.items()}
    return value


def cursor(index: int) -> str:
    return base64.b64encode(f"cursor:v2:{index}".encode()).decode()


def _offset(after: str | None) -> int:
    if not after:
        return 0
    try:
        return int(base64.b64decode(after).decode().rsplit(":", 1)[1]) + 1
    except (ValueError, IndexError):
        raise QueryError(f"`{after}` does not appear to be a valid cursor.") from None


@dataclass
class Connection:
    """A connection field's items (all of them; ``first``/``after`` choose the page); ``convert`` turns
    the items of the page asked for into nodes; ``total`` is ``totalCount`` when it is not the list's
    length (the demo data lists a pull request's first commit only but knows how many it had)."""

    items: list
    convert: Callable[[Any], Any] | None = None
    total: int | None = None


#: The modelled part of GitHub's schema: type -> field -> the field's type (None: a scalar or enum).
#: A field whose value is a Connection takes first/after. Names from docs.github.com/graphql/reference.
SCHEMA: dict[str, dict[str, str | None]] = {
    "Query": {"rateLimit": "RateLimit", "repository": "Repository"},
    "RateLimit": {"cost": None, "limit": None, "remaining": None, "resetAt": None, "used": None},
    "Repository": {
        "nameWithOwner": None,
        "pullRequests": "PullRequestConnection",
        "deployments": "DeploymentConnection",
    },
    "DeploymentConnection": {"pageInfo": "PageInfo", "nodes": "Deployment", "totalCount": None},
    "Deployment": {
        **dict.fromkeys(
            [
                "databaseId",
                "createdAt",
                "updatedAt",
                "environment",
                "originalEnvironment",
                "task",
                "description",
                "payload",
                "commitOid",
                "state",
            ]
        ),
        "ref": "Ref",
        "creator": "Actor",
        "latestStatus": "DeploymentStatus",
        "statuses": "DeploymentStatusConnection",
    },
    "Ref": {"name": None},
    "DeploymentStatusConnection": {"pageInfo": "PageInfo", "nodes": "DeploymentStatus", "totalCount": None},
    "DeploymentStatus": {
        "state": None,
        "createdAt": None,
        "updatedAt": None,
        "description": None,
        "logUrl": None,
        "environment": None,
    },
    "PageInfo": {"hasNextPage": None, "endCursor": None, "hasPreviousPage": None, "startCursor": None},
    "PullRequestConnection": {"pageInfo": "PageInfo", "nodes": "PullRequest", "totalCount": None},
    "PullRequest": {
        **dict.fromkeys(
            [
                "databaseId",
                "number",
                "title",
                "url",
                "state",
                "isDraft",
                "createdAt",
                "updatedAt",
                "closedAt",
                "mergedAt",
                "additions",
                "deletions",
                "changedFiles",
                "headRefName",
                "headRefOid",
                "baseRefName",
            ]
        ),
        "author": "Actor",
        "mergeCommit": "Commit",
        "commits": "PullRequestCommitConnection",
        "reviews": "PullRequestReviewConnection",
        "timelineItems": "PullRequestTimelineItemsConnection",
        "files": "PullRequestChangedFileConnection",
    },
    "Actor": {"__typename": None, "login": None},  # an interface: User, Bot, ...
    "Commit": {"oid": None, "authoredDate": None, "committedDate": None},
    "PullRequestCommitConnection": {"pageInfo": "PageInfo", "nodes": "PullRequestCommit", "totalCount": None},
    "PullRequestCommit": {"commit": "Commit"},
    "PullRequestReviewConnection": {"pageInfo": "PageInfo", "nodes": "PullRequestReview", "totalCount": None},
    "PullRequestReview": {
        "databaseId": None,
        "state": None,
        "submittedAt": None,
        "body": None,
        "author": "Actor",
    },
    "PullRequestTimelineItemsConnection": {
        "pageInfo": "PageInfo",
        "nodes": "PullRequestTimelineItems",
        "totalCount": None,
    },
    "PullRequestTimelineItems": {"__typename": None},
    "ReadyForReviewEvent": {"__typename": None, "id": None, "createdAt": None, "actor": "Actor"},
    "PullRequestChangedFileConnection": {
        "pageInfo": "PageInfo",
        "nodes": "PullRequestChangedFile",
        "totalCount": None,
    },
    "PullRequestChangedFile": {"path": None, "additions": None, "deletions": None, "changeType": None},
}
_CONNECTION_MAX = 100


def execute(
    query: str,
    variables: dict,
    root: Callable[[str, dict], Any],
) -> dict:
    """Answer ``query``: ``root(field, args)`` gives the value of a top-level field (a dict for objects,
    a :class:`Connection`, or a list/scalar). Returns the response body (``data`` or ``errors``)."""
    try:
        sels = _Parser(query).document()
        return {"data": _select("Query", None, sels, variables or {}, root)}
    except QueryError as exc:
        return {"errors": exc.errors}


def _included(f: Field, variables: dict) -> bool:
    for name, args in f.directives:
        cond = bool(_bind(args.get("if"), variables))
        if (name == "include" and not cond) or (name == "skip" and cond):
            return False
    return True


def _select(type_name: str, obj: Any, sels: list, variables: dict, root) -> dict:
    out: dict = {}
    actual = obj.get("__typename", type_name) if isinstance(obj, dict) else type_name
    for s in sels:
        if isinstance(s, Fragment):
            if s.on not in SCHEMA:
                raise QueryError(f"No such type {s.on}, so it can't be a fragment condition")
            if s.on == actual:
                out.update(_select(s.on, obj, s.selections, variables, root))
            continue
        if not _included(s, variables):
            continue
        fields = SCHEMA[type_name]
        if s.name not in fields:
            raise QueryError(
                f"Field '{s.name}' doesn't exist on type '{type_name}'",
                extensions={"code": "undefinedField", "typeName": type_name, "fieldName": s.name},
            )
        args = {k: _bind(v, variables) for k, v in s.args.items()}
        value = root(s.name, args) if type_name == "Query" else obj.get(s.name)
        if callable(value):  # a field whose value depends on its arguments (filters, order)
            value = value(args)
        if s.name == "__typename" and value is None:
            value = actual
        sub = fields[s.name]
        if isinstance(value, Connection):
            first = args.get("first")
            if first is None or not 1 <= int(first) <= _CONNECTION_MAX:
                raise QueryError(
                    f"You must provide a `first` value between 1 and {_CONNECTION_MAX} to paginate `{s.name}`.",
                    extensions={"code": "argumentLimit"},
                )
            lo = _offset(args.get("after"))
            page = value.items[lo : lo + int(first)]
            if value.convert is not None:
                page = [value.convert(item) for item in page]
            value = {
                "totalCount": len(value.items) if value.total is None else value.total,
                "nodes": page,
                "pageInfo": {
                    "hasNextPage": lo + len(page) < len(value.items),
                    "endCursor": cursor(lo + len(page) - 1) if page else None,
                    "hasPreviousPage": lo > 0,
                    "startCursor": cursor(lo) if page else None,
                },
            }
        if sub is None or value is None:
            out[s.alias] = value
        elif not s.selections:
            raise QueryError(
                f"Field must have selections (field '{s.name}' returns {sub} but has no selections)"
            )
        elif isinstance(value, list):
            out[s.alias] = [_select(sub, v, s.selections, variables, root) for v in value]
        elif sub.endswith("Connection"):
            out[s.alias] = {
                k.alias: (
                    [_select(SCHEMA[sub]["nodes"], v, k.selections, variables, root) for v in value["nodes"]]
                    if k.name == "nodes"
                    else _select("PageInfo", value["pageInfo"], k.selections, variables, root)
                    if k.name == "pageInfo"
                    else value.get(k.name)
                )
                for k in s.selections
                if isinstance(k, Field) and _check(sub, k)
            }
        else:
            out[s.alias] = _select(sub, value, s.selections, variables, root)
    return out


def _check(type_name: str, f: Field) -> bool:
    if f.name not in SCHEMA[type_name]:
        raise QueryError(
            f"Field '{f.name}' doesn't exist on type '{type_name}'",
            extensions={"code": "undefinedField", "typeName": type_name, "fieldName": f.name},
        )
    return True
