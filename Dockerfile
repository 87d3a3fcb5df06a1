# syntax=docker/dockerfile:1
# The image of each service (and of the ops console: SERVICE=console), and of the local tools
# docker-compose runs. One file for all four
# services, chosen with a build argument, since they build the same way:
#   docker build --build-arg SERVICE=sync -t syncstack-sync .
#   docker build --target tools -t syncstack-tools .
# The versions follow .node-version and package.json's packageManager (a test checks).
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-bookworm-slim AS workspace
ARG PNPM_VERSION=10.34.9
RUN npm install --global --no-audit --no-fund "pnpm@${PNPM_VERSION}"
ENV npm_config_manage_package_manager_versions=false CI=true
WORKDIR /src
# Dependencies first, from the lockfile alone, so a source change reuses this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
COPY patches ./patches
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile

# One service compiled and deployed alone: its dist/ and production dependencies only.
FROM workspace AS build
ARG SERVICE
RUN node --conditions=source tools/deploy/src/package-cli.ts "${SERVICE}" /out

# The local stack's tools (storage emulator, provisioning, scheduler), run from source.
FROM node:${NODE_VERSION}-bookworm-slim AS tools
ENV METADATA_SERVER_DETECTION=none
COPY --from=workspace --chown=node:node /src /src
WORKDIR /src
USER node
ENTRYPOINT ["node", "--conditions=source"]

# The service: distroless Node 24, non-root, no shell, no package manager, no dev dependencies.
# Node is PID 1 and the service drains on SIGTERM; Cloud Run sets PORT. A container listens on
# every interface (HOST); outside one a service binds to loopback by default.
FROM gcr.io/distroless/nodejs24-debian12:nonroot AS service
# The service's V8 options from the registry (serviceNodeOptions), passed by the build.
ARG NODE_OPTIONS=""
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 NODE_OPTIONS=${NODE_OPTIONS}
WORKDIR /app
COPY --from=build --chown=nonroot:nonroot /out /app
USER nonroot
EXPOSE 8080
CMD ["dist/main.js"]
