-- Kyverno policy results, one row per result and resource, with the service of the resource's
-- namespace (config/costs.yaml namespace_services, else the service of the same name). Results of a
-- namespace that names no known service (kube-system, ...) are left out, not quarantined: cluster
-- components are not services.
with source as (
    select * from raw.security__kyverno_results
),

services as (
    select distinct service from staging.stg_security__services
),

renamed as (
    select
        'kyverno:' || coalesce(s.namespace, '-') || '/' || coalesce(s.resource_kind, '-') || '/'
            || coalesce(s.resource_name, '-') || '@' || strftime(s.evaluated_at, '%Y-%m-%d') as evaluation_id,
        k.service,
        s.namespace,
        s.resource_kind,
        s.resource_name,
        s.policy,
        s.rule,
        s.result,
        s.is_exception,
        s.severity,
        s.evaluated_at,
        s._file,
        s._position
    from source as s
    left join ops.namespace_services as n on n.namespace = s.namespace
    join services as k on k.service = coalesce(n.service, s.namespace)
)

select * from renamed
