# voicecode: the gRPC service in one image (docs/deployment.md).
#
# Both stages start from the same Debian image so better-sqlite3's native addon, compiled
# in `deps`, matches the runtime's glibc and Node ABI. test/deploy/dockerfile.test.ts
# checks this file against package.json and src/config.ts.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: every dependency, compile TypeScript into dist/ ---------------------------
FROM ${NODE_IMAGE} AS build
# python3/make/g++: better-sqlite3 builds from source when no prebuilt addon is reachable.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY gen ./gen
COPY src ./src
RUN npm run build

# --- deps: production dependencies only, native addon compiled here -------------------
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# --- runtime: no compiler, no dev dependencies, not root --------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    VOICECODE_DB_PATH=/data/voicecode.db
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
# The SQLite default (and its voicecode.secret) lives on this volume; with DATABASE_URL
# it stays empty. Owned by the image's `node` user (uid 1000).
RUN mkdir -p /data && chown 1000:1000 /data
VOLUME /data
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# gRPC, API (Connect, /healthz, /readyz, /metrics), webhooks (the only public one).
EXPOSE 50051 8080 8081
STOPSIGNAL SIGTERM
# Exec form, node itself as PID 1: SIGTERM reaches the server, which drains
# (VOICECODE_SHUTDOWN_GRACE_MS). `npm start` would rebuild first; docs/operations.md.
CMD ["node", "dist/src/main.js"]
