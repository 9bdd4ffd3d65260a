# Multi-stage build of `portal`: a release build in the Rust image, a small non-root
# runtime. SQLite is bundled and TLS is rustls, so the runtime needs no extra libraries.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin portal

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --create-home portal
COPY --from=build /src/target/release/portal /usr/local/bin/portal
USER portal
WORKDIR /data
ENV PORTAL_BIND=0.0.0.0:8080 \
    PORTAL_DATABASE_URL=sqlite:///data/portal.db?mode=rwc \
    PORTAL_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/portal"]
CMD ["serve"]
