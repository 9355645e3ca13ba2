/** Every drizzle table, in one namespace for `drizzle(...)` and drizzle-kit. */
export * from "./tables/users";
export * from "./tables/sessions";
export * from "./tables/audit";
export * from "./tables/account-security";
export * from "./tables/agents";
export * from "./tables/policies";
export * from "./tables/runs";
export * from "./tables/agent-actions";
export * from "./tables/spend-alerts";
export * from "./tables/webhooks";
