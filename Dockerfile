# syntax=docker/dockerfile:1
# Exosphere state manager. Build from the repository root:
#   docker build -t exosphere/state-manager .
# Run (SQLite in a volume):   docker run -p 8000:8000 -v exo-data:/data -e STATE_MANAGER_SECRET=... -e SECRETS_ENCRYPTION_KEY=... exosphere/state-manager
# Run (PostgreSQL replicas):  add -e DATABASE_URL=postgres://user:pass@host:5432/exosphere   (see docs/deploy.md)
# Run (MongoDB replicas):     add -e MONGO_URI=mongodb+srv://... -e MONGO_DATABASE_NAME=exosphere

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install everything (better-sqlite3 compiles if no prebuilt binary fits), compile, prune
FROM ${NODE_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# The whole workspace: npm ci needs every workspace's package.json named in the lock file.
COPY . .
RUN npm ci --no-audit --no-fund
RUN npm run build
# Dependencies npm could not hoist live in the package's own node_modules: make sure that folder
# exists for the COPY below. The MongoDB test server (an optional dependency of the workspace,
# for its tests) stays out of the image.
RUN npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@jongodb \
 && mkdir -p packages/state-manager/node_modules

# ---- runtime: compiled server, production node_modules, migrations; no compilers, no sources
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app
# Application files stay owned by root (read-only for the server); only /data is writable.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages/state-manager/package.json ./packages/state-manager/package.json
COPY --from=build /app/packages/state-manager/node_modules ./packages/state-manager/node_modules
COPY --from=build /app/packages/state-manager/dist ./packages/state-manager/dist
COPY --from=build /app/packages/state-manager/migrations ./packages/state-manager/migrations
# The dashboard's static build, served at / (DASHBOARD_DIR defaults to this place).
COPY --from=build /app/packages/dashboard/dist ./packages/dashboard/dist
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8000
# Liveness only (no database round trip); orchestrators should use /ready for readiness.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node as PID 1 receives SIGTERM directly: the server drains in-flight requests and exits.
CMD ["node", "packages/state-manager/dist/main.js"]
