import fs from "node:fs";
import path from "node:path";

/**
 * The project root: the nearest folder above this file that holds package.json. The same
 * answer from the TypeScript sources (tests) and from the compiled `dist/` (production).
 */
function findProjectRoot(start: string): string {
  let dir = start;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${start}`);
    dir = parent;
  }
  return dir;
}

export const PROJECT_ROOT = findProjectRoot(__dirname);
export const MIGRATIONS_FOLDER = path.join(PROJECT_ROOT, "drizzle");
