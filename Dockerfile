# mini-qserv image: one image for every role (czar, worker, loader); the command picks the role.
#
#   docker build -t mini-qserv .          # with a registry: node:20 images, npm ci, build
#
# BUILD_BASE and BASE are arguments so that a machine without a registry can build it from a
# locally imported base image and an already-built project (dist/ and node_modules/ present in
# the context: the build step is then skipped); test/docker/compose.sh does that.
ARG BUILD_BASE=node:20-bookworm
ARG BASE=node:20-bookworm-slim

FROM ${BUILD_BASE} AS build
LABEL mini-qserv.stage=build
WORKDIR /app
COPY . .
RUN if [ -f dist/src/cli/main.js ] && [ -d node_modules/better-sqlite3 ]; then \
      echo "prebuilt context: not building"; \
    else \
      npm ci && npm run build && npm prune --omit=dev; \
    fi

FROM ${BASE}
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/proto ./proto
COPY --from=build /app/bin ./bin
COPY --from=build /app/dist ./dist
ENV NODE_ENV=production
ENTRYPOINT ["node", "bin/mini-qserv.js"]
CMD ["--help"]
