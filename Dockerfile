# syntax=docker/dockerfile:1
#
# hb serve in a container:
#
#   docker build -t hb .
#   docker run -d --name hb -p 8080:8080 -v hb-data:/var/lib/hb \
#     -e HB_API_KEY=change-me hb
#   docker run -d … -v "$PWD/hb.toml:/etc/hb/config.toml:ro" hb    # your config file
#
# It listens on 0.0.0.0:8080 inside the container, so it needs an API key (HB_API_KEY
# or api_keys in a config file); `--insecure` is the explicit way round that. The
# database lives in the volume /var/lib/hb; the process runs as an unprivileged user.
#
# NOTE: this file is not built by the tests: the machines hb is developed on have no
# network for crates.io or a registry of base images. tests/install.rs lints it with
# hadolint and checks the properties below (multi-stage, non-root, HEALTHCHECK on
# /healthz); build it on a machine with network access.

ARG RUST_VERSION=1.89
ARG DEBIAN=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS build
WORKDIR /src
# Dependencies first, so a change to the sources does not fetch and build them again.
COPY Cargo.toml Cargo.lock ./
# (Cargo.toml names tests/lib.rs, so a stand-in is there too.)
RUN mkdir src tests && echo 'fn main() {}' > src/main.rs && touch src/lib.rs tests/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src ./src
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && install -m 0755 target/release/hb /usr/local/bin/hb

FROM debian:${DEBIAN}-slim
# curl for the health check; CA certificates for channels reached over TLS. Versions
# are Debian stable's (security updates come with a rebuild), hence no pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/hb --shell /usr/sbin/nologin hb \
    && install -d -o hb -g hb -m 0700 /var/lib/hb \
    && install -d -m 0755 /etc/hb \
    && echo '# hb config file: see README (Config as code) and hb config export.' > /etc/hb/config.toml
COPY --from=build /usr/local/bin/hb /usr/local/bin/hb
USER 10001:10001
# /etc/hb/config.toml is an empty config file: mount yours over it (read-only is fine).
ENV HB_LISTEN=0.0.0.0:8080 \
    HB_DB=/var/lib/hb/hb.db \
    HB_CONFIG=/etc/hb/config.toml
VOLUME ["/var/lib/hb"]
EXPOSE 8080
# /healthz is open without a key: 200 while the store, the engine and the outbox are alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
# hb serve stops cleanly on SIGTERM (docker stop) within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hb", "serve"]
