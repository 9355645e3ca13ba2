/**
 * The floor of the request pipeline in `npm run bench`: a bare Apollo Server 5 (its own
 * standalone HTTP server, one field, nothing else), in a process of its own like ours. It
 * logs the line startServerCommand waits for.
 */
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

async function main(): Promise<void> {
  const server = new ApolloServer({ typeDefs: "type Query { hello: String }", resolvers: { Query: { hello: () => "world" } } });
  const { url } = await startStandaloneServer(server, { listen: { port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? "127.0.0.1" } });
  process.stdout.write(`${JSON.stringify({ msg: "listening", port: Number(new URL(url).port) })}\n`);
  process.once("SIGTERM", () => void server.stop().then(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
