#!/usr/bin/env bash
# Makes sure a Docker engine answers: when `docker info` fails, starts dockerd (systemd when it
# runs, otherwise in the background with its log in $DOCKERD_LOG) and waits for it with a
# deadline. Idempotent; needs root to start the engine (uses sudo otherwise).
# Usage: scripts/start-dockerd.sh    (env: DOCKERD_LOG=/var/log/dockerd.log, DOCKERD_TIMEOUT=60)
set -euo pipefail
LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
TIMEOUT=${DOCKERD_TIMEOUT:-60}

if docker info >/dev/null 2>&1; then
  echo "start-dockerd: the Docker engine answers"
  exit 0
fi
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  echo "start-dockerd: systemctl start docker"
  $SUDO systemctl start docker
else
  command -v dockerd >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
  command -v dockerd >/dev/null 2>&1 || { echo "start-dockerd: dockerd is not installed (scripts/install-deps.sh)" >&2; exit 1; }
  echo "start-dockerd: starting dockerd (log: $LOG)"
  # shellcheck disable=SC2016  # $1 expands in the inner shell
  $SUDO sh -c 'nohup setsid dockerd >>"$1" 2>&1 </dev/null &' sh "$LOG"
fi
deadline=$(( $(date +%s) + TIMEOUT ))
until docker info >/dev/null 2>&1; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "start-dockerd: the Docker engine did not answer within ${TIMEOUT}s" >&2
    [ -r "$LOG" ] && tail -30 "$LOG" >&2
    exit 1
  fi
  sleep 0.5
done
echo "start-dockerd: the Docker engine answers ($(docker info -f '{{.ServerVersion}}' 2>/dev/null))"
