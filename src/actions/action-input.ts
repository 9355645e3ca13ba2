import crypto from "node:crypto";
import { UserInputError } from "../errors/errors";
import { validateActionName } from "../policy/pattern";
import type { Money } from "../policy/policy-types";
import { isUuid } from "../validation/ids";
import { LONE_SURROGATE } from "../validation/storable";
import { canonicalJson } from "./decision-record";

/** What an agent submits (the policy model in README). */
export interface ActionInput {
  action: string;
  resource?: string | null;
  estimatedCost: Money;
  idempotencyKey?: string | null;
  metadata?: Record<string, unknown> | null;
  /** The run this action belongs to (src/runs); the run must be the agent's and not finished. */
  runId?: string | null;
}

export interface CheckedActionInput {
  action: string;
  resource: string | null;
  estimatedCost: Money;
  idempotencyKey: string | null;
  metadata: Record<string, unknown> | null;
  runId: string | null;
  /** SHA-256 of the canonical input (without the key): a retry must carry the same input. */
  inputHash: string;
}

/** 10^15 micro-units (a billion currency units): far above any one action, far below int64. */
export const MAX_ACTION_COST: Money = 1_000_000_000_000_000n;
const MAX_RESOURCE = 512;
const MAX_KEY = 200;
const MAX_METADATA_BYTES = 8_192;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
const unstorable = (text: string) => CONTROL.test(text) || LONE_SURROGATE.test(text);

/** Whether any key or string in a JSON value holds a control character or a lone surrogate. */
function hasUnstorableText(value: unknown): boolean {
  if (typeof value === "string") return unstorable(value);
  if (Array.isArray(value)) return value.some(hasUnstorableText);
  if (value !== null && typeof value === "object") {
    return Object.entries(value).some(([key, inner]) => unstorable(key) || hasUnstorableText(inner));
  }
  return false;
}

export function checkCost(cost: Money, field: string): Money {
  if (typeof cost !== "bigint") throw new UserInputError("A cost is a whole number of micro-units", field);
  if (cost < 0n) throw new UserInputError("A cost cannot be negative", field);
  if (cost > MAX_ACTION_COST) throw new UserInputError(`A cost cannot exceed ${MAX_ACTION_COST} micro-units`, field);
  return cost;
}

/**
 * Refuses malformed input with the field named, before anything is decided or written: a
 * decision is taken on well-formed actions only.
 */
export function checkActionInput(input: ActionInput): CheckedActionInput {
  const problem = validateActionName(input.action);
  if (problem !== null) throw new UserInputError(`Invalid action name: ${problem}`, "action");
  const resource = input.resource ?? null;
  if (resource !== null && (resource.length === 0 || resource.length > MAX_RESOURCE)) {
    throw new UserInputError(`A resource is 1 to ${MAX_RESOURCE} characters`, "resource");
  }
  if (resource !== null && unstorable(resource)) throw new UserInputError("A resource cannot contain control characters", "resource");
  const estimatedCost = checkCost(input.estimatedCost, "estimatedCost");
  const idempotencyKey = input.idempotencyKey ?? null;
  if (idempotencyKey !== null && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
    throw new UserInputError(`An idempotency key is 1 to ${MAX_KEY} printable ASCII characters`, "idempotencyKey");
  }
  const metadata = input.metadata ?? null;
  if (metadata !== null && Buffer.byteLength(JSON.stringify(metadata), "utf8") > MAX_METADATA_BYTES) {
    throw new UserInputError(`Metadata is at most ${MAX_METADATA_BYTES} bytes of JSON`, "metadata");
  }
  // PostgreSQL's jsonb refuses NUL and lone surrogates: refuse them here, naming the field.
  if (metadata !== null && hasUnstorableText(metadata)) {
    throw new UserInputError("Metadata keys and strings cannot contain control characters or unpaired surrogates", "metadata");
  }
  const runId = input.runId ?? null;
  if (runId !== null && !isUuid(runId)) throw new UserInputError("Not a valid id", "runId");
  // The run is part of the input (a retry naming another run is another action); without
  // one the hash is what it was before runs existed, so earlier keys still replay.
  const inputHash = crypto
    .createHash("sha256")
    .update(canonicalJson({ action: input.action, resource, estimatedCost, metadata, ...(runId === null ? {} : { runId }) }))
    .digest("hex");
  return { action: input.action, resource, estimatedCost, idempotencyKey, metadata, runId, inputHash };
}
