"""What an ad-hoc query must not do, and what it must still do: one corpus for `kpi sql`, the
dashboard's SQL page and the library that runs both (platform_kpi.readonly_query).

``{tmp}`` in a query is a scratch folder of the test: nothing may appear in it.
"""

# (query, words the refusal must contain)
REFUSED = [
    ("select * from read_text('/etc/passwd')", "file system operations are disabled"),
    ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
    ("select * from read_csv_auto('/etc/hostname', header = false)", "file system operations are disabled"),
    ("select * from read_blob('/etc/shadow')", "file system operations are disabled"),
    ("select * from glob('/etc/*')", "file system operations are disabled"),
    ("select * from read_parquet('{tmp}/*.parquet')", "file system operations are disabled"),
    ("copy marts.kpi_monthly to '{tmp}/out.csv'", "COPY refused"),
    ("copy (select 1) to '{tmp}/out.parquet' (format parquet)", "COPY refused"),
    ("export database '{tmp}/dump'", "EXPORT refused"),
    ("attach '{tmp}/other.duckdb' as other (read_only false)", "ATTACH refused"),
    ("attach ':memory:' as scratch", "ATTACH refused"),
    ("install httpfs", "INSTALL/LOAD refused"),
    ("load json", "INSTALL/LOAD refused"),
    ("set enable_external_access = true", "SET refused"),
    ("set memory_limit = '100GB'", "SET refused"),
    ("reset threads", "SET refused"),
    ("pragma enable_profiling", "PRAGMA refused"),
    ("call pragma_version()", "CALL refused"),
    ("delete from marts.kpi_monthly", "DELETE refused"),
    ("create table marts.t as select 1", "CREATE refused"),
    ("drop table marts.kpi_monthly", "DROP refused"),
    ("select 1; select 2", "one statement at a time"),
    ("select 1; drop table marts.kpi_monthly", "one statement at a time"),
    ("select 1 /* harmless */; copy marts.kpi_monthly to '{tmp}/out.csv'", "one statement at a time"),
    ("select 1 -- the rest is a comment?\n; attach '{tmp}/x.duckdb' as x", "one statement at a time"),
    ("/* select */ delete from marts.kpi_monthly -- select", "DELETE refused"),
    ("explain analyze copy (select 1) to '{tmp}/out.csv'", "EXPLAIN of a COPY statement refused"),
]

# (query, the rows it must give): every kind of query the SQL page and `kpi sql` accept
ALLOWED = [
    ("select count(*) as n from marts.kpi_definitions where kpi_id = 'deployment_frequency'", [{"n": 1}]),
    (
        "with k as (select kpi_id from marts.kpi_definitions) select count(*) > 5 as many from k",
        [{"many": True}],
    ),
    (
        "from marts.kpi_definitions select kpi_id where kpi_id = 'change_failure_rate'",
        [{"kpi_id": "change_failure_rate"}],
    ),
    ("values (1, 'a')", [{"col0": 1, "col1": "a"}]),
    (
        "select column_name from (describe marts.kpi_definitions) where column_name = 'kpi_id'",
        [{"column_name": "kpi_id"}],
    ),
    ("select 1 as one; -- a trailing comment", [{"one": 1}]),
]
# kinds whose rows depend on the warehouse: they must run and give rows
ALLOWED_ANY_ROWS = [
    "describe marts.kpi_monthly",
    "show all tables",
    "summarize marts.kpi_definitions",
    "explain select * from marts.kpi_monthly where scope = 'all'",
]
