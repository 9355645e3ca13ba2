/**
 * How the users list, `me` and `login` grow with the number of accounts and sessions: the
 * database is seeded to each size in turn (accounts and sessions written by SQL, no bcrypt),
 * then an admin asks for a first page, a page from the middle (by its keyset cursor), a
 * substring search and the total count, and an account asks `me` and signs in, one request
 * at a time; p50 and p99 over SAMPLES requests each (10 sign-ins). The first three must stay flat
 * as the table grows (an index walk, a seek, a trigram lookup); a total count is a pass
 * over every match and grows with them, which is why it is computed only when asked for.
 */
import postgres from "postgres";
import type { ServerProcess } from "../tests/support/server-process";

const SIZES = (process.env.BENCH_SCALE_USERS ?? "10000,100000,1000000").split(",").map(Number);
const SAMPLES = Number(process.env.BENCH_SCALE_SAMPLES ?? 200);

export interface ScaleRow {
  size: number;
  name: string;
  p50: number;
  p99: number;
}

/** p50 and p99 of `samples` requests of `query`, one at a time; any error fails the bench. */
export async function latencies(server: ServerProcess, token: string, query: string, variables: unknown, samples = SAMPLES): Promise<{ p50: number; p99: number }> {
  const body = JSON.stringify({ query, variables });
  const times: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const started = performance.now();
    const response = await fetch(`${server.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body });
    const result = (await response.json()) as { errors?: unknown };
    if (!response.ok || result.errors) throw new Error(`scale query failed: ${JSON.stringify(result.errors)}`);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length / 2)]!, p99: times[Math.floor(times.length * 0.99)]! };
}

/**
 * Adds accounts up to `size` (numbered from the count already there), then vacuums and
 * analyzes the table as autovacuum would after such a load: it also flushes the trigram
 * indexes' pending lists, which the planner would otherwise price as a scan of their own.
 */
async function seedUsers(sql: postgres.Sql, size: number): Promise<void> {
  const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM users`;
  const count = row?.count ?? 0;
  if (count < size) {
    await sql`
      INSERT INTO users (email, username, password_hash, created_at, updated_at)
      SELECT substr(md5(g::text), 1, 12) || '@' || substr(md5('d' || g), 1, 6) || '.example', 'u' || substr(md5('u' || g), 1, 12),
        'not-a-password-hash', now() - make_interval(secs => g), now()
      FROM generate_series(${count}::int, ${size - 1}::int) AS g`;
  }
  await sql`VACUUM ANALYZE users`;
}

/** A cursor of the users list ordered by creation, newest first, at the middle of the table. */
async function middleCursor(sql: postgres.Sql, size: number): Promise<string> {
  const [row] = await sql<{ value: string; id: string }[]>`
    SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS value, id::text AS id
    FROM users WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(size / 2)} LIMIT 1`;
  return Buffer.from(JSON.stringify(["CREATED_AT", row!.value, row!.id])).toString("base64url");
}

/** Eight characters from the middle of the email of an account a third of the way down. */
async function searchText(sql: postgres.Sql, size: number): Promise<string> {
  const [row] = await sql<{ email: string }[]>`SELECT email FROM users ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(size / 3)} LIMIT 1`;
  return row!.email.slice(2, 10);
}

/** Sessions up to `size` (for random seeded accounts, live for a day), like the users above. */
async function seedSessions(sql: postgres.Sql, size: number): Promise<void> {
  const [row] = await sql<{ count: number }[]>`SELECT count(*)::int AS count FROM sessions`;
  const count = row?.count ?? 0;
  if (count < size) {
    await sql`
      INSERT INTO sessions (user_id, ip, user_agent, idle_expires_at, expires_at)
      SELECT u.id, '10.0.0.1', 'seeded', now() + interval '1 day', now() + interval '1 day'
      FROM (SELECT id FROM users ORDER BY created_at DESC LIMIT ${size - count}) AS u`;
  }
  await sql`VACUUM ANALYZE sessions`;
}

const ME = `query { me { id email } }`;
const LOGIN = `mutation ($input: LoginInput!) { login(input: $input) { ... on AuthPayload { accessToken } } }`;

const PAGE = `query ($first: Int, $after: String, $filter: UserFilter) { users(first: $first, after: $after, filter: $filter) { edges { node { id email } } } }`;
const COUNT = `query { users(first: 1) { totalCount } }`;

/**
 * `signIn` is an account's credentials: `me` is asked with a fresh token of its, and `login`
 * (bcrypt at the configured cost: it dominates) signs it in, as the table grows.
 */
export async function benchUserScale(
  server: ServerProcess,
  databaseUrl: string,
  adminToken: string,
  signIn: { identifier: string; password: string },
): Promise<ScaleRow[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  const rows: ScaleRow[] = [];
  try {
    for (const size of SIZES) {
      await seedUsers(sql, size);
      const measure = async (name: string, query: string, variables: unknown) => rows.push({ size, name, ...(await latencies(server, adminToken, query, variables)) });
      await measure("users: first page (20)", PAGE, { first: 20 });
      await measure("users: a page from the middle (keyset)", PAGE, { first: 20, after: await middleCursor(sql, size) });
      await measure("users: substring search", PAGE, { first: 20, filter: { search: await searchText(sql, size) } });
      await measure("users: totalCount (every account)", COUNT, {});
      await seedSessions(sql, size);
      const { login } = await server.client.ok<{ login: { accessToken: string } }, unknown>(LOGIN, { input: signIn });
      rows.push({ size, name: "me (as many sessions as users)", ...(await latencies(server, login.accessToken, ME, {})) });
      rows.push({ size, name: "login (bcrypt included)", ...(await latencies(server, adminToken, LOGIN, { input: signIn }, 10)) });
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return rows;
}

/** The table of `npm run bench`: one line per query, one column per size (of `unit`). */
export function formatScale(rows: readonly ScaleRow[], unit = "users"): string {
  const sizes = [...new Set(rows.map((row) => row.size))];
  const names = [...new Set(rows.map((row) => row.name))];
  const width = Math.max(...names.map((name) => name.length));
  const header = `  ${"p50 / p99 ms".padEnd(width)}  ${sizes.map((size) => `${size.toLocaleString("en")} ${unit}`.padStart(20)).join("")}`;
  const lines = names.map((name) => {
    const cells = sizes.map((size) => {
      const row = rows.find((entry) => entry.size === size && entry.name === name);
      return (row ? `${row.p50.toFixed(1)} / ${row.p99.toFixed(1)}` : "-").padStart(20);
    });
    return `  ${name.padEnd(width)}  ${cells.join("")}`;
  });
  return [header, ...lines].join("\n");
}
