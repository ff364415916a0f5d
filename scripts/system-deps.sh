#!/usr/bin/env bash
# Installs the Debian packages the test suite drives: Chromium (Playwright browser tests) and
# poppler-utils (pdftotext), nginx (the reverse-proxy test), postgresql-client (pg_dump and pg_restore: the
# backup tests). Installs only what is missing; needs root (or sudo) to do so.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
{ command -v nginx || test -x /usr/sbin/nginx; } >/dev/null 2>&1 || missing+=(nginx-light)
command -v pg_dump >/dev/null 2>&1 || missing+=(postgresql-client)  # flask backup / restore on PostgreSQL
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
  echo "system-deps: missing ${missing[*]} and no root/sudo to install them" >&2; exit 1
fi
echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
