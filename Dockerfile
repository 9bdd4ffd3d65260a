# syntax=docker/dockerfile:1
# Multi-stage build of `portal`: a release build in the Rust image, a small non-root
# runtime. SQLite is bundled and TLS is rustls, so the runtime needs no extra libraries.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
# The registry and the target directory are build caches kept between builds: a
# change to the sources recompiles the workspace crates, not every dependency.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin portal \
    && cp target/release/portal /usr/local/bin/portal

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home portal
COPY --from=build /usr/local/bin/portal /usr/local/bin/portal
USER portal
WORKDIR /data
# mimalloc (the binary's allocator) read at start: arenas committed on first use, not
# all at once, hold less resident memory per idle WebSocket (bench/README.md).
ENV PORTAL_BIND=0.0.0.0:8080 \
    PORTAL_DATABASE_URL=sqlite:///data/portal.db?mode=rwc \
    PORTAL_LOG_FORMAT=json \
    MIMALLOC_ARENA_EAGER_COMMIT=0
EXPOSE 8080
VOLUME ["/data"]
# `portal healthcheck` asks /readyz on loopback: no shell or curl in the image.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["portal", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/portal"]
CMD ["serve"]
