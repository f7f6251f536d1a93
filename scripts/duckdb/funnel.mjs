// funnel.mjs DIR FROM TO: the funnel of beacon's metrics in DuckDB over the
// CSV files `beacon export` wrote into DIR: the accounts whose first user
// signed up in [FROM, TO) (UTC dates, TO excluded), and of them those
// activated (a first Project Created) and paying (a first Plan Upgraded)
// before TO, each stage counted whatever was skipped. Runs it twice on the
// loaded tables and prints one JSON line: the load time, both query times,
// and the counts.
import { DuckDBInstance } from '@duckdb/node-api';
import { exportTables } from './export.mjs';

const [dir, from, to] = process.argv.slice(2);
if (!dir || !/^\d{4}-\d{2}-\d{2}$/.test(from ?? '') || !/^\d{4}-\d{2}-\d{2}$/.test(to ?? '')) {
  console.error('usage: node funnel.mjs EXPORT_DIR FROM TO');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();

const funnel = `
WITH params AS (SELECT epoch_ms(DATE '${from}') AS from_ms, epoch_ms(DATE '${to}') AS to_ms),
firsts AS (
  SELECT m.account_id,
    min(e.ts_ms) FILTER (WHERE e.name = 'Signed Up') AS signup,
    min(e.ts_ms) FILTER (WHERE e.name = 'Project Created') AS activated,
    min(e.ts_ms) FILTER (WHERE e.name = 'Plan Upgraded') AS paid
  FROM events e JOIN memberships m USING (user_id)
  WHERE e.type = 'track' AND e.user_id IS NOT NULL AND e.name IN ('Signed Up', 'Project Created', 'Plan Upgraded')
  GROUP BY m.account_id)
SELECT count(*) AS signed,
  count(*) FILTER (WHERE activated < p.to_ms) AS activated,
  count(*) FILTER (WHERE paid < p.to_ms) AS paid
FROM firsts, params p WHERE signup >= p.from_ms AND signup < p.to_ms
`;

const secs = (t) => Number(process.hrtime.bigint() - t) / 1e9;
let t = process.hrtime.bigint();
await c.run(exportTables(dir));
const load_s = secs(t);
t = process.hrtime.bigint();
let rows = (await c.runAndReadAll(funnel)).getRowObjects();
const funnel_s = secs(t);
t = process.hrtime.bigint();
rows = (await c.runAndReadAll(funnel)).getRowObjects();
const funnel_again_s = secs(t);
const r = rows[0];
console.log(JSON.stringify({ load_s, funnel_s, funnel_again_s, signed: Number(r.signed), activated: Number(r.activated), paid: Number(r.paid) }));
