import crypto from "node:crypto";
import { LoginDocument, RegisterDocument, type SessionCredentialsFragment } from "../generated/graphql";
import type { GraphQLClient, RequestOptions } from "./graphql-client";

export const PASSWORD = "correct horse battery staple";

export function uniqueEmail(label = "user"): string {
  return `${label}-${crypto.randomBytes(5).toString("hex")}@example.com`;
}

export function uniqueUsername(label = "user"): string {
  return `${label}_${crypto.randomBytes(4).toString("hex")}`;
}

/** Registers a fresh account; returns its credentials and the password used. */
export async function registerUser(
  client: GraphQLClient,
  input: { email?: string; password?: string; username?: string } = {},
  options?: RequestOptions,
): Promise<SessionCredentialsFragment & { password: string }> {
  const password = input.password ?? PASSWORD;
  const data = await client.ok(
    RegisterDocument,
    { input: { email: input.email ?? uniqueEmail(), password, username: input.username } },
    options,
  );
  return { ...data.register, password };
}

export async function loginUser(
  client: GraphQLClient,
  identifier: string,
  password = PASSWORD,
  options?: RequestOptions,
): Promise<SessionCredentialsFragment> {
  const data = await client.ok(LoginDocument, { input: { identifier, password } }, options);
  if (data.login.__typename !== "AuthPayload") throw new Error("expected a session, got an MFA challenge");
  return data.login;
}
