/**
 * `node dist/bench/evaluator-compare.main.js [iterations]`: runs `compareEvaluators` alone
 * (no server, no database) and prints its table.
 */
import { compareEvaluators, formatComparison } from "./evaluator-compare";

async function main(): Promise<void> {
  const iterations = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  process.stdout.write(formatComparison(await compareEvaluators({ iterations })));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
