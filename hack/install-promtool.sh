#!/usr/bin/env bash
# Installs promtool, Prometheus's rule checker, into $1 (bin/tools/promtool)
# from Debian's `prometheus` package without installing the package: its
# .deb is downloaded and unpacked, so no service is set up or started.
# Debian 12 ships Prometheus 2.42; config/monitoring's rules must load in it.
set -euo pipefail
dest=${1:?usage: install-promtool.sh DEST}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
# apt-get download needs the package lists; fetch them only when the
# package is not known yet.
if ! apt-get download prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  apt-get download prometheus >/dev/null
fi
dpkg-deb -x prometheus_*.deb root
mkdir -p "$(dirname "$dest")"
install -m 0755 root/usr/bin/promtool "$dest"
"$dest" --version | head -1
