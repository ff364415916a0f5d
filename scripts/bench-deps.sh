#!/usr/bin/env bash
# Installs the load generator `make bench` drives: wrk (Debian), else locust (PyPI) in the project's venv.
# Installs only what is missing; needs root (or sudo) for wrk.
set -euo pipefail
command -v wrk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
if [ "$SUDO" != "none" ]; then
  echo "bench-deps: installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  if ($SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends wrk >/dev/null); then
    exit 0
  fi
fi
test -x .venv/bin/locust && exit 0
echo "bench-deps: wrk could not be installed; installing locust in .venv instead"
.venv/bin/python -m pip install --quiet locust
