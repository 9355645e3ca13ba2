/**
 * What a fuzzed response must never be: a 5xx, an INTERNAL_SERVER_ERROR, a hang, a body
 * that is not JSON, or a leak of internals (stack frames, module paths, SQL or its errors).
 */

const LEAKS: [RegExp, string][] = [
  [/\n\s+at |\s{4}at [\w.<>]+ \(/, "stack frame"],
  [/node_modules|\/src\/|\.ts:\d+/, "source path"],
  [/stacktrace/i, "stacktrace"],
  [/Failed query|params: /, "drizzle query"],
  [/syntax error at or near|violates|invalid input syntax|out of range for type|duplicate key|relation "/i, "SQL error"],
];

export interface Outcome {
  /** The first error's code, `OK` without errors, or `HTTP_<status>` for a body with no code. */
  code: string;
  problems: string[];
}

/** Per-request limit: a request still unanswered after this long counts as a hang. */
export const REQUEST_TIMEOUT_MS = 15_000;

export function judge(status: number, text: string): Outcome {
  const problems: string[] = [];
  if (status >= 500) problems.push(`HTTP ${status}`);
  for (const [pattern, label] of LEAKS) if (pattern.test(text)) problems.push(`leaks a ${label}`);
  let body: { errors?: { extensions?: { code?: unknown } }[] } | undefined;
  try {
    body = JSON.parse(text);
  } catch {
    problems.push("body is not JSON");
  }
  const codes = (body?.errors ?? []).map((error) => String(error.extensions?.code ?? `HTTP_${status}`));
  if (codes.includes("INTERNAL_SERVER_ERROR")) problems.push("INTERNAL_SERVER_ERROR");
  const code = codes[0] ?? (body && status < 300 ? "OK" : `HTTP_${status}`);
  return { code, problems };
}

/** Sends one request; a hang becomes a problem instead of a stuck test. */
export async function send(url: string, init: RequestInit): Promise<Outcome & { status: number; text: string }> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await response.text();
    return { status: response.status, text, ...judge(response.status, text) };
  } catch (error) {
    const name = (error as Error).name;
    return { status: 0, text: "", code: "NO_RESPONSE", problems: [name === "TimeoutError" ? "hang (no answer in time)" : `no response: ${name}`] };
  }
}

/** Counts of responses by code, printed at the end of a run. */
export class Tally {
  private readonly counts = new Map<string, number>();
  readonly failures: string[] = [];

  add(outcome: Outcome, label: string): void {
    this.counts.set(outcome.code, (this.counts.get(outcome.code) ?? 0) + 1);
    if (outcome.problems.length > 0 && this.failures.length < 20) this.failures.push(`${label}: ${outcome.problems.join(", ")}`);
  }

  get total(): number {
    return [...this.counts.values()].reduce((sum, n) => sum + n, 0);
  }

  summary(): string {
    return [...this.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code}=${n}`)
      .join(" ");
  }
}
