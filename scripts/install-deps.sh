#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and benchmarking ecs-emulator need.
# Idempotent; run as root on a fresh machine: `sudo scripts/install-deps.sh`.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libboost1.81-dev libldns-dev libsqlite3-dev nlohmann-json3-dev libnghttp2-dev
  libgtest-dev libgmock-dev libpugixml-dev
  # the AWS input shapes (api/aws/model) are generated from botocore's models at build time
  python3-botocore
  # tests: real clients and tools
  bind9-dnsutils sqlite3 curl python3 python3-grpcio python3-boto3 awscli
  # the /metrics test reads the output with the Prometheus text-format parser
  python3-prometheus-client
  # the browser test (tests/integration/test_browser_security.py): headless Chromium + WebDriver
  chromium chromium-driver python3-selenium
  # Docker backend, runtime image and compose tests (scripts/start-dockerd.sh, docker-base-image.sh)
  docker.io docker-compose debootstrap
  # benchmarks: the reference DNS servers and the load generator
  dnsperf nsd knot
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js for the aws-sdk-js test: the machine image ships one (nodesource); Debian's otherwise.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
