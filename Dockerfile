# Build: docker build -t kenshu .   Run: see docker-compose.yml.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p kenshu-api --bin kenshu

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/kenshu --create-home kenshu
COPY --from=build /src/target/release/kenshu /usr/local/bin/kenshu
USER kenshu
WORKDIR /var/lib/kenshu
ENV KENSHU_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kenshu"]
CMD ["serve"]
