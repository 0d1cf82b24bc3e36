-- Successful production deployments and whether their artifact has signed SLSA build provenance: the
-- digest each shipped (deployment_artifacts.csv, by the deployment's id as its source gives it, or our
-- <source>:deployment:<key>) and an attestation for that digest. No digest: provenance unknown, never
-- counted as covered.
with deployments as (
    select deployment_id, service, team, finished_at from core.deployment_outcomes
),

artifacts as (
    select deployment_key, any_value(artifact_digest) as artifact_digest
    from raw.security__deployment_artifacts
    group by deployment_key
),

attested as (
    select distinct subject_digest from raw.security__attestations
),

final as (
    select
        d.deployment_id,
        d.service,
        d.team,
        d.finished_at,
        coalesce(a.artifact_digest, f.artifact_digest) as artifact_digest,
        coalesce(a.artifact_digest, f.artifact_digest) is not null as has_digest,
        coalesce(a.artifact_digest, f.artifact_digest) is not null and t.subject_digest is not null as is_attested
    from deployments as d
    left join artifacts as a on a.deployment_key = d.deployment_id
    left join artifacts as f on 'files:deployment:' || f.deployment_key = d.deployment_id
    left join attested as t on t.subject_digest = coalesce(a.artifact_digest, f.artifact_digest)
)

select * from final
