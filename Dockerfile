# syntax=docker/dockerfile:1
# The kenbaar hub, production image: the compiled server (dist/node, `npm run build`) on Node 24,
# no TypeScript tooling at run time, running as the unprivileged `node` user.
#
#   docker build -t kenbaar .
#   docker compose up            # with PostgreSQL: compose.yaml, README "Production"
#
# Not built where this file was written (those machines cannot pull base images); keep it exact.
ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: all dependencies, compile, then drop the dev dependencies -------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY schema ./schema
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies, the build, migrations and the demo covenant -----------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    KENBAAR_DATA_DIR=/var/lib/kenbaar \
    KENBAAR_KEYS_DIR=/etc/kenbaar/keys
WORKDIR /app
# Owned by root and read-only to the hub: it writes only its data directory.
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/node ./dist/node
COPY --from=build /app/dist/console ./dist/console
COPY package.json ./
COPY bin ./bin
COPY schema/migrations ./schema/migrations
COPY policies ./policies
COPY docs/kit ./docs/kit
RUN mkdir -p /var/lib/kenbaar /etc/kenbaar/keys \
 && chown node:node /var/lib/kenbaar
USER node
VOLUME ["/var/lib/kenbaar"]
EXPOSE 8787
# Liveness (/livez, no database): a database outage answers 503 on /health (readiness, for a load
# balancer) but must not make Docker restart a hub that will serve again once the database is back.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/livez`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker stop, systemd, Kubernetes): stop taking requests, sign a final checkpoint, exit 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/node/cli.js", "serve"]
