import type { ErrorRequestHandler } from "express";

/** The GraphQL-shaped answer to a body that cannot be read: never a stack trace. */
export function bodyError(status: number): { errors: [{ message: string; extensions: { code: string } }] } {
  const message = status === 413 ? "Request body too large" : status < 500 ? "Malformed request body" : "Internal server error";
  return { errors: [{ message, extensions: { code: status < 500 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR" } }] };
}

/** Malformed or oversized bodies on the Express routes (body-parser's errors). */
export const bodyErrorHandler: ErrorRequestHandler = (error, _req, res, _next) => {
  const status = typeof error?.status === "number" && error.status >= 400 && error.status < 500 ? error.status : 500;
  res.status(status).json(bodyError(status));
};
