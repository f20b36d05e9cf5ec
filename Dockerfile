# syntax=docker/dockerfile:1
# xml2bq container: build with the locked dependencies, run as non-root on distroless.
# The release build command is the README's: cargo build --release --locked --bin xml2bq

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src

# 1. Dependencies only, in their own layer: rebuilt only when Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src examples \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > build.rs \
 && echo 'fn main() {}' > examples/gen_orders.rs \
 && cargo build --release --locked --bin xml2bq \
 && rm -rf src build.rs examples

# 2. The tool itself (types generated from xsd/ by build.rs).
COPY build.rs ./
COPY codegen ./codegen
COPY xsd ./xsd
COPY src ./src
COPY examples ./examples
COPY tests/fixtures ./tests/fixtures
RUN touch src/main.rs src/lib.rs build.rs \
 && cargo build --release --locked --bin xml2bq \
 && cp target/release/xml2bq /xml2bq

# Runtime: glibc, libgcc and CA certificates (for Google APIs), no shell, uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /xml2bq /usr/local/bin/xml2bq
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/xml2bq"]
CMD ["--help"]
