"""Payloads rebuilt from the vendors' documented examples, field for field.

Each builder returns the example as the vendor documents it (long nested objects such as ``actor`` or
``repository`` trimmed to a few of their fields: nothing reads them). Only ids, shas and times are
parameters, so a test can place the record inside its sync window and link it to others; every other
value is the documented one.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any


def _z(t: dt.datetime, millis: bool = False) -> str:
    return t.isoformat(timespec="milliseconds" if millis else "seconds") + "Z"


# -- GitHub ------------------------------------------------------------------------------------------------

# "List workflow runs for a repository", example response (one run), REST API 2022-11-28:
# https://docs.github.com/en/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
# Note the documented `path`: the workflow file *with* the ref it ran from (`@main`).
_WORKFLOW_RUN: dict[str, Any] = {
    "id": 30433642,
    "name": "Build",
    "node_id": "MDEyOldvcmtmbG93IFJ1bjI2OTI4OQ==",
    "check_suite_id": 42,
    "check_suite_node_id": "MDEwOkNoZWNrU3VpdGU0Mg==",
    "head_branch": "master",
    "head_sha": "acb5820ced9479c074f688cc328bf03f341a511d",
    "path": ".github/workflows/build.yml@main",
    "run_number": 562,
    "event": "push",
    "display_title": "Update README.md",
    "status": "queued",
    "conclusion": None,
    "workflow_id": 159038,
    "url": "https://api.github.com/repos/octo-org/octo-repo/actions/runs/30433642",
    "html_url": "https://github.com/octo-org/octo-repo/actions/runs/30433642",
    "pull_requests": [],
    "created_at": "2020-01-22T19:33:08Z",
    "updated_at": "2020-01-22T19:33:08Z",
    "actor": {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": False},
    "run_attempt": 1,
    "run_started_at": "2020-01-22T19:33:08Z",
    "triggering_actor": {
        "login": "octocat",
        "id": 1,
        "node_id": "MDQ6VXNlcjE=",
        "type": "User",
        "site_admin": False,
    },
    "jobs_url": "https://api.github.com/repos/octo-org/octo-repo/actions/runs/30433642/jobs",
    "logs_url": "https://api.github.com/repos/octo-org/octo-repo/actions/runs/30433642/logs",
    "check_suite_url": "https://api.github.com/repos/octo-org/octo-repo/check-suites/414944374",
    "artifacts_url": "https://api.github.com/repos/octo-org/octo-repo/actions/runs/30433642/artifacts",
    "cancel_url": "https://api.github.com/repos/octo-org/octo-repo/actions/runs/30433642/cancel",
    "rerun_url": "https://api.github.com/repos/octo-org/octo-repo/actions/runs/30433642/rerun",
    "workflow_url": "https://api.github.com/repos/octo-org/octo-repo/actions/workflows/159038",
    "head_commit": {
        "id": "acb5820ced9479c074f688cc328bf03f341a511d",
        "tree_id": "d23f6eedb1e1b9610bbc754ddb5197bfe7271223",
        "message": "Create linter.yaml",
        "timestamp": "2020-01-22T19:33:05Z",
        "author": {"name": "Octo Cat", "email": "octocat@github.com"},
        "committer": {"name": "GitHub", "email": "noreply@github.com"},
    },
    "repository": {
        "id": 1296269,
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": "Hello-World",
        "full_name": "octocat/Hello-World",
        "private": False,
    },
    "head_repository": {
        "id": 217723378,
        "node_id": "MDEwOlJlcG9zaXRvcnkyMTc3MjMzNzg=",
        "name": "octo-repo",
        "full_name": "octo-org/octo-repo",
        "private": True,
    },
}


def github_workflow_run(
    run_id: int,
    created: dt.datetime,
    *,
    path: str | None = None,
    status: str = "queued",
    conclusion: str | None = None,
    minutes: float = 0,
) -> dict:
    """The documented workflow run; a completed one gets its ``conclusion`` and an ``updated_at``
    ``minutes`` after it started."""
    run = copy.deepcopy(_WORKFLOW_RUN)
    run.update(
        id=run_id,
        status=status,
        conclusion=conclusion,
        created_at=_z(created),
        run_started_at=_z(created),
        updated_at=_z(created + dt.timedelta(minutes=minutes)),
    )
    if path is not None:
        run["path"] = path
    return run


# "List deployments", example response, REST API 2022-11-28 (this version names the commit `sha`):
# https://docs.github.com/en/rest/deployments/deployments?apiVersion=2022-11-28#list-deployments
_DEPLOYMENT: dict[str, Any] = {
    "url": "https://api.github.com/repos/octocat/example/deployments/1",
    "id": 1,
    "node_id": "MDEwOkRlcGxveW1lbnQx",
    "sha": "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d",
    "ref": "topic-branch",
    "task": "deploy",
    "payload": {},
    "original_environment": "staging",
    "environment": "production",
    "description": "Deploy request from hubot",
    "creator": {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": False},
    "created_at": "2012-07-20T01:19:13Z",
    "updated_at": "2012-07-20T01:19:13Z",
    "statuses_url": "https://api.github.com/repos/octocat/example/deployments/1/statuses",
    "repository_url": "https://api.github.com/repos/octocat/example",
    "transient_environment": False,
    "production_environment": True,
}

# "List deployment statuses", example response, REST API 2022-11-28:
# https://docs.github.com/en/rest/deployments/statuses?apiVersion=2022-11-28#list-deployment-statuses
_DEPLOYMENT_STATUS: dict[str, Any] = {
    "url": "https://api.github.com/repos/octocat/example/deployments/42/statuses/1",
    "id": 1,
    "node_id": "MDE2OkRlcGxveW1lbnRTdGF0dXMx",
    "state": "success",
    "creator": {"login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=", "type": "User", "site_admin": False},
    "description": "Deployment finished successfully.",
    "environment": "production",
    "target_url": "https://example.com/deployment/42/output",
    "created_at": "2012-07-20T01:19:13Z",
    "updated_at": "2012-07-20T01:19:13Z",
    "deployment_url": "https://api.github.com/repos/octocat/example/deployments/42",
    "repository_url": "https://api.github.com/repos/octocat/example",
    "environment_url": "https://test-branch.lab.acme.com",
    "log_url": "https://example.com/deployment/42/output",
}


def github_deployment(dep_id: int, repo: str, created: dt.datetime) -> dict:
    d = copy.deepcopy(_DEPLOYMENT)
    d.update(
        id=dep_id,
        created_at=_z(created),
        updated_at=_z(created),
        url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}",
        statuses_url=f"https://api.github.com/repos/{repo}/deployments/{dep_id}/statuses",
    )
    return d


def github_deployment_status(status_id: int, dep_id: int, state: str, at: dt.datetime) -> dict:
    s = copy.deepcopy(_DEPLOYMENT_STATUS)
    s.update(
        id=status_id,
        state=state,
        created_at=_z(at),
        updated_at=_z(at),
        deployment_url=f"https://api.github.com/repos/octocat/example/deployments/{dep_id}",
    )
    return s


_OCTOCAT: dict[str, Any] = {
    "login": "octocat",
    "id": 1,
    "node_id": "MDQ6VXNlcjE=",
    "avatar_url": "https://github.com/images/error/octocat_happy.gif",
    "gravatar_id": "",
    "url": "https://api.github.com/users/octocat",
    "html_url": "https://github.com/octocat",
    "type": "User",
    "site_admin": False,
}


def _user(login: str, user_type: str = "User") -> dict:
    """The documented ``octocat`` user object with another login (and type, for a bot)."""
    return {
        **_OCTOCAT,
        "login": login,
        "url": f"https://api.github.com/users/{login}",
        "html_url": f"https://github.com/{login}",
        "type": user_type,
    }


# "Get a pull request", example response, REST API 2022-11-28 (only this endpoint, not the listing,
# carries `additions`, `deletions`, `commits`, `changed_files`):
# https://docs.github.com/en/rest/pulls/pulls?apiVersion=2022-11-28#get-a-pull-request
_PULL: dict[str, Any] = {
    "url": "https://api.github.com/repos/octocat/Hello-World/pulls/1347",
    "id": 1,
    "node_id": "MDExOlB1bGxSZXF1ZXN0MQ==",
    "html_url": "https://github.com/octocat/Hello-World/pull/1347",
    "diff_url": "https://github.com/octocat/Hello-World/pull/1347.diff",
    "patch_url": "https://github.com/octocat/Hello-World/pull/1347.patch",
    "issue_url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
    "number": 1347,
    "state": "open",
    "locked": True,
    "title": "Amazing new feature",
    "user": _OCTOCAT,
    "body": "Please pull these awesome changes in!",
    "labels": [],
    "milestone": None,
    "active_lock_reason": "too heated",
    "created_at": "2011-01-26T19:01:12Z",
    "updated_at": "2011-01-26T19:01:12Z",
    "closed_at": "2011-01-26T19:01:12Z",
    "merged_at": "2011-01-26T19:01:12Z",
    "merge_commit_sha": "e5bd3914e2e596debea16f433f57875b5b90bcd6",
    "assignee": _OCTOCAT,
    "assignees": [_OCTOCAT],
    "requested_reviewers": [],
    "requested_teams": [],
    "head": {
        "label": "octocat:new-topic",
        "ref": "new-topic",
        "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    },
    "base": {"label": "octocat:master", "ref": "master", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
    "author_association": "OWNER",
    "auto_merge": None,
    "draft": False,
    "merged": False,
    "mergeable": True,
    "rebaseable": True,
    "mergeable_state": "clean",
    "merged_by": _OCTOCAT,
    "comments": 10,
    "review_comments": 0,
    "maintainer_can_modify": True,
    "commits": 3,
    "additions": 100,
    "deletions": 3,
    "changed_files": 5,
}


def github_pull(
    number: int,
    repo: str,
    author: str,
    created: dt.datetime,
    merged: dt.datetime,
    merge_sha: str,
    *,
    additions: int = 100,
    deletions: int = 3,
    commits: int = 3,
) -> dict:
    """The documented pull request, merged (state closed), in ``repo``; size as documented unless given."""
    pr = copy.deepcopy(_PULL)
    pr.update(
        id=9_000 + number,
        number=number,
        url=f"https://api.github.com/repos/{repo}/pulls/{number}",
        html_url=f"https://github.com/{repo}/pull/{number}",
        state="closed",
        user=_user(author),
        created_at=_z(created),
        updated_at=_z(merged),
        closed_at=_z(merged),
        merged_at=_z(merged),
        merge_commit_sha=merge_sha,
        merged=True,
        additions=additions,
        deletions=deletions,
        commits=commits,
    )
    return pr


# "List reviews for a pull request", example response (one review), REST API 2022-11-28:
# https://docs.github.com/en/rest/pulls/reviews?apiVersion=2022-11-28#list-reviews-for-a-pull-request
_REVIEW: dict[str, Any] = {
    "id": 80,
    "node_id": "MDE3OlB1bGxSZXF1ZXN0UmV2aWV3ODA=",
    "user": _OCTOCAT,
    "body": "Here is the body for the review.",
    "state": "APPROVED",
    "html_url": "https://github.com/octocat/Hello-World/pull/12#pullrequestreview-80",
    "pull_request_url": "https://api.github.com/repos/octocat/Hello-World/pulls/12",
    "_links": {
        "html": {"href": "https://github.com/octocat/Hello-World/pull/12#pullrequestreview-80"},
        "pull_request": {"href": "https://api.github.com/repos/octocat/Hello-World/pulls/12"},
    },
    "submitted_at": "2019-11-17T17:43:43Z",
    "commit_id": "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
    "author_association": "COLLABORATOR",
}


def github_review(
    review_id: int,
    login: str,
    state: str,
    submitted: dt.datetime | None,
    *,
    user_type: str = "User",
    commit_id: str = "ecdd80bb57125d7ba9641ffaa4d7d2c19d3f3091",
) -> dict:
    """The documented review by ``login`` (a ``Bot`` type for an app); PENDING reviews have no
    ``submitted_at`` (the create-review docs: a pending review is not submitted)."""
    review = copy.deepcopy(_REVIEW)
    review.update(id=review_id, user=_user(login, user_type), state=state, commit_id=commit_id)
    if submitted is None:
        del review["submitted_at"]
    else:
        review["submitted_at"] = _z(submitted)
    return review


# "List issue events" (for an issue or pull request), example response, REST API 2022-11-28, with the
# event named as the "Issue event types" page names a draft marked ready (`ready_for_review`):
# https://docs.github.com/en/rest/issues/events?apiVersion=2022-11-28#list-issue-events
# https://docs.github.com/en/rest/using-the-rest-api/issue-event-types#ready_for_review
_ISSUE_EVENT: dict[str, Any] = {
    "id": 1,
    "node_id": "MDEwOklzc3VlRXZlbnQx",
    "url": "https://api.github.com/repos/octocat/Hello-World/issues/events/1",
    "actor": _OCTOCAT,
    "event": "closed",
    "commit_id": "6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "commit_url": "https://api.github.com/repos/octocat/Hello-World/commits/6dcb09b5b57875f334f61aebed695e2e4193db5e",
    "created_at": "2011-04-14T16:00:49Z",
    "performed_via_github_app": None,
}


def github_issue_event(event_id: int, event: str, at: dt.datetime, actor: str = "octocat") -> dict:
    item = copy.deepcopy(_ISSUE_EVENT)
    item.update(
        id=event_id, event=event, created_at=_z(at), actor=_user(actor), commit_id=None, commit_url=None
    )
    return item


# -- GitLab ------------------------------------------------------------------------------------------------

# "List project merge requests", example response: a merged merge request whose `merge_commit_sha` and
# `squash_commit_sha` are null (a fast-forward merge); the commit that landed is `sha`.
# https://docs.gitlab.com/ee/api/merge_requests.html#list-project-merge-requests
_MERGE_REQUEST: dict[str, Any] = {
    "id": 1,
    "iid": 1,
    "project_id": 3,
    "title": "test1",
    "description": "fixed login page css paddings",
    "state": "merged",
    "merged_by": {
        "id": 87854,
        "name": "Douwe Maan",
        "username": "DouweM",
        "state": "active",
        "avatar_url": "https://gitlab.example.com/uploads/-/system/user/avatar/87854/avatar.png",
        "web_url": "https://gitlab.com/DouweM",
    },
    "merged_at": "2018-09-07T11:16:17.520Z",
    "closed_by": None,
    "closed_at": None,
    "created_at": "2017-04-29T08:46:00Z",
    "updated_at": "2017-04-29T08:46:00Z",
    "target_branch": "master",
    "source_branch": "test1",
    "upvotes": 0,
    "downvotes": 0,
    "author": {
        "id": 1,
        "name": "Administrator",
        "username": "admin",
        "state": "active",
        "avatar_url": None,
        "web_url": "https://gitlab.example.com/admin",
    },
    "assignee": {
        "id": 1,
        "name": "Administrator",
        "username": "admin",
        "state": "active",
        "avatar_url": None,
        "web_url": "https://gitlab.example.com/admin",
    },
    "assignees": [
        {
            "name": "Miss Monserrate Beier",
            "username": "axel.block",
            "id": 12,
            "state": "active",
            "avatar_url": "http://www.gravatar.com/avatar/46f6f7dc858ada7be1853f7fb96e81da?s=80&d=identicon",
            "web_url": "https://gitlab.example.com/axel.block",
        }
    ],
    "source_project_id": 2,
    "target_project_id": 3,
    "labels": ["Community contribution", "Manage"],
    "work_in_progress": False,
    "milestone": {"id": 5, "iid": 1, "project_id": 3, "title": "v2.0", "state": "closed"},
    "merge_when_pipeline_succeeds": True,
    "merge_status": "can_be_merged",
    "sha": "8888888888888888888888888888888888888888",
    "merge_commit_sha": None,
    "squash_commit_sha": None,
    "user_notes_count": 1,
    "discussion_locked": None,
    "should_remove_source_branch": True,
    "force_remove_source_branch": False,
    "allow_collaboration": False,
    "allow_maintainer_to_push": False,
    "web_url": "http://gitlab.example.com/my-group/my-project/merge_requests/1",
    "references": {"short": "!1", "relative": "!1", "full": "my-group/my-project!1"},
    "time_stats": {
        "time_estimate": 0,
        "total_time_spent": 0,
        "human_time_estimate": None,
        "human_total_time_spent": None,
    },
    "squash": False,
    "task_completion_status": {"count": 0, "completed_count": 0},
    "has_conflicts": False,
    "blocking_discussions_resolved": True,
}


def gitlab_merge_request(mr_id: int, iid: int, sha: str, created: dt.datetime, merged: dt.datetime) -> dict:
    mr = copy.deepcopy(_MERGE_REQUEST)
    mr.update(
        id=mr_id,
        iid=iid,
        sha=sha,
        created_at=_z(created),
        merged_at=_z(merged, True),
        updated_at=_z(merged, True),
    )
    return mr


# "Get single merge request commits", example response:
# https://docs.gitlab.com/ee/api/merge_requests.html#get-single-merge-request-commits
def gitlab_mr_commit(sha: str, authored: dt.datetime) -> dict:
    return {
        "id": sha,
        "short_id": sha[:11],
        "title": "Replace sanitize with escape once",
        "author_name": "Example User",
        "author_email": "user@example.com",
        "authored_date": authored.isoformat(timespec="seconds") + "+00:00",
        "committer_name": "Example User",
        "committer_email": "user@example.com",
        "committed_date": authored.isoformat(timespec="seconds") + "+00:00",
        "created_at": authored.isoformat(timespec="seconds") + "+00:00",
        "message": "Replace sanitize with escape once",
    }


# "Get Configuration" of a merge request's approvals (Merge request-level MR approvals), example
# response. This version of the example has no `approved_at` (newer GitLab sends it per approver).
# https://docs.gitlab.com/ee/api/merge_request_approvals.html#get-configuration-1
def gitlab_mr_approvals(mr_id: int, iid: int, approvers: list[str], created: dt.datetime) -> dict:
    return {
        "id": mr_id,
        "iid": iid,
        "project_id": 1,
        "title": "Approvals API",
        "description": "Test",
        "state": "merged",
        "created_at": _z(created, True),
        "updated_at": _z(created, True),
        "merge_status": "cannot_be_merged",
        "approvals_required": 2,
        "approvals_left": max(0, 2 - len(approvers)),
        "approved_by": [
            {
                "user": {
                    "name": "Administrator" if login == "root" else login,
                    "username": login,
                    "id": 1 + i,
                    "state": "active",
                    "avatar_url": "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
                    "web_url": f"http://localhost:3000/{login}",
                }
            }
            for i, login in enumerate(approvers)
        ],
    }


# "Get single merge request note", example response (the list endpoint returns an array of these):
# https://docs.gitlab.com/ee/api/notes.html#get-single-merge-request-note
# System-note bodies as GitLab writes them ("approved this merge request", "marked this merge request
# as **ready**"), from GitLab's system-note service.
def gitlab_mr_note(
    note_id: int, iid: int, username: str, at: dt.datetime, body: str, system: bool = False
) -> dict:
    return {
        "id": note_id,
        "body": body,
        "attachment": None,
        "author": {
            "id": 1,
            "username": username,
            "email": "admin@example.com",
            "name": "Pip",
            "state": "active",
            "created_at": "2013-09-30T13:46:01Z",
        },
        "created_at": _z(at, True),
        "updated_at": _z(at, True),
        "system": system,
        "noteable_id": 2,
        "noteable_type": "MergeRequest",
        "project_id": 5,
        "noteable_iid": iid,
        "resolvable": False,
        "confidential": False,
        "internal": False,
    }


# "Get a specific deployment" (Retrieve a deployment), example response: no top-level `finished_at`;
# the deploy job (`deployable`) has `started_at: null` and finished *before* the deployment record was
# created (11:32:35.145 vs 11:32:35.444).
# https://docs.gitlab.com/ee/api/deployments.html#get-a-specific-deployment
_DEPLOYMENT_GL: dict[str, Any] = {
    "id": 42,
    "iid": 2,
    "ref": "main",
    "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
    "created_at": "2016-08-11T11:32:35.444Z",
    "updated_at": "2016-08-11T11:34:01.123Z",
    "status": "success",
    "user": {
        "name": "Administrator",
        "username": "root",
        "id": 1,
        "state": "active",
        "avatar_url": "http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=80&d=identicon",
        "web_url": "http://localhost:3000/root",
    },
    "environment": {"id": 9, "name": "production", "external_url": "https://about.gitlab.com"},
    "deployable": {
        "id": 664,
        "status": "success",
        "stage": "deploy",
        "name": "deploy",
        "ref": "main",
        "tag": False,
        "coverage": None,
        "created_at": "2016-08-11T11:32:24.456Z",
        "started_at": None,
        "finished_at": "2016-08-11T11:32:35.145Z",
        "project": {"ci_job_token_scope_enabled": False},
        "user": {"id": 1, "name": "Administrator", "username": "root", "state": "active"},
        "commit": {
            "id": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
            "short_id": "a91957a8",
            "title": "Merge branch 'rename-readme' into 'main'\r",
            "author_name": "Administrator",
            "author_email": "admin@example.com",
            "created_at": "2016-08-11T13:28:26.000+02:00",
            "message": "Merge branch 'rename-readme' into 'main'\r\n\r\nRename README\r\n\r\n\r\n\r\nSee merge request !2",
        },
        "pipeline": {
            "created_at": "2016-08-11T07:43:52.143Z",
            "id": 42,
            "ref": "main",
            "sha": "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
            "status": "success",
            "updated_at": "2016-08-11T07:43:52.143Z",
            "web_url": "http://gitlab.dev/root/project/pipelines/5",
        },
        "runner": None,
    },
}


def gitlab_deployment(dep_id: int, sha: str, day: dt.date) -> dict:
    """The documented deployment, moved to ``day`` (times of day kept, so the job still finishes 0.3 s
    before the deployment record is created)."""
    d = copy.deepcopy(_DEPLOYMENT_GL)

    def move(value: str) -> str:
        return day.isoformat() + value[10:]

    d.update(id=dep_id, sha=sha, created_at=move(d["created_at"]), updated_at=move(d["updated_at"]))
    job = d["deployable"]
    job.update(created_at=move(job["created_at"]), finished_at=move(job["finished_at"]))
    job["commit"]["id"] = job["pipeline"]["sha"] = sha
    return d


# -- Jenkins -----------------------------------------------------------------------------------------------

# A multibranch project's `api/json`: one job per branch, a branch's `/` encoded as `%2F` in the job
# name (the real name is the job's display name) - "Branch names get encoded (i.e. a forward slash '/'
# becomes '%2F') ... The real branch names are stored in the sub-project's display name",
# https://wiki.jenkins.io/pages/viewpage.action?pageId=73533111 (Multi-Branch Project plugin; Pipeline
# multibranch projects of the Branch API plugin name branch jobs the same way).
MULTIBRANCH = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
WORKFLOW_JOB = "org.jenkinsci.plugins.workflow.job.WorkflowJob"


def jenkins_build(number: int, result: str, start_ms: int, duration_ms: int, sha: str | None = None) -> dict:
    """A build as `allBuilds[number,result,timestamp,duration,url,building,actions[lastBuiltRevision[SHA1]]]`
    returns it: actions without the field come back as bare ``_class`` objects; the git plugin's
    BuildData exports ``lastBuiltRevision{SHA1, branch[]}``
    (https://github.com/jenkinsci/git-plugin/blob/master/src/main/java/hudson/plugins/git/util/BuildData.java,
    https://plugins.jenkins.io/git/)."""
    actions: list[dict] = [{"_class": "hudson.model.CauseAction"}]
    if sha:
        actions.append({"_class": "hudson.plugins.git.util.BuildData", "lastBuiltRevision": {"SHA1": sha}})
    actions.append({"_class": "org.jenkinsci.plugins.workflow.libs.LibrariesAction"})
    return {
        "_class": "org.jenkinsci.plugins.workflow.job.WorkflowRun",
        "actions": actions,
        "building": False,
        "duration": duration_ms,
        "number": number,
        "result": result,
        "timestamp": start_ms,
        "url": f"http://jenkins/job/x/{number}/",
    }


# -- Opsgenie ----------------------------------------------------------------------------------------------


# An incident as the Incident API's "Get Incident" returns it (https://docs.opsgenie.com/docs/incident-api#get-incident;
# field names as in Opsgenie's OAS-generated SDK, opsgenie-python-sdk docs/Incident.md), with the impacted
# service given as `serviceId` only and no `impactedServices` - a shape reported for incidents opened on a
# service, not confirmed in a vendor example (?). The connector must attribute it either way.
def opsgenie_incident(incident_id: str, service_id: str, created: dt.datetime, resolved: dt.datetime) -> dict:
    return {
        "id": incident_id,
        "serviceId": service_id,
        "tinyId": "1791",
        "message": "Incident Message",
        "description": "Incident description",
        "status": "resolved",
        "isSeen": True,
        "tags": ["tag1", "tag2"],
        "createdAt": _z(created, True),
        "updatedAt": _z(resolved, True),
        "source": "Incident API",
        "owner": "",
        "priority": "P1",
        "ownerTeam": "8418d193-2dab-4490-b331-8c02cdd196b7",
        "responders": [{"type": "team", "id": "8418d193-2dab-4490-b331-8c02cdd196b7"}],
        "extraProperties": {},
        "impactStartDate": _z(created, True),
        "impactEndDate": _z(resolved, True),
    }
