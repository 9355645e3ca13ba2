/** The GraphQL endpoint: this server's own /graphql, unless the build names another (VITE_GRAPHQL_URL). */
export const GRAPHQL_URL: string = import.meta.env.VITE_GRAPHQL_URL || "/graphql";
