// rubric.mjs DIR DAY: runs the PQL rubric of pql.yaml in DuckDB over the CSV
// files `beacon export` wrote into DIR, as of the UTC day DAY (YYYY-MM-DD),
// twice: loading the files and scoring, then scoring the loaded tables
// again. Prints one JSON line: the times, and how many accounts agree with
// Beacon's scores.csv (score and tier).
import { DuckDBInstance } from '@duckdb/node-api';
import { exportTables } from './export.mjs';

const [dir, day] = process.argv.slice(2);
if (!dir || !/^\d{4}-\d{2}-\d{2}$/.test(day ?? '')) {
  console.error('usage: node rubric.mjs EXPORT_DIR YYYY-MM-DD');
  process.exit(2);
}
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
const file = (name) => `'${dir}/${name}'`;


// Days are UTC days since the epoch; today is DAY, and nothing after its end
// counts (as beacon score --all --at DAY).
const score = `
CREATE OR REPLACE TABLE pql AS
WITH params AS (
  SELECT (epoch_ms(DATE '${day}') // 86400000)::INTEGER AS today,
         epoch_ms(DATE '${day}') + 86400000 - 1 AS until_ms,
         (epoch_ms(date_trunc('month', DATE '${day}')) // 86400000)::INTEGER AS month_start),
links AS (SELECT m.user_id, m.account_id FROM memberships m, params p WHERE m.created_ms <= p.until_ms),
usage AS (
  SELECT e.user_id, e.type, e.name, e.properties, e.ts_ms, (e.ts_ms // 86400000)::INTEGER AS day
  FROM events e, params p
  WHERE e.user_id IS NOT NULL AND e.type IN ('track', 'page', 'screen') AND e.ts_ms <= p.until_ms),
acct_usage AS (SELECT l.account_id, u.* FROM usage u JOIN links l USING (user_id)),
firsts AS (SELECT account_id, min(day) AS first_day FROM acct_usage GROUP BY account_id),
sig AS (
  SELECT a.account_id,
    count(*) FILTER (WHERE type = 'track' AND name = 'Project Created') AS projects_created,
    count(DISTINCT day) FILTER (WHERE day BETWEEN f.first_day AND least(p.today, f.first_day + 13)) AS active_days_first_14d,
    count(*) FILTER (WHERE type = 'track' AND name = 'Invite Sent') AS teammates_invited,
    count(DISTINCT user_id) FILTER (WHERE day BETWEEN p.today - 13 AND p.today) AS active_users_14d,
    count(*) FILTER (WHERE type = 'page' AND name = 'Pricing') AS pricing_views,
    count(*) FILTER (WHERE type = 'track' AND name IN ('Support Ticket Created', 'Chat Started')) AS support_contacts,
    coalesce(max(try_cast(json_extract(properties, '$.project_count') AS DOUBLE))
      FILTER (WHERE type = 'track' AND name = 'Project Created'), 0) AS projects_used,
    coalesce(sum(try_cast(json_extract(properties, '$.calls') AS DOUBLE))
      FILTER (WHERE type = 'track' AND name = 'API Calls Metered' AND day >= p.month_start), 0) AS api_calls_this_month,
    coalesce(arg_max(name, ts_ms) FILTER (WHERE type = 'track' AND name IN ('Plan Upgraded', 'Subscription Cancelled')), '') AS subscription
  FROM acct_usage a JOIN firsts f USING (account_id), params p
  GROUP BY a.account_id),
members AS (
  SELECT l.account_id, count(*) AS members, bool_or(coalesce(u.business, false)) AS business_email
  FROM links l LEFT JOIN users u ON u.id = l.user_id GROUP BY l.account_id),
facts AS (
  SELECT m.account_id, m.members, m.business_email,
    coalesce(s.projects_created, 0) AS projects_created, coalesce(s.active_days_first_14d, 0) AS active_days_first_14d,
    coalesce(s.teammates_invited, 0) AS teammates_invited, coalesce(s.active_users_14d, 0) AS active_users_14d,
    coalesce(s.pricing_views, 0) AS pricing_views, coalesce(s.support_contacts, 0) AS support_contacts,
    coalesce(s.projects_used, 0) AS projects_used, coalesce(s.api_calls_this_month, 0) AS api_calls_this_month,
    coalesce(s.subscription, '') AS subscription,
    lower(coalesce(nullif(json_extract_string(ac.traits, '$.plan'), ''), 'free')) AS plan,
    CASE WHEN coalesce(ac.employees, 0) > 0 THEN ac.employees ELSE coalesce(try_cast(json_extract(ac.traits, '$.employees') AS INTEGER), 0) END AS employees,
    coalesce(nullif(ac.industry, ''), json_extract_string(ac.traits, '$.industry'), '') AS industry
  FROM members m LEFT JOIN sig s USING (account_id) LEFT JOIN accounts ac ON ac.id = m.account_id),
rated AS (
  SELECT *,
    CASE WHEN plan = 'free' THEN members / 3.0 ELSE 0 END AS seat_quota,
    CASE WHEN plan = 'free' THEN projects_used / 5.0 ELSE 0 END AS project_quota,
    CASE WHEN plan = 'free' THEN api_calls_this_month / 1000.0 ELSE 0 END AS api_quota,
    employees BETWEEN 51 AND 5000 AND lower(industry) IN ('software', 'financial services', 'marketing services') AS icp
  FROM facts),
points AS (
  SELECT account_id,
    (CASE WHEN projects_created >= 1 THEN 30 ELSE 0 END) + (CASE WHEN active_days_first_14d >= 5 THEN 20 ELSE 0 END)
    + (CASE WHEN plan = 'free' AND greatest(seat_quota, project_quota, api_quota) > 0.5 THEN 15 ELSE 0 END)
    + (CASE WHEN teammates_invited >= 2 THEN 25 ELSE 0 END) + (CASE WHEN active_users_14d >= 2 THEN 20 ELSE 0 END)
    + (CASE WHEN icp THEN 15 ELSE 0 END) + (CASE WHEN business_email THEN 5 ELSE 0 END)
    + (CASE WHEN pricing_views >= 1 THEN 10 ELSE 0 END) + (CASE WHEN support_contacts >= 1 THEN 10 ELSE 0 END) AS score
  FROM rated WHERE subscription <> 'Plan Upgraded')
SELECT account_id, score,
  CASE WHEN score >= 80 THEN 'hot' WHEN score >= 50 THEN 'warm' WHEN score >= 30 THEN 'watching' ELSE '' END AS tier
FROM points;
`;

const timed = async (sql) => {
  const start = process.hrtime.bigint();
  await c.run(sql);
  return Number(process.hrtime.bigint() - start) / 1e9;
};
const loadSeconds = await timed(exportTables(dir));
const firstSeconds = await timed(score);
const againSeconds = await timed(score);

// Beacon writes no row for a score of 0 without a tier; the comparison
// counts such accounts as 0.
await c.run(`CREATE OR REPLACE TABLE beacon AS SELECT * FROM read_csv(${file('scores.csv')}, header = true,
  columns = {'scorecard': 'VARCHAR', 'subject': 'VARCHAR', 'score': 'DOUBLE', 'tier': 'VARCHAR', 'rules_version': 'VARCHAR'})
  WHERE scorecard = 'pql'`);
const agree = (await c.runAndReadAll(`
  SELECT count(*) AS accounts,
    count(*) FILTER (WHERE coalesce(b.score, 0) = d.score AND coalesce(b.tier, '') = d.tier) AS equal,
    count(*) FILTER (WHERE d.tier = 'hot') AS hot, count(*) FILTER (WHERE b.tier = 'hot') AS beacon_hot
  FROM pql d LEFT JOIN beacon b ON b.subject = 'account:' || d.account_id`)).getRowObjectsJson()[0];
console.log(JSON.stringify({ load_s: loadSeconds, score_s: firstSeconds, score_again_s: againSeconds, ...agree }));
