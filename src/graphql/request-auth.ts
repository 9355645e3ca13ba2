import { isAgentKey } from "../agents/agent-keys";
import type { AgentPrincipalResolver } from "../agents/agent-principal-resolver";
import type { AgentPrincipal, Principal } from "../auth/principal";
import type { PrincipalResolver } from "../auth/principal-resolver";
import { AuthenticationError, ForbiddenError, ServiceUnavailableError } from "../errors/errors";

const REASONS = {
  expired: "Access token expired",
  invalid: "Invalid access token",
  revoked: "Session has ended",
} as const;

const AGENT_REASONS = {
  expired: "API key expired",
  invalid: "Invalid API key",
  revoked: "API key revoked, or the agent is suspended",
} as const;

/**
 * The caller's identity for one request, resolved lazily and once: public fields never pay
 * for it, and a request that presents a bad token fails only where identity matters (so an
 * expired token does not block the `refresh` that replaces it). People present access
 * tokens; agents present API keys, which reach only fields marked `@auth(agent: true)`.
 */
export class RequestAuth {
  private resolution: Promise<Principal | null> | undefined;
  private agentResolution: Promise<AgentPrincipal> | undefined;

  constructor(
    private readonly bearer: string | undefined,
    private readonly resolver: PrincipalResolver,
    private readonly agents: AgentPrincipalResolver,
  ) {}

  /** The person; null when no credentials were sent; throws when they are bad or an agent's. */
  principal(): Promise<Principal | null> {
    this.resolution ??= this.resolve();
    return this.resolution;
  }

  async require(): Promise<Principal> {
    const principal = await this.principal();
    if (!principal) throw new AuthenticationError();
    return principal;
  }

  /** The agent behind an API key; throws for anyone else. */
  agent(): Promise<AgentPrincipal> {
    this.agentResolution ??= this.resolveAgent();
    return this.agentResolution;
  }

  /** Whether the request presents an agent API key (valid or not): who `@auth(orAgent)` asks for. */
  presentsAgentKey(): boolean {
    return this.bearer !== undefined && isAgentKey(this.bearer);
  }

  /** After register, login or refresh, the new session is this request's principal. */
  establish(principal: Principal): void {
    this.resolution = Promise.resolve(principal);
  }

  private async resolve(): Promise<Principal | null> {
    if (this.bearer === undefined) return null;
    if (isAgentKey(this.bearer)) throw new ForbiddenError("Agent API keys only reach agent operations");
    const result = await this.resolver.resolve(this.bearer).catch((cause: unknown) => {
      throw new ServiceUnavailableError("Cannot verify credentials right now", { cause });
    });
    if (!result.ok) throw new AuthenticationError(REASONS[result.reason]);
    return result.principal;
  }

  private async resolveAgent(): Promise<AgentPrincipal> {
    if (this.bearer === undefined) throw new AuthenticationError("An agent API key is required");
    if (!isAgentKey(this.bearer)) throw new ForbiddenError("This operation is for agents: use an agent API key");
    const result = await this.agents.resolve(this.bearer).catch((cause: unknown) => {
      throw new ServiceUnavailableError("Cannot verify credentials right now", { cause });
    });
    if (!result.ok) throw new AuthenticationError(AGENT_REASONS[result.reason]);
    return result.principal;
  }
}

/** The token from `Authorization: Bearer <token>`; undefined when absent or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : "";
}
