import { UserInputError } from "../errors/errors";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a value is a UUID as the database stores ids (checked before querying a uuid column). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Refuses anything that is not a UUID with a typed error naming the field. */
export function assertUuid(value: string, field: string, message = "Not a valid id"): string {
  if (!UUID.test(value)) throw new UserInputError(message, field);
  return value;
}
