# The dxbackup scheduler (and the CLI), with pg_dump/pg_restore for the DX
# persistence layer: Debian 12's PostgreSQL 15 client, plus the PGDG
# clients of newer servers, since pg_dump must be at least the server's
# version (the scheduler picks the newest under /usr/lib/postgresql).
#
#   docker build -f images/scheduler.Dockerfile -t dxbackup/scheduler:0.1.0 .
FROM debian:12 AS build
COPY tools/install-deps.sh /src/tools/install-deps.sh
RUN /src/tools/install-deps.sh --no-helm && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build /build -j"$(nproc)" --target dxbackup-scheduler dxbackup \
 && strip /build/bin/dxbackup-scheduler /build/bin/dxbackup

FROM debian:12-slim
# Newer PostgreSQL clients from PGDG; "" for Debian's 15 only.
ARG PG_CLIENTS="16 17"
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libarchive13 libzstd1 \
      libboost-program-options1.74.0 libssl3 libpq5 libsqlite3-0 \
      libyaml-cpp0.7 libprometheus-cpp-pull1.0 libprometheus-cpp-core1.0 libcurl4 \
      libmicrohttpd12 \
      postgresql-client-15 ca-certificates \
 && if [ -n "$PG_CLIENTS" ]; then \
      apt-get install -y --no-install-recommends curl gnupg \
      && install -d /usr/share/postgresql-common/pgdg \
      && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
           https://www.postgresql.org/media/keys/ACCC4CF8.asc \
      && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
           > /etc/apt/sources.list.d/pgdg.list \
      && apt-get update \
      && for v in $PG_CLIENTS; do \
           apt-get install -y --no-install-recommends "postgresql-client-$v"; \
         done \
      && apt-get purge -y curl gnupg && apt-get autoremove -y; \
    fi \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY --from=build /build/bin/dxbackup-scheduler /build/bin/dxbackup /usr/local/bin/
RUN useradd --system --uid 10001 --home-dir /var/lib/dxbackup dxbackup \
 && install -d -o 10001 -g 10001 /var/lib/dxbackup
USER 10001:10001
VOLUME /var/lib/dxbackup
EXPOSE 7070 8443 9464
ENTRYPOINT ["/usr/local/bin/dxbackup-scheduler"]
CMD ["--data-dir=/var/lib/dxbackup", "--config=/etc/dxbackup/config/config.yaml"]
