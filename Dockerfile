# syntax=docker/dockerfile:1
# spotcheck as a container: `docker run --rm -e SPOTNANA_WEBHOOK_SECRET IMAGE run --endpoint …`.
# Build stage: a static musl binary (rustls with aws-lc-rs; no OpenSSL), compiled with the
# C toolchain aws-lc-sys needs. Runtime stage: distroless static (CA certificates, no
# shell, no package manager), as its non-root user (65532, `nonroot`).
FROM rust:1-alpine AS build
# Alpine package versions change with every point release; the Rust image tag pins the base.
# hadolint ignore=DL3018
RUN apk add --no-cache build-base
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin spotcheck \
    && cp target/release/spotcheck /usr/local/bin/spotcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /usr/local/bin/spotcheck /usr/local/bin/spotcheck
# Reports go here: mount a directory (`-v "$PWD:/work"`) to keep them.
WORKDIR /work
USER 65532:65532
ENTRYPOINT ["spotcheck"]
