import type { Principal } from "../auth/principal";
import type { PrincipalResolver } from "../auth/principal-resolver";
import { AuthenticationError, ServiceUnavailableError } from "../errors/errors";

const REASONS = {
  expired: "Access token expired",
  invalid: "Invalid access token",
  revoked: "Session has ended",
} as const;

/**
 * The caller's identity for one request, resolved lazily and once: public fields never pay
 * for it, and a request that presents a bad token fails only where identity matters (so an
 * expired token does not block the `refresh` that replaces it).
 */
export class RequestAuth {
  private resolution: Promise<Principal | null> | undefined;

  constructor(
    private readonly bearer: string | undefined,
    private readonly resolver: PrincipalResolver,
  ) {}

  /** The principal; null when no credentials were sent; throws when they are bad. */
  principal(): Promise<Principal | null> {
    this.resolution ??= this.resolve();
    return this.resolution;
  }

  async require(): Promise<Principal> {
    const principal = await this.principal();
    if (!principal) throw new AuthenticationError();
    return principal;
  }

  /** After register, login or refresh, the new session is this request's principal. */
  establish(principal: Principal): void {
    this.resolution = Promise.resolve(principal);
  }

  private async resolve(): Promise<Principal | null> {
    if (this.bearer === undefined) return null;
    const result = await this.resolver.resolve(this.bearer).catch((cause: unknown) => {
      throw new ServiceUnavailableError("Cannot verify credentials right now", { cause });
    });
    if (!result.ok) throw new AuthenticationError(REASONS[result.reason]);
    return result.principal;
  }
}

/** The token from `Authorization: Bearer <token>`; undefined when absent or another scheme. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : "";
}
