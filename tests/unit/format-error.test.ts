import { GraphQLError, locatedError } from "graphql";
import { describe, expect, it } from "vitest";
import { ForbiddenError, UserInputError } from "../../src/errors/errors";
import { formatError, isExpectedError, scrubValues } from "../../src/graphql/format-error";

describe("scrubValues", () => {
  it("removes the value from a variable coercion message but keeps the path", () => {
    const message =
      'Variable "$input" got invalid value 12345 at "input.password"; String cannot represent a non string value: 12345';
    const scrubbed = scrubValues(message);
    expect(scrubbed).not.toContain("12345");
    expect(scrubbed).toContain('at "input.password"');
    expect(scrubbed).toContain('Variable "$input" got invalid value');
    expect(scrubbed).toContain("String cannot represent a non string value");
  });

  it("removes the value after 'cannot represent ... value:'", () => {
    expect(scrubValues("String cannot represent a non string value: 55501234")).toBe(
      "String cannot represent a non string value",
    );
    expect(scrubValues("Int cannot represent non 32-bit signed integer value: 99999999999")).not.toContain("99999999999");
  });

  it("removes values that contain ';' or a fake path, leaving nothing of them", () => {
    const inString = scrubValues(
      'Variable "$input" got invalid value "pass;word123" at "input.age"; Int cannot represent non-integer value: "pass;word123"',
    );
    expect(inString).toBe('Variable "$input" got invalid value at "input.age"; Int cannot represent non-integer value');
    const inObject = scrubValues(
      'Variable "$input" got invalid value { email: "x;y@example.com", password: "hunter2" }; Field "username" of required type "String!" was not provided.',
    );
    expect(inObject).not.toMatch(/hunter2|example\.com/);
    const fakePath = scrubValues(
      'Variable "$input" got invalid value "s3cret \\" at \\"fake\\"; x" at "input.password"; String cannot represent a non string value: "s3cret"',
    );
    expect(fakePath).not.toContain("s3cret");
  });

  it("removes a quoted string value at the root of a variable", () => {
    const message = 'Variable "$age" got invalid value "hunter2-secret"; Int cannot represent non-integer value: "hunter2-secret"';
    const scrubbed = scrubValues(message);
    expect(scrubbed).not.toContain("hunter2");
    expect(scrubbed).toContain('Variable "$age"');
  });

  it("removes an object value from a missing-field message, keeping the reason", () => {
    const message =
      'Variable "$input" got invalid value { email: "a@example.com", password: "hunter2-secret" }; Field "username" of required type "String!" was not provided.';
    const scrubbed = scrubValues(message);
    expect(scrubbed).not.toContain("hunter2");
    expect(scrubbed).not.toContain("a@example.com");
    expect(scrubbed).toContain('Field "username" of required type "String!" was not provided.');
  });

  it("removes literal values from validation messages", () => {
    const scrubbed = scrubValues('Expected value of type "Int!", found "hunter2-secret"; Int cannot represent non-integer value: "hunter2-secret"');
    expect(scrubbed).not.toContain("hunter2");
    expect(scrubbed).toContain('Expected value of type "Int!"');
  });

  it("leaves messages without values unchanged", () => {
    const message = 'Cannot query field "passwrd" on type "User".';
    expect(scrubValues(message)).toBe(message);
  });
});

describe("formatError", () => {
  it("keeps an AppError's message and extensions when graphql-js wraps it", () => {
    const original = new UserInputError("Email is not a valid address", "email");
    const wrapped = locatedError(original, undefined, ["signUp"]);
    const formatted = formatError(wrapped.toJSON(), wrapped);
    expect(formatted.message).toBe("Email is not a valid address");
    expect(formatted.extensions).toEqual({ code: "BAD_USER_INPUT", field: "email" });
    expect(formatted.path).toEqual(["signUp"]);
    expect(isExpectedError(wrapped)).toBe(true);
  });

  it("keeps an AppError passed directly", () => {
    const error = new ForbiddenError("Only admins may do that");
    const formatted = formatError(error.toJSON(), error);
    expect(formatted.message).toBe("Only admins may do that");
    expect(formatted.extensions?.code).toBe("FORBIDDEN");
  });

  it("masks an unexpected error from a resolver", () => {
    const wrapped = locatedError(new Error("SELECT * FROM users WHERE password_hash = '$2b$...'"), undefined, ["me"]);
    const formatted = formatError(wrapped.toJSON(), wrapped);
    expect(formatted.message).toBe("Internal server error");
    expect(formatted.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    expect(JSON.stringify(formatted)).not.toContain("SELECT");
    expect(formatted.path).toEqual(["me"]);
    expect(isExpectedError(wrapped)).toBe(false);
  });

  it("masks a plain Error passed directly", () => {
    const error = new Error("SELECT * FROM users");
    const formatted = formatError({ message: error.message }, error);
    expect(formatted).toEqual({ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } });
  });

  it("masks an error carrying a code that is not a request code", () => {
    const error = new GraphQLError("connection refused to 10.0.0.5", { extensions: { code: "ECONNREFUSED" } });
    const formatted = formatError(error.toJSON(), error);
    expect(formatted.message).toBe("Internal server error");
    expect(formatted.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
  });

  it("keeps request-level errors such as validation failures, with only their code", () => {
    const error = new GraphQLError('Cannot query field "passwrd" on type "User".', {
      extensions: { code: "GRAPHQL_VALIDATION_FAILED", debugInfo: "internal" },
    });
    const formatted = formatError(error.toJSON(), error);
    expect(formatted.message).toBe('Cannot query field "passwrd" on type "User".');
    expect(formatted.extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED" });
    expect(isExpectedError(error)).toBe(true);
  });

  it("scrubs values from variable coercion errors", () => {
    const error = new GraphQLError(
      'Variable "$input" got invalid value 12345 at "input.password"; String cannot represent a non string value: 12345',
      { extensions: { code: "BAD_USER_INPUT" } },
    );
    const formatted = formatError(error.toJSON(), error);
    expect(formatted.message).not.toContain("12345");
    expect(formatted.message).toContain('"input.password"');
    expect(formatted.extensions).toEqual({ code: "BAD_USER_INPUT" });
  });
});

describe("request refusals raised without a code", () => {
  const enriched = (error: GraphQLError) => ({ message: error.message, extensions: { code: "INTERNAL_SERVER_ERROR" } });

  it("gives Apollo's 4xx refusals (persisted-query hash or version) BAD_REQUEST", () => {
    const error = new GraphQLError("provided sha does not match query", { extensions: { http: { status: 400 } } });
    expect(formatError(enriched(error), error).extensions).toEqual({ code: "BAD_REQUEST" });
    expect(isExpectedError(error)).toBe(true);
  });

  it("gives graphql-js's variable error limit BAD_USER_INPUT", () => {
    const error = new GraphQLError("Too many errors processing variables, error limit reached. Execution aborted.");
    expect(formatError(enriched(error), error).extensions).toEqual({ code: "BAD_USER_INPUT" });
  });

  it("still masks an uncoded error without a 4xx status, or one wrapping a cause", () => {
    const plain = new GraphQLError("boom");
    expect(formatError(enriched(plain), plain).extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    const wrapped = new GraphQLError("boom", { originalError: new Error("db"), extensions: { http: { status: 400 } } });
    expect(formatError(enriched(wrapped), wrapped).extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    expect(isExpectedError(wrapped)).toBe(false);
  });
});
