# syntax=docker/dockerfile:1
# xml2bq container: build with the locked dependencies, run as non-root on distroless.
# The release build command is the README's: cargo build --release --locked --bin xml2bq
#
# The schema is chosen at build time, as for a laptop build: XML2BQ_SCHEMA names a mapping
# (.toml) or a schema document (.xsd) inside the build context, relative to its root.
#   docker build --build-arg XML2BQ_SCHEMA=schemas/gpx/mapping.toml -t xml2bq-gpx .
# Without it: the repository's own setup, xsd/customer_orders.toml.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src

# 1. Dependencies only, in their own layer: rebuilt only when a Cargo.toml or Cargo.lock
#    changes. Every workspace crate is stubbed so that cargo resolves the same lock file.
COPY Cargo.toml Cargo.lock ./
COPY crates/core/Cargo.toml crates/core/
COPY crates/codegen/Cargo.toml crates/codegen/
COPY crates/gcp/Cargo.toml crates/gcp/
COPY crates/corpus/Cargo.toml crates/corpus/
RUN for c in core codegen gcp corpus; do mkdir -p "crates/$c/src" && touch "crates/$c/src/lib.rs"; done \
 && mkdir -p src crates/codegen/src/bin \
 && echo 'fn main() {}' > crates/codegen/src/bin/xml2bq-codegen.rs \
 && echo 'fn main() {}' > crates/corpus/build.rs \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > build.rs \
 && cargo build --release --locked --bin xml2bq \
 && rm -rf src build.rs crates

# 2. The tool itself, its decoders generated from the schema by build.rs.
COPY . .
ARG XML2BQ_SCHEMA=xsd/customer_orders.toml
RUN touch src/main.rs src/lib.rs build.rs \
 && XML2BQ_SCHEMA="${XML2BQ_SCHEMA}" cargo build --release --locked --bin xml2bq \
 && cp target/release/xml2bq /xml2bq \
 && /xml2bq schema --info

# Runtime: glibc, libgcc and CA certificates (for Google APIs), no shell, uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /xml2bq /usr/local/bin/xml2bq
USER 65532:65532
WORKDIR /tmp
ENTRYPOINT ["/usr/local/bin/xml2bq"]
CMD ["--help"]
