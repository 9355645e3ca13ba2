import { expect } from "vitest";
import { UserInputError } from "../../src/errors/errors";
import type { GraphQLResponse, RequestOptions } from "./graphql-client";

/** Request options carrying someone's access token. */
export const as = (credentials: { accessToken: string }): RequestOptions => ({ token: credentials.accessToken });

/** Asserts the first error's code (and field), and returns its message for further checks. */
export function expectRefused(response: GraphQLResponse<unknown>, code: string, field?: string): string {
  expect(response.errors?.[0]?.extensions, JSON.stringify(response.errors)).toMatchObject(field ? { code, field } : { code });
  return response.errors?.[0]?.message ?? "";
}

/** The field a service call refused with BAD_USER_INPUT; undefined when it did not throw. */
export function refusedField(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof UserInputError) return error.field;
    throw error;
  }
  return undefined;
}
