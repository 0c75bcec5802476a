#!/usr/bin/env bash
# Installs the system packages the tests need, from Debian's archive, when
# they are missing: PostgreSQL's server binaries (tests run private
# instances via initdb/pg_ctl), git (test Git servers use git http-backend
# and upload-pack), Node.js with npm, Chromium, and age (sealed secrets are
# checked against the CLI users recover them with).
set -euo pipefail
need=()
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v git >/dev/null || need+=(git)
# The OAuth tests run a third-party OpenID provider and a strict OAuth
# client from npm (hack/oauth-js).
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# The web UI's browser tests drive Debian's Chromium headless (chromedp
# speaks the DevTools protocol; no downloaded browser).
command -v chromium >/dev/null || need+=(chromium)
command -v age >/dev/null || need+=(age)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing test dependencies: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
