// export.mjs: the SQL that loads the CSV files `beacon export` wrote into
// a directory as DuckDB tables, for the comparisons of scripts/duckdb-compare
// and scripts/bench-metrics.
export function exportTables(dir) {
  const file = (name) => `'${dir}/${name}'`;
  return `
CREATE OR REPLACE TABLE events AS SELECT * FROM read_csv(${file('events.csv')}, header = true,
  columns = {'seq': 'BIGINT', 'ts_ms': 'BIGINT', 'type': 'VARCHAR', 'name': 'VARCHAR', 'user_id': 'VARCHAR',
             'anonymous_id': 'VARCHAR', 'group_id': 'VARCHAR', 'properties': 'VARCHAR'});
CREATE OR REPLACE TABLE users AS SELECT * FROM read_csv(${file('users.csv')}, header = true);
CREATE OR REPLACE TABLE accounts AS SELECT * FROM read_csv(${file('accounts.csv')}, header = true,
  columns = {'id': 'VARCHAR', 'kind': 'VARCHAR', 'name': 'VARCHAR', 'employees': 'INTEGER', 'industry': 'VARCHAR',
             'crm_id': 'VARCHAR', 'traits': 'VARCHAR'});
CREATE OR REPLACE TABLE memberships AS SELECT * FROM read_csv(${file('memberships.csv')}, header = true);
`;
}
