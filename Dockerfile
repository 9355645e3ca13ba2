# syntax=docker/dockerfile:1
# The server image: `docker build -t agent-identity .` (or `docker compose up --build`).
ARG NODE_VERSION=20

# Build with every dependency: TypeScript and whatever else `npm run build` compiles into dist/.
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Run with production dependencies only, as an unprivileged user.
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production \
    PORT=4000 \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/agent-identity
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# Migrations run at start, from drizzle/ beside package.json.
COPY drizzle ./drizzle
RUN mkdir -p /var/lib/agent-identity && chown node:node /var/lib/agent-identity
USER node
VOLUME ["/var/lib/agent-identity"]
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# What `npm start` runs once built; run directly so SIGTERM reaches the server (PID 1).
CMD ["node", "--max-semi-space-size=64", "dist/src/main.js"]
