# sendbench server image: build on Debian 12, run as an unprivileged user.
# test_compose checks that the build stage installs every library package
# scripts/deps.sh builds with, and the run stage the package of every
# library bin/sendbench links (readelf NEEDED); no image is built here.
FROM debian:12-slim AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      build-essential pkg-config libevent-dev libjansson-dev libgsl-dev libpq-dev \
      libcsv-dev libssl-dev libsodium-dev libxlsxwriter-dev libzip-dev libexpat1-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts ./scripts
COPY include ./include
COPY server ./server
COPY forecasts ./forecasts
COPY sql ./sql
COPY docs/openapi.json ./docs/openapi.json
COPY tests/unit ./tests/unit
RUN make -j2 bin/sendbench

FROM debian:12-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends \
      libevent-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7 libjansson4 libgsl27 \
      libgslcblas0 libpq5 libcsv3 libssl3 libsodium23 libxlsxwriter4 libzip4 libexpat1 zlib1g \
      postgresql-client curl ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /srv/sendbench sendbench
WORKDIR /srv/sendbench
COPY --from=build /src/bin/sendbench /usr/local/bin/sendbench
COPY scripts/load_history.sh ./scripts/load_history.sh
COPY data ./data
USER sendbench
EXPOSE 8080
# Migrations first (idempotent), the shipped history on an empty database,
# then the server on all interfaces of the container.
CMD ["sh", "-c", "sendbench migrate && SENDBENCH_BIN=sendbench scripts/load_history.sh --if-empty && exec sendbench serve --bind 0.0.0.0 --port 8080"]
