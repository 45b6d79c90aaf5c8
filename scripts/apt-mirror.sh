#!/usr/bin/env bash
# Prints the Debian mirror this machine installs its packages from, for SUITE (default
# bookworm): the first `deb` source whose suites include exactly SUITE, read from apt's own
# configuration (deb822 /etc/apt/sources.list.d/*.sources, then one-line sources.list and
# sources.list.d/*.list). So the base image comes from wherever the machine's packages come from
# (a corporate mirror, a local cache) and no mirror name lives in the repository.
# Usage: scripts/apt-mirror.sh [SUITE]        (env APT_ROOT: another root, for tests)
# Exits 1 with a message when no source carries SUITE.
set -euo pipefail
SUITE=${1:-bookworm}
ROOT=${APT_ROOT:-}
shopt -s nullglob

deb822() {
  # Stanzas are separated by blank lines; fields may be in any order.
  awk -v suite="$SUITE" '
    function flush() {
      if (done) return
      if (types ~ /(^| )deb( |$)/ && enabled != "no") {
        n = split(suites, s, " ")
        for (i = 1; i <= n; i++) if (s[i] == suite) { split(uris, u, " "); print u[1]; done = 1; exit }
      }
      types = ""; suites = ""; uris = ""; enabled = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    { line = $0; sub(/^[ \t]+/, "", line) }
    tolower($1) == "types:"   { sub(/^[^:]*:[ \t]*/, "", line); types = line }
    tolower($1) == "uris:"    { sub(/^[^:]*:[ \t]*/, "", line); uris = line }
    tolower($1) == "suites:"  { sub(/^[^:]*:[ \t]*/, "", line); suites = line }
    tolower($1) == "enabled:" { sub(/^[^:]*:[ \t]*/, "", line); enabled = tolower(line) }
    END { flush() }
  ' "$@"
}

one_line() {
  # deb [option=value ...] URI SUITE COMPONENT...
  awk -v suite="$SUITE" '
    /^[ \t]*#/ || NF < 3 || $1 != "deb" { next }
    {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) { print $i; exit }
    }
  ' "$@"
}

mirror=""
files=("$ROOT"/etc/apt/sources.list.d/*.sources)
[ ${#files[@]} -gt 0 ] && mirror=$(deb822 "${files[@]}")
if [ -z "$mirror" ]; then
  files=()
  [ -f "$ROOT/etc/apt/sources.list" ] && files+=("$ROOT/etc/apt/sources.list")
  files+=("$ROOT"/etc/apt/sources.list.d/*.list)
  [ ${#files[@]} -gt 0 ] && mirror=$(one_line "${files[@]}")
fi
if [ -z "$mirror" ]; then
  echo "apt-mirror: no deb source for $SUITE in ${ROOT:-}/etc/apt (set DEBIAN_MIRROR)" >&2
  exit 1
fi
echo "${mirror%/}"
