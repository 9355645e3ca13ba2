import crypto from "node:crypto";
import { canonicalJson } from "../actions/decision-record";
import { UserInputError } from "../errors/errors";
import { isUuid } from "../validation/ids";

/** What starts a run (startRun's input; `agentId` names a person's agent, an agent omits it). */
export interface RunInput {
  agentId?: string | null;
  threadId?: string | null;
  name: string;
  instructions?: string | null;
  initialData?: unknown;
  metadata?: Record<string, unknown> | null;
}

export interface CheckedRunInput {
  threadId: string | null;
  name: string;
  instructions: string | null;
  initialData: unknown;
  metadata: Record<string, unknown> | null;
}

const MAX_NAME = 200;
const MAX_INSTRUCTIONS = 20_000;
/** Input and output data: generous for a task description, far below a request body's limit. */
const MAX_DATA_BYTES = 65_536;
const MAX_METADATA_BYTES = 8_192;

/** `value` as JSON is at most `max` bytes; `null` and absent are fine. */
function checkJsonSize(value: unknown, max: number, field: string): void {
  if (value !== undefined && value !== null && Buffer.byteLength(JSON.stringify(value), "utf8") > max) {
    throw new UserInputError(`${field} is at most ${max} bytes of JSON`, field);
  }
}

/** The agent a person names (a UUID; whether it is theirs is the service's question). */
export function checkAgentId(agentId: string | null | undefined): string | null {
  if (agentId === undefined || agentId === null) return null;
  if (!isUuid(agentId)) throw new UserInputError("Not a valid id", "agentId");
  return agentId;
}

/**
 * Refuses malformed input naming the field, before anything is read or written. Text is
 * already storable (argument-rules.ts); here are the sizes and shapes.
 */
export function checkRunInput(input: RunInput): CheckedRunInput {
  const name = input.name.trim();
  if (name.length === 0 || name.length > MAX_NAME) throw new UserInputError(`A run's name is 1 to ${MAX_NAME} characters`, "name");
  const threadId = input.threadId ?? null;
  if (threadId !== null && !/^[\x21-\x7e]{1,200}$/.test(threadId)) {
    throw new UserInputError("A thread id is 1 to 200 printable ASCII characters", "threadId");
  }
  const instructions = input.instructions ?? null;
  if (instructions !== null && instructions.length > MAX_INSTRUCTIONS) {
    throw new UserInputError(`Instructions are at most ${MAX_INSTRUCTIONS} characters`, "instructions");
  }
  checkJsonSize(input.initialData, MAX_DATA_BYTES, "initialData");
  checkJsonSize(input.metadata, MAX_METADATA_BYTES, "metadata");
  return { threadId, name, instructions, initialData: input.initialData ?? null, metadata: input.metadata ?? null };
}

/** A run's output as the agent reports it: any JSON up to the data size. */
export function checkRunOutput(output: unknown): unknown {
  checkJsonSize(output, MAX_DATA_BYTES, "output");
  return output ?? null;
}

/**
 * SHA-256 of what a run was started with (its agent and input, not its thread id): a second
 * start on the same thread with the same hash finds the first run, with another is refused.
 */
export function runInputHash(agentId: string, input: CheckedRunInput): string {
  const { name, instructions, initialData, metadata } = input;
  return crypto.createHash("sha256").update(canonicalJson({ agentId, name, instructions, initialData, metadata })).digest("hex");
}

/** Whether two reported outputs are the same JSON (jsonb does not keep key order). */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonicalJson(a ?? null) === canonicalJson(b ?? null);
}
