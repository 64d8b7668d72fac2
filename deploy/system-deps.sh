#!/usr/bin/env bash
# Debian packages the test suite drives for real: LibreOffice (reads our CSV and
# XLSX back), Chromium (browser tests), poppler (pdftotext), redis-server. Java 17
# and Maven are expected on the machine (Kafka's jars come from Maven Central).
# Installs only what is missing, and only when it can (root, apt-get).
set -euo pipefail
want=()
command -v soffice >/dev/null || want+=(libreoffice-calc-nogui)
command -v chromium >/dev/null || want+=(chromium)
command -v pdftotext >/dev/null || want+=(poppler-utils)
command -v redis-server >/dev/null || want+=(redis-server)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "statflow: please install: ${want[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -o DPkg::Lock::Timeout=600 -y --no-install-recommends "${want[@]}" >/dev/null 2>&1 || {
  apt-get update >/dev/null
  apt-get install -o DPkg::Lock::Timeout=600 -y --no-install-recommends "${want[@]}" >/dev/null
}
