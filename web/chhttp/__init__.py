"""ClickHouse's HTTP interface over the embedded chDB store.

A chDB path can be opened by one process only; the process that owns it
(`statflow run`, or `statflow store`) serves enough of ClickHouse's HTTP
interface that clickhouse-connect, clickhouse-go (Grafana) and statflow's own
ClickHouseStore (`STATFLOW_CLICKHOUSE_DSN=http://…`) use it unchanged.

- `sql` — the statement as ClickHouse's lexer sees it (pure)
- `request` — the HTTP request taken apart; body and answer compression (pure)
- `policy` — roles (sql_reader, service), what each may run, session settings (pure)
- `engine` — runs one request on the process's chDB engine
- `server` — Starlette app, uvicorn, `statflow store`
"""
