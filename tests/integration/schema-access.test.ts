import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { getDirective, printSchemaWithDirectives } from "@graphql-tools/utils";
import { buildSchema } from "graphql";
import { describe, expect, it } from "vitest";
import { DIRECTIVES } from "../../src/schema/directives";
import { assertEveryRootFieldDeclaresAccess } from "../../src/graphql/auth-enforcement";
import { buildAppSchema } from "../../src/graphql/build-schema";
import { PROJECT_ROOT } from "../../src/paths";

describe("access rules in the schema", () => {
  const schema = buildAppSchema();

  it("every root field declares @auth or @public", () => {
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      for (const field of Object.values(root?.getFields() ?? {})) {
        const declared = getDirective(schema, field, "auth")?.length || getDirective(schema, field, "public")?.length;
        expect(declared, `${root?.name}.${field.name}`).toBeTruthy();
      }
    }
  });

  it("refuses to build a schema with a root field that declares neither", () => {
    const sdl = `${DIRECTIVES.map((directive) => `directive @${directive.name} on FIELD_DEFINITION`).join("\n")}
      type Query { open: String @public  forgotten: String }`;
    expect(() => assertEveryRootFieldDeclaresAccess(buildSchema(sdl))).toThrow(/Query\.forgotten/);
  });

  it("shows the rules in the SDL, and the committed schema.graphql is the current one", () => {
    const printed = printSchemaWithDirectives(schema);
    expect(printed).toMatch(/logout: Boolean! @auth\(requires: USER, allowRestricted: true\)/);
    expect(printed).toMatch(/unlockUser\(userId: ID!\): Boolean! @auth\(permission: "users:write"\)/);
    expect(printed).toMatch(/email: String! @auth\(permission: "users:read", allowSelf: true\)/);
    const committed = fs.readFileSync(path.join(PROJECT_ROOT, "schema.graphql"), "utf8");
    const types = (sdl: string) => [...sdl.matchAll(/^(type|input|enum|union|scalar|directive) @?(\w+)/gm)].map((m) => m[2]).sort();
    expect(types(committed)).toEqual(types(printed));
  });
});
