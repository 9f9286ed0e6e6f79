# Rectus: multi-stage build. The builder compiles the release binary; the runtime image
# holds only that binary on Debian slim and runs `rectus start`.
#
#   docker build -t rectus .
#   docker run -p 8055:8055 -e DB_CLIENT=pg -e DB_CONNECTION_STRING=postgres://... rectus
#
# Not built on the project's CI machines (they have no Docker engine).

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p rectus \
 && cp target/release/rectus /usr/local/bin/rectus

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /rectus rectus
COPY --from=build /usr/local/bin/rectus /usr/local/bin/rectus
USER rectus
WORKDIR /rectus
ENV HOST=0.0.0.0 \
    PORT=8055 \
    DB_CLIENT=sqlite \
    DB_FILENAME=/rectus/data/data.db \
    LOG_STYLE=raw
RUN mkdir -p /rectus/data
VOLUME ["/rectus/data"]
EXPOSE 8055
ENTRYPOINT ["rectus"]
CMD ["start"]
