/**
 * The package's entry point for code that embeds the server: importing it starts nothing.
 * `npm start` (src/main.ts) is the process that reads the environment and listens.
 */
import "reflect-metadata";

export { createApp, type App, type AppOverrides } from "./app";
export { ConfigError, loadConfig, type Config } from "./config/config";
