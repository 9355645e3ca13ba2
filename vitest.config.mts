import { defineConfig } from "vitest/config";

/**
 * One suite, two backends: TEST_BACKEND=embedded (default: PGlite + in-process store) or
 * TEST_BACKEND=postgres (PostgreSQL + Redis from TEST_DATABASE_URL / TEST_REDIS_URL).
 * Tests named *.shared.test.ts need the shared services themselves (several server
 * processes on one PostgreSQL and Redis, Redis-only rate limit checks) and run only there.
 * The browser tests (tests/browser, headless Chromium driving the web app) test the front
 * end, which is the same on either backend: they run in the embedded pass only.
 */
const backend = process.env.TEST_BACKEND ?? "embedded";

export default defineConfig({
  resolve: {
    // One copy of graphql for the app and the tests (otherwise: "from another module or realm").
    alias: { graphql: "graphql/index.js" },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: backend === "postgres" ? ["tests/browser/**"] : ["tests/**/*.shared.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});
