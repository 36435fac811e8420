#!/usr/bin/env bash
# Installs what sendbench needs to build, run and test, on Debian 12.
# As root: apt-get installs whatever is missing.  Otherwise: prints the one
# command to run and fails, so that a build never half-works.
set -euo pipefail

# Build and run.
PKGS=(build-essential pkg-config libevent-dev libjansson-dev libgsl-dev libpq-dev
      libcsv-dev libssl-dev libsodium-dev libxlsxwriter-dev libzip-dev libexpat1-dev postgresql postgresql-client python3 curl ca-certificates openssl)
# Extra packages a caller asks for (tests ask for the browser, bench for wrk...).
PKGS+=(${SENDBENCH_EXTRA_PKGS:-})

missing=()
for p in "${PKGS[@]}"; do
    [ -n "$p" ] || continue
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
    echo "deps: missing packages; run: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
