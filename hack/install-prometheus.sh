#!/usr/bin/env bash
# Installs Prometheus 2.42 and promtool into the directory $1 (bin/tools)
# from Debian's `prometheus` package without installing the package: its
# .deb is downloaded and unpacked, so no service is set up or started.
# The tests check config/monitoring's rules with promtool and run them in
# a private Prometheus against a controller (Debian 12 ships 2.42, so the
# rules must load in it).
set -euo pipefail
dest=${1:?usage: install-prometheus.sh DIR}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
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
install -m 0755 root/usr/bin/promtool root/usr/bin/prometheus "$dest/"
"$dest/promtool" --version | head -1
