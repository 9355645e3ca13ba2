import { generateOpaqueToken, hashSecret, parseOpaqueToken, type OpaqueToken } from "../auth/opaque-tokens";

/** Agent API keys read `aik_<id>.<secret>`: the prefix tells them apart from JWTs at a glance. */
export const AGENT_KEY_PREFIX = "aik_";

export function isAgentKey(bearer: string): boolean {
  return bearer.startsWith(AGENT_KEY_PREFIX);
}

export function newAgentKey(): { token: OpaqueToken; key: string; prefix: string; secretHash: string } {
  const token = generateOpaqueToken();
  return {
    token,
    key: `${AGENT_KEY_PREFIX}${token.id}.${token.secret}`,
    prefix: `${AGENT_KEY_PREFIX}${token.id.slice(0, 8)}`,
    secretHash: hashSecret(token.secret),
  };
}

export function parseAgentKey(bearer: string): OpaqueToken | undefined {
  if (!isAgentKey(bearer)) return undefined;
  return parseOpaqueToken(bearer.slice(AGENT_KEY_PREFIX.length));
}
