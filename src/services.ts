import type { AuthService } from "./auth/auth.service";
import type { EmailVerificationService } from "./auth/email-verification.service";
import type { LoginService } from "./auth/login.service";
import type { MfaService } from "./auth/mfa.service";
import type { PasswordService } from "./auth/password.service";
import type { SessionService } from "./auth/session.service";
import type { TokenStatusService } from "./auth/token-status.service";
import type { ActionService } from "./actions/action.service";
import type { AgentService } from "./agents/agent.service";
import type { AuditService } from "./audit/audit.service";
import type { Housekeeping } from "./housekeeping/housekeeping";
import type { PolicyService } from "./policies/policy.service";
import type { RoleService } from "./roles/role.service";
import type { RunService } from "./runs/run.service";
import type { UserAdminService } from "./users/user-admin.service";
import type { WebhookService } from "./webhooks/webhook.service";

/** The use-cases resolvers may call: one object, built once per app and passed in context. */
export interface Services {
  auth: AuthService;
  login: LoginService;
  passwords: PasswordService;
  verification: EmailVerificationService;
  mfa: MfaService;
  sessions: SessionService;
  users: UserAdminService;
  tokens: TokenStatusService;
  roles: RoleService;
  audit: AuditService;
  agents: AgentService;
  policies: PolicyService;
  actions: ActionService;
  runs: RunService;
  webhooks: WebhookService;
  housekeeping: Housekeeping;
}
