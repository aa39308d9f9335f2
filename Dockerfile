# syntax=docker/dockerfile:1
# One image for every Meridian service. Stage 1 installs the workspace from the lockfile and bundles each
# service (scripts/build-services.mjs: esbuild, production code + the npm packages it imports); stage 2
# is a clean Node 20 with only that bundle, run as the unprivileged `node` user.
#   docker build -t meridian:local .
#   docker run --rm meridian:local region-node        (see infra/docker/meridian-service for the names)

FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
RUN npm install -g -E pnpm@12.4.2
COPY . .
RUN pnpm install --frozen-lockfile \
 && node scripts/build-services.mjs /out/app

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    MERIDIAN_HOST=0.0.0.0 \
    SCHEMA_REGISTRY_HOST=0.0.0.0 \
    NODE_OPTIONS=--enable-source-maps
WORKDIR /app
COPY --from=build --chown=root:root /out/app /app
COPY --chmod=0755 infra/docker/meridian-service /usr/local/bin/meridian-service
USER node
ENTRYPOINT ["meridian-service"]
CMD ["help"]
