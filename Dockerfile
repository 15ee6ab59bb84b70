# Multi-stage image: build with the distribution's GDAL headers, run on the same Debian release.
# Not built in CI (no Docker engine on the development machines); needs an external PostGIS (DATABASE_URL).
FROM node:20-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libgdal-dev g++ make python3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
ENV npm_config_build_from_source=true npm_config_shared_gdal=true
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY services ./services
COPY app ./app
COPY scripts/build-viewer.mjs ./scripts/
RUN npx tsc -p tsconfig.json && node scripts/build-viewer.mjs && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgdal32 gdal-data proj-data fonts-dejavu-core tini && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY migrations ./migrations
COPY schemas ./schemas
COPY fixtures ./fixtures
COPY src/crs/facts-probe.mjs ./src/crs/facts-probe.mjs
ENV HOST=0.0.0.0 PORT=8080 NODE_ENV=production
EXPOSE 8080
USER node
# tini as pid 1: SIGTERM reaches Node (which drains requests, then exits) and children are reaped. The process
# survives database restarts by itself; restarting it after a crash is the orchestrator's job (README).
HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
# A larger young generation for the serving processes (node:cluster forks inherit the flag): a W5 map (GetMap 1024² at
# 50 km) makes ~22 scavenges at V8's default 16 MB semi-space, 10 at 32 MB. Measured, rationale and figures: services/maps/README.md
# *Young generation*. Same flag in scripts/serve.sh, Dockerfile and bench/ours-server.sh.
CMD ["node", "--max-semi-space-size=32", "dist/app/server.js"]
