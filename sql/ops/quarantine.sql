-- Every input row that was not loaded, with where it came from and why: fix the source and re-run.
with load_errors as (
    select 'files' as source, entity, _file as file, _line as line, record_key, error as reason, record
    from raw.files__load_errors
),

services as (
    select 'files' as source, 'services' as entity, s._file, s._line, s.service, s.quarantine_reason,
        to_json(r)::varchar
    from staging.stg_files__services as s
    join raw.files__services as r using (_file, _line)
    where s.quarantine_reason is not null
),

deployments as (
    select 'files', 'deployments', s._file, s._line, s.deployment_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__deployments as s
    join raw.files__deployments as r using (_file, _line)
    where s.quarantine_reason is not null
),

changes as (
    select 'files', 'changes', s._file, s._line, s.change_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__changes as s
    join raw.files__changes as r using (_file, _line)
    where s.quarantine_reason is not null
),

incidents as (
    select 'files', 'incidents', s._file, s._line, s.incident_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__incidents as s
    join raw.files__incidents as r using (_file, _line)
    where s.quarantine_reason is not null
),

builds as (
    select 'files', 'builds', s._file, s._line, s.build_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__builds as s
    join raw.files__builds as r using (_file, _line)
    where s.quarantine_reason is not null
),

survey_responses as (
    select 'files', 'survey_responses', s._file, s._line, s.response_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__survey_responses as s
    join raw.files__survey_responses as r using (_file, _line)
    where s.quarantine_reason is not null
),

enablement_sessions as (
    select 'files', 'enablement_sessions', s._file, s._line, s.session_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__enablement_sessions as s
    join raw.files__enablement_sessions as r using (_file, _line)
    where s.quarantine_reason is not null
),

alerts as (
    select 'files', 'alerts', s._file, s._line, s.alert_key, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__alerts as s
    join raw.files__alerts as r using (_file, _line)
    where s.quarantine_reason is not null
    union all
    select source, 'alerts', _file, _line, alert_key, quarantine_reason, _record
    from staging.stg_pagerduty__alerts where quarantine_reason is not null
    union all
    select source, 'alerts', _file, _line, alert_key, quarantine_reason, _record
    from staging.stg_opsgenie__alerts where quarantine_reason is not null
),

catalog_entities as (
    select 'files', 'catalog_entities', s._file, s._line, s.name, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__catalog_entities as s
    join raw.files__catalog_entities as r using (_file, _line)
    where s.quarantine_reason is not null
),

ci_config_scans as (
    select 'files', 'ci_config_scans', s._file, s._line, s.repo, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__ci_config_scans as s
    join raw.files__ci_config_scans as r using (_file, _line)
    where s.quarantine_reason is not null
),

docs_pages as (
    select 'files', 'docs_pages', s._file, s._line, s.doc_id, s.quarantine_reason, to_json(r)::varchar
    from staging.stg_files__docs_pages as s
    join raw.files__docs_pages as r using (_file, _line)
    where s.quarantine_reason is not null
),

-- API sources (sources.yaml): the record as the API sent it.
api_sources as (
    select source, 'deployments', _file, _line, deployment_key, quarantine_reason, _record
    from staging.stg_github__deployments where quarantine_reason is not null
    union all
    select source, 'changes', _file, _line, change_key, quarantine_reason, _record
    from staging.stg_github__changes where quarantine_reason is not null
    union all
    select source, 'builds', _file, _line, build_key, quarantine_reason, _record
    from staging.stg_github__builds where quarantine_reason is not null
    union all
    select source, 'incidents', _file, _line, incident_key, quarantine_reason, _record
    from staging.stg_pagerduty__incidents where quarantine_reason is not null
    union all
    select source, 'deployments', _file, _line, deployment_key, quarantine_reason, _record
    from staging.stg_gitlab__deployments where quarantine_reason is not null
    union all
    select source, 'changes', _file, _line, change_key, quarantine_reason, _record
    from staging.stg_gitlab__changes where quarantine_reason is not null
    union all
    select source, 'builds', _file, _line, build_key, quarantine_reason, _record
    from staging.stg_gitlab__builds where quarantine_reason is not null
    union all
    select source, 'builds', _file, _line, build_key, quarantine_reason, _record
    from staging.stg_jenkins__builds where quarantine_reason is not null
    union all
    select source, 'deployments', _file, _line, deployment_key, quarantine_reason, _record
    from staging.stg_jenkins__deployments where quarantine_reason is not null
    union all
    select source, 'incidents', _file, _line, incident_key, quarantine_reason, _record
    from staging.stg_opsgenie__incidents where quarantine_reason is not null
    union all
    -- a database (sources.yaml sql): the row's canonical columns as read
    select source, 'incidents', _file, _line, incident_key, quarantine_reason, _record
    from staging.stg_sql__incidents where quarantine_reason is not null
    union all
    select source, 'deployments', _file, _line, deployment_key, quarantine_reason, _record
    from staging.stg_sql__deployments where quarantine_reason is not null
    union all
    select source, 'tickets', _file, _line, ticket_key, quarantine_reason, _record
    from staging.stg_sql__tickets where quarantine_reason is not null
    union all
    select source, 'reviews', _file, _line, review_key, quarantine_reason, _record
    from staging.stg_sql__reviews where quarantine_reason is not null
    union all
    -- service desks over REST (Jira issues, ServiceNow records): the record as the API sent it
    select source, 'tickets', _file, _line, ticket_key, quarantine_reason, _record
    from staging.stg_jira__tickets where quarantine_reason is not null
    union all
    select source, 'reviews', _file, _line, review_key, quarantine_reason, _record
    from staging.stg_jira__reviews where quarantine_reason is not null
    union all
    select source, 'tickets', _file, _line, ticket_key, quarantine_reason, _record
    from staging.stg_servicenow__tickets where quarantine_reason is not null
    union all
    select source, 'incidents', _file, _line, incident_key, quarantine_reason, _record
    from staging.stg_servicenow__incidents where quarantine_reason is not null
),

-- Platform adoption API sources (catalog snapshots, repository scans, documentation).
platform_sources as (
    select 'backstage_catalog', 'catalog_entities', _file, _line, name, quarantine_reason, _record
    from staging.stg_backstage_catalog__entities where quarantine_reason is not null
    union all
    select 'github_repo_scans', 'ci_config_scans', _file, _line, repo, quarantine_reason, _record
    from staging.stg_github_repo_scans__ci_config_scans where quarantine_reason is not null
    union all
    select 'gitlab_repo_scans', 'ci_config_scans', _file, _line, repo, quarantine_reason, _record
    from staging.stg_gitlab_repo_scans__ci_config_scans where quarantine_reason is not null
    union all
    select 'github_repo_scans', 'docs_pages', _file, _line, repo, quarantine_reason, _record
    from staging.stg_github_repo_scans__docs_commits where quarantine_reason is not null
    union all
    select 'gitlab_repo_scans', 'docs_pages', _file, _line, repo, quarantine_reason, _record
    from staging.stg_gitlab_repo_scans__docs_commits where quarantine_reason is not null
    union all
    select 'confluence_pages', 'docs_pages', _file, _line, doc_id, quarantine_reason, _record
    from staging.stg_confluence_pages__pages where quarantine_reason is not null
),

final as (
    select * from load_errors
    union all select * from services
    union all select * from deployments
    union all select * from changes
    union all select * from incidents
    union all select * from builds
    union all select * from survey_responses
    union all select * from enablement_sessions
    union all select * from alerts
    union all select * from api_sources
    union all select * from catalog_entities
    union all select * from ci_config_scans
    union all select * from docs_pages
    union all select * from platform_sources
    -- Cost and utilization rows set aside (FOCUS exports, Cost Explorer), so one table answers
    -- "what was not counted, and why".
    union all select * from marts.cost_quarantine
    union all select * from marts.security_quarantine
    union all select * from marts.slo_quarantine
)

select * from final order by source, entity, file, line
