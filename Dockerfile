# ecs-emulator runtime image: a static, stripped binary on an empty base (about 11 MB).
#   docker build -t ecs-emulator .            (--build-arg JOBS=N: parallel compile jobs, default 2)
#   docker run -p 127.0.0.1:9053:53/udp -p 127.0.0.1:9053:53/tcp -p 127.0.0.1:9080:9080 ecs-emulator
# Works with the classic builder (docker.io 20.10, docker-compose v1) and BuildKit alike.
# Offline machines: scripts/docker-base-image.sh provides debian:bookworm without a registry.

FROM debian:bookworm AS build
# Marks the (untagged) build-stage image, so that tests can remove the one their build made.
LABEL ecs-emulator.stage=build
ARG JOBS=2
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      cmake ninja-build g++ binutils pkg-config libboost1.81-dev libldns-dev libsqlite3-dev \
      nlohmann-json3-dev libnghttp2-dev libssl-dev libpugixml-dev python3 python3-botocore \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# .dockerignore keeps build trees, tests, docs and VCS data out of the context.
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMU_STATIC=ON -DEMU_BUILD_TESTS=OFF \
 && cmake --build /build --target ecs-emulator -j"$JOBS" \
 && mkdir -p /rootfs/usr/local/bin /rootfs/data /rootfs/fixtures /rootfs/tmp \
 && chmod 1777 /rootfs/tmp \
 && strip -o /rootfs/usr/local/bin/ecs-emulator /build/emulator/ecs-emulator \
 && /rootfs/usr/local/bin/ecs-emulator --version

FROM scratch
COPY --from=build /rootfs /
# DNS on 53 (compose's `dns:` cannot name another port), the API on 9080, the state in the /data
# volume and fixtures (*.json) from /fixtures. Every other option: ECS_EMULATOR_* (see --help).
ENV ECS_EMULATOR_DNS_LISTEN=0.0.0.0:53 \
    ECS_EMULATOR_API_LISTEN=0.0.0.0:9080 \
    ECS_EMULATOR_STATE=/data/ecs-emulator.db \
    ECS_EMULATOR_FIXTURES=/fixtures
VOLUME ["/data"]
EXPOSE 53/udp 53/tcp 9080/tcp
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/ecs-emulator", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/ecs-emulator"]
CMD ["serve"]
