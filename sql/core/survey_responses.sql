-- Developer-experience survey responses, one row per response, with the respondent's team. No free
-- text and no respondent identity: the KPIs built on them (developer_satisfaction, developer_nps)
-- show no value for a group smaller than the config's survey_min_respondents.
with source as (
    select * from staging.stg_files__survey_responses where quarantine_reason is null
),

renamed as (
    select
        response_id,
        'files' as source,
        team,
        survey,
        submitted_at,
        satisfaction,
        nps::integer as nps,
        case when nps >= 9 then 'promoter' when nps >= 7 then 'passive' when nps >= 0 then 'detractor' end
            as nps_category
    from source
),

final as (
    select * from renamed
)

select * from final
