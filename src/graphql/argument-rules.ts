import { MapperKind, mapSchema } from "@graphql-tools/utils";
import {
  defaultFieldResolver,
  getNullableType,
  isInputObjectType,
  isListType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLSchema,
} from "graphql";
import { UserInputError } from "../errors/errors";
import { isUuid } from "../validation/ids";
import { isStorableDate, isStorableText, jsonProblem, MAX_JSON_DEPTH } from "../validation/storable";

interface Violation {
  field: string;
  message: string;
}

const TEXT = "Text cannot contain NUL characters or unpaired surrogates";

/**
 * Every `ID` is a UUID key (src/db/tables) except these arguments, which take the id of an
 * opaque token (`<id>.<secret>`: base64url, stored as text).
 */
export const OPAQUE_ID_ARGUMENTS: ReadonlySet<string> = new Set(["Mutation.revokeAgentApiKey.id"]);
const OPAQUE_ID = /^[A-Za-z0-9_-]{1,64}$/;

type IdKind = "uuid" | "opaque";

/** `input` is the form itself: its fields are named as the form knows them (`email`, `rules[0].pattern`). */
function argumentPath(name: string): string {
  return name === "input" ? "" : name;
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function scalarViolation(typeName: string, value: unknown, path: string, ids: IdKind): Violation | undefined {
  const field = path === "" ? "input" : path;
  if (typeof value === "string") {
    if (!isStorableText(value)) return { field, message: TEXT };
    if (typeName === "ID" && !(ids === "uuid" ? isUuid(value) : OPAQUE_ID.test(value))) return { field, message: "Not a valid id" };
    return undefined;
  }
  if (value instanceof Date) {
    return isStorableDate(value) ? undefined : { field, message: "A date must fall in the years 1 to 9999" };
  }
  if (value !== null && typeof value === "object") {
    const problem = jsonProblem(value);
    if (problem === "text") return { field, message: TEXT };
    if (problem === "depth") return { field, message: `JSON nests at most ${MAX_JSON_DEPTH} levels` };
  }
  return undefined;
}

/** The first value below `path` that a statement could not take, walking the input type. */
function violation(type: GraphQLInputType, value: unknown, path: string, ids: IdKind): Violation | undefined {
  if (value === null || value === undefined) return undefined;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return violation(nullable.ofType, value, path, ids);
    for (const [index, item] of value.entries()) {
      const found = violation(nullable.ofType, item, `${path}[${index}]`, ids);
      if (found) return found;
    }
    return undefined;
  }
  if (isInputObjectType(nullable)) {
    const record = value as Record<string, unknown>;
    for (const [name, field] of Object.entries(nullable.getFields())) {
      const found = violation(field.type, record[name], join(path, name), ids);
      if (found) return found;
    }
    return undefined;
  }
  return isScalarType(nullable) ? scalarViolation(nullable.name, value, path, ids) : undefined;
}

/** Throws a BAD_USER_INPUT naming the first argument value of `Type.field` that breaks a rule. */
export function assertStorableArguments(coordinate: string, definitions: readonly GraphQLArgument[], args: Record<string, unknown>): void {
  for (const definition of definitions) {
    const ids = OPAQUE_ID_ARGUMENTS.has(`${coordinate}.${definition.name}`) ? "opaque" : "uuid";
    const found = violation(definition.type, args[definition.name], argumentPath(definition.name), ids);
    if (found) throw new UserInputError(found.message, found.field);
  }
}

/**
 * One rule for every argument of every field, on coerced values (literals and variables
 * alike): strings hold no NUL or unpaired surrogate (PostgreSQL cannot store them), an
 * `ID` is a UUID (or, where listed above, an opaque token id), a date falls in years 1..9999,
 * JSON nests at most MAX_JSON_DEPTH levels. Applied under `@auth`, so a caller who
 * may not call a field learns nothing about its arguments.
 */
export function enforceArgumentRules(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (field) => {
      if (!field.args || Object.keys(field.args).length === 0) return field;
      const resolve = field.resolve ?? defaultFieldResolver;
      return {
        ...field,
        resolve(source, args: Record<string, unknown>, context, info) {
          const definition = info.parentType.getFields()[info.fieldName];
          if (definition) assertStorableArguments(`${info.parentType.name}.${info.fieldName}`, definition.args, args);
          return resolve(source, args, context, info);
        },
      };
    },
  });
}
