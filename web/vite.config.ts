import path from "node:path";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/**
 * The web app's build: served by the server at /app (so every asset URL starts there), into
 * the project's dist/web beside the compiled server. Hashed file names under assets/ let
 * the server cache them for good. `VITE_GRAPHQL_URL` (build time) points a separately
 * hosted build at the server; by default the app calls /graphql on its own origin.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: "/app/",
  plugins: [react()],
  // The project root holds React 15 for the GraphQL IDE: every import of React in the bundle
  // (Apollo's hooks included) must resolve to this app's own copy.
  resolve: { dedupe: ["react", "react-dom"] },
  build: {
    outDir: path.resolve(import.meta.dirname, "../dist/web"),
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1024,
  },
});
