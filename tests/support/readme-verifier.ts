import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import vm from "node:vm";
import { PROJECT_ROOT } from "../../src/paths";

/** The README's `verifyWebhook` snippet, compiled as a receiver would paste it. */
export type Verify = (secret: string, headers: Record<string, string>, rawBody: string, toleranceSeconds?: number) => unknown;

export function readmeVerifier(): Verify {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
  const block = /```js\n(const crypto = require\("node:crypto"\);[\s\S]*?function verifyWebhook[\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error("README has no verifyWebhook snippet");
  const context = vm.createContext({ require: createRequire(path.join(PROJECT_ROOT, "package.json")), Buffer, Date, JSON, Math, Number, Error });
  return vm.runInContext(`${block}\nverifyWebhook;`, context) as Verify;
}

