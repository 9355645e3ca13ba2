import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadConfig } from "../../src/config/config";
import { MIGRATIONS_FOLDER, PROJECT_ROOT } from "../../src/paths";

/**
 * There is no Docker engine where the suite runs, so this reads the deployment files and
 * holds them to what the README and the code say: the image starts the server the way the
 * README documents, healthchecks /readyz, runs as a non-root user on production
 * dependencies only; .env.example lists exactly the settings config reads; compose points
 * the server at its own PostgreSQL and Redis.
 */
const read = (file: string) => fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
const settings = Object.keys(loadConfig({})).sort();

interface Instruction {
  keyword: string;
  args: string;
}

/** Stages in order, each its FROM line's name and its instructions (continuations joined, comments dropped). */
function dockerStages(text: string): { name: string | undefined; instructions: Instruction[] }[] {
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const stages: { name: string | undefined; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [keyword = "", ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    if (instruction.keyword === "FROM") stages.push({ name: / AS (\S+)$/i.exec(instruction.args)?.[1], instructions: [] });
    else stages.at(-1)?.instructions.push(instruction);
  }
  return stages;
}

const stages = dockerStages(read("Dockerfile"));
const final = stages.at(-1)!;
const inFinal = (keyword: string) => final.instructions.filter((instruction) => instruction.keyword === keyword);
const execForm = (instruction: Instruction | undefined) => JSON.parse(instruction?.args ?? "null") as string[];

/** The start command the README's Docker section names: "The image's start command is `...`". */
const documentedStart = /The image's start command is `([^`]+)`/.exec(read("README.md"))?.[1];

describe("Dockerfile", () => {
  it("builds in a stage with every dependency, running npm ci and npm run build", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages.find((stage) => stage.name === "build");
    const runs = build?.instructions.filter((instruction) => instruction.keyword === "RUN").map((instruction) => instruction.args) ?? [];
    expect(runs.some((run) => /^npm ci\b/.test(run) && !run.includes("--omit"))).toBe(true);
    expect(runs.some((run) => run.includes("npm run build"))).toBe(true);
  });

  it("runs on production dependencies only, with all of dist/ and the migrations", () => {
    const runs = inFinal("RUN").map((instruction) => instruction.args);
    expect(runs.some((run) => /^npm ci --omit=dev\b/.test(run))).toBe(true);
    expect(runs.some((run) => /npm (ci|install)(?!.*--omit=dev)/.test(run))).toBe(false);
    const copies = inFinal("COPY").map((instruction) => instruction.args);
    expect(copies).toContain("--from=build /app/dist ./dist");
    expect(path.relative(PROJECT_ROOT, MIGRATIONS_FOLDER)).toBe("drizzle");
    expect(copies).toContain("drizzle ./drizzle");
    expect(inFinal("ENV").map((instruction) => instruction.args).join(" ")).toMatch(/NODE_ENV=production/);
  });

  it("runs as a non-root user", () => {
    const user = inFinal("USER").at(-1)?.args;
    expect(user).toBeDefined();
    expect(["root", "0"]).not.toContain(user?.split(":")[0]);
  });

  it("checks health on /readyz", () => {
    const check = inFinal("HEALTHCHECK").at(-1)?.args ?? "";
    expect(check).toMatch(/\bCMD\b/);
    expect(check).toContain("/readyz");
  });

  it("starts with the command the README documents, which is what npm start runs once built", () => {
    expect(documentedStart).toBeDefined();
    expect(execForm(inFinal("CMD").at(-1)).join(" ")).toBe(documentedStart);
    const start = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts.start;
    expect(start?.replace(/^exec /, "")).toBe(documentedStart);
  });
});

describe(".env.example", () => {
  const names = read(".env.example")
    .split("\n")
    .map((line) => /^(?:# )?([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);

  it("lists every setting config reads, once, and nothing else", () => {
    expect([...names].sort()).toEqual(settings);
  });

  it("sets nothing by itself: every setting is commented out until the operator chooses it", () => {
    expect(read(".env.example").split("\n").filter((line) => /^[A-Z]/.test(line))).toEqual([]);
  });
});

describe("README configuration table", () => {
  it("names every setting config reads", () => {
    const table = read("README.md").split("## Configuration")[1]?.split("\n## ")[0] ?? "";
    const missing = settings.filter((name) => !table.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });
});

describe("compose.yaml", () => {
  type Service = {
    build?: unknown;
    image?: string;
    environment?: Record<string, string>;
    depends_on?: Record<string, { condition?: string }>;
    healthcheck?: unknown;
    volumes?: string[];
  };
  const compose = parseYaml(read("compose.yaml")) as { services: Record<string, Service> };
  const { server, postgres, redis } = compose.services;
  /** Compose's `${NAME:-default}` as it reads with nothing set. */
  const interpolated = (text: string) => text.replace(/\$\{[A-Z_]+:-([^}]*)\}/g, "$1");

  it("builds the server from this Dockerfile and runs it with PostgreSQL and Redis, once both are healthy", () => {
    expect(server?.build).toBe(".");
    expect(postgres?.image).toMatch(/^postgres:/);
    expect(redis?.image).toMatch(/^redis:/);
    expect(server?.depends_on).toEqual({ postgres: { condition: "service_healthy" }, redis: { condition: "service_healthy" } });
    expect(postgres?.healthcheck).toBeDefined();
    expect(redis?.healthcheck).toBeDefined();
  });

  it("points DATABASE_URL at its postgres service with that service's user, password and database", () => {
    const url = new URL(interpolated(server?.environment?.DATABASE_URL ?? ""));
    const env = postgres?.environment ?? {};
    expect(url.protocol).toBe("postgres:");
    expect(url.hostname).toBe("postgres");
    expect(url.port).toBe("5432");
    expect(url.username).toBe(env.POSTGRES_USER);
    expect(decodeURIComponent(url.password)).toBe(interpolated(env.POSTGRES_PASSWORD ?? ""));
    expect(url.pathname).toBe(`/${env.POSTGRES_DB}`);
  });

  it("points REDIS_URL at its redis service", () => {
    const url = new URL(server?.environment?.REDIS_URL ?? "");
    expect(url.hostname).toBe("redis");
    expect(url.port || "6379").toBe("6379");
  });

  it("sets only settings config knows, and keeps the server's DATA_DIR on a volume", () => {
    expect(Object.keys(server?.environment ?? {}).filter((name) => !settings.includes(name))).toEqual([]);
    const dataDir = /DATA_DIR=(\S+)/.exec(inFinal("ENV").map((instruction) => instruction.args).join(" "))?.[1];
    expect(server?.volumes?.some((volume) => volume.endsWith(`:${dataDir}`))).toBe(true);
  });
});
