import "reflect-metadata";
import fs from "node:fs";
import path from "node:path";
import { parse, validate, type DefinitionNode, type DocumentNode } from "graphql";
import { describe, expect, it } from "vitest";
import { buildAppSchema } from "../../src/graphql/build-schema";
import { PROJECT_ROOT } from "../../src/paths";

/** Every GraphQL example in the README is valid against the schema the server serves. */
const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((match) => match[1] as string);
const schema = buildAppSchema();

describe("README examples", () => {
  it("has examples to check", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(5);
  });

  blocks.forEach((block, index) => {
    it(`block ${index + 1} is valid against the schema`, () => {
      const document = parse(block);
      for (const definition of document.definitions) {
        const single: DocumentNode = { kind: document.kind, definitions: [definition as DefinitionNode] };
        const errors = validate(schema, single).map((error) => error.message);
        expect(errors, block.slice(0, 120)).toEqual([]);
      }
    });
  });
});
