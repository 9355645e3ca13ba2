/** Entry for GraphQL Code Generator (codegen.yml): the schema as the server builds it. */
import { buildAppSchema } from "./build-schema";

export const schema = buildAppSchema();
export default schema;
