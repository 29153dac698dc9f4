# users-api: a two-stage image on the official Debian-based Node 20 image.
#   docker build -t users-api .                 (podman: podman build --format docker -t users-api .)
#   docker run -d -p 127.0.0.1:8000:8000 -v users-api-data:/app/data users-api
# The build stage has the C++ toolchain that better-sqlite3's native addon needs; the runtime stage
# gets only the bundled server (dist/: a few files, with their source maps), the production node_modules
# and the SQL migrations, and runs as `node`. The bundle loads from node_modules only what it leaves out:
# better-sqlite3's addon, and the files that packages read from their own folder (swagger-ui's static files).

FROM node:20-bookworm-slim AS build
WORKDIR /app

# node-gyp needs python3, make and a C++ compiler to compile better-sqlite3.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

# Always compile better-sqlite3 here (never fetch a prebuilt binary from the internet), against the
# headers the node image ships in /usr/local/include/node, so the build needs no download from nodejs.org.
# (prebuild-install reads build_from_source; npm 11 warns that it does not know it: harmless.)
ENV npm_config_build_from_source=true \
    npm_config_nodedir=/usr/local

COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json ./
COPY scripts/build-bundle.ts ./scripts/
COPY src ./src
# Type-check and bundle (npm run build), drop the dev dependencies and the addon's C sources and object
# files (~27 MB; only build/Release/better_sqlite3.node is loaded), then prove the addon still loads before
# it is copied on.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && cd node_modules/better-sqlite3 \
 && rm -rf deps src build/deps build/Release/obj build/Release/obj.target build/Release/.deps \
      build/Release/sqlite3.a build/Release/test_extension.node \
 && cd /app \
 && node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"


FROM node:20-bookworm-slim AS runtime
LABEL org.opencontainers.image.title="users-api" \
      org.opencontainers.image.description="Users CRUD API: Fastify 5 + SQLite" \
      org.opencontainers.image.licenses="MIT"

# HOST: listen on every interface of the container (the app's default, 127.0.0.1, is unreachable from outside).
# NODE_OPTIONS: V8's young generation stops at two 2 MB semi-spaces instead of 16: ~12 MB less RSS under load than
# with 8 MB, for a few µs of collector per request (docs/PERFORMANCE.md, "Ninth pass"); a NODE_OPTIONS given to the container
# replaces it (--max-semi-space-size=8 with SQLITE_CHECKPOINT_THREAD=true: the throughput-first settings).
# MALLOC_ARENA_MAX: glibc keeps two malloc arenas in all instead of one per thread that allocates (up to 8 per core):
# 3-6 MB less RSS at the same throughput ("Seventh pass").
# MALLOC_TRIM_THRESHOLD_: glibc gives freed memory back to the system once 128 KB are free at the top of an arena,
# instead of raising that threshold to twice the largest block it has freed (~1 MB less RSS, "Ninth pass").
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=2 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_TRIM_THRESHOLD_=131072 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=file:/app/data/users.db
WORKDIR /app

# The code stays owned by root (read-only for the app); only the data directory belongs to `node`.
# A named volume mounted here starts with this ownership; a bind mount keeps the host directory's,
# which must then be writable by uid 1000 (see docker-compose.yml).
RUN mkdir -p /app/data && chown node:node /app/data

COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY migrations ./migrations
COPY package.json ./

USER node
EXPOSE 8000
VOLUME /app/data

# Node itself does the check (the slim image has no curl): healthy only when /readyz answers 200: the
# database answers and has every migration, and the server is not shutting down (503 from SIGTERM on).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/readyz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]

# The server handles SIGTERM itself (drains, closes the database, exits 0), so node can be PID 1.
CMD ["node", "dist/server.js"]
