import fs from "node:fs";
import path from "node:path";

/**
 * Reads a key file, creating it first (mode 0600) when missing. The content is written whole
 * to a temporary file and hard-linked into place, so processes starting together agree on
 * one complete key.
 */
export function readOrCreateKeyFile(file: string, generate: () => string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, generate(), { mode: 0o600 });
    try {
      fs.linkSync(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    } finally {
      fs.rmSync(temporary, { force: true });
    }
  }
  return fs.readFileSync(file, "utf8");
}
