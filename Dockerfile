# inferdb image: one image for cluster nodes, replication nodes and sentinels (docker-compose.cluster.yml).
#   docker build -t inferdb:local .
#   docker run -p 6379:6379 -v inferdb-data:/data inferdb:local
#   docker run inferdb:local --sentinel /data/sentinel.conf
FROM node:20-bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive \
    ONNXRUNTIME_NODE_INSTALL=skip \
    NODE_ENV=production
# libtorch-dev + libopenblas0-openmp: the TORCH backend (addon built by `npm install` with g++/make);
# redis-tools: redis-cli for health checks and `redis-cli --cluster create`
RUN apt-get update \
 && apt-get install -y --no-install-recommends libtorch-dev libopenblas0-openmp redis-tools g++ make python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts ./scripts
COPY native ./native
# devDependencies too: typescript builds dist/ below
RUN npm install --include=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY ops ./ops
RUN npm run build && mkdir -p /data

VOLUME ["/data"]
EXPOSE 6379 16379 26379
HEALTHCHECK --interval=5s --timeout=3s --retries=5 CMD redis-cli -p "${INFERDB_PORT:-6379}" ping | grep -q PONG
ENTRYPOINT ["/app/bin/inferdb"]
CMD ["--bind", "0.0.0.0", "--protected-mode", "no", "--port", "6379", "--dir", "/data"]
