import path from "node:path";
import type { ApolloServerPlugin } from "@apollo/server";
import { renderPlaygroundPage } from "@apollographql/graphql-playground-html";
import express, { type Router } from "express";

/** Where the IDE's own assets are served from: this server, never a CDN. */
export const IDE_ASSETS_PATH = "/graphql-ide";
/**
 * The page renderer asks for `<cdnUrl>/@apollographql/graphql-playground-react/build/...`; that
 * path is answered from the installed `graphql-playground-react` build (the same IDE).
 */
const BUILD_PATH = `${IDE_ASSETS_PATH}/@apollographql/graphql-playground-react/build`;

/**
 * The GraphQL Playground page, pointed at assets this server serves from the installed
 * `graphql-playground-react` build, with the Google Fonts link removed: the IDE works with
 * no internet. Its HTTP HEADERS tab sets `Authorization: Bearer <token>`.
 */
export function renderIdePage(endpoint: string): string {
  const html = renderPlaygroundPage({
    endpoint,
    cdnUrl: IDE_ASSETS_PATH,
    faviconUrl: `${BUILD_PATH}/favicon.png`,
    title: "Agent Identity · GraphQL IDE",
    settings: {
      "request.credentials": "same-origin",
      "schema.polling.enable": false,
      "editor.reuseHeaders": true,
      "general.betaUpdates": false,
      "tracing.hideTracingResponse": true,
    },
  } as Parameters<typeof renderPlaygroundPage>[0]);
  return html.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, "");
}

/** Serves `html` (renderIdePage's page) as the landing page of the GraphQL endpoint. */
export function ideLandingPagePlugin(html: string): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html };
        },
      };
    },
  };
}

export function ideAssetsRouter(): Router {
  const build = path.dirname(require.resolve("graphql-playground-react/package.json"));
  const router = express.Router();
  router.use(
    BUILD_PATH,
    express.static(path.join(build, "build"), { index: false, maxAge: "1d", fallthrough: false }),
  );
  return router;
}
