import type { AuthService } from "./auth/auth.service";
import type { SessionService } from "./auth/session.service";

/** The use-cases resolvers may call: one object, built once per app and passed in context. */
export interface Services {
  auth: AuthService;
  sessions: SessionService;
}
