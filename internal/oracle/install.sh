#!/usr/bin/env bash
# Installs the tools internal/oracle/run.sh needs; idempotent and quick when they are
# already there. For Debian 12, run as root:
#   bash internal/oracle/install.sh
# - sqlfluff: Debian package (1.4.5 on Debian 12), only if missing;
# - node/npm: Debian packages, only if missing (any Node.js >= 18 works);
# - antlr4ts@0.5.0-alpha.4 + antlr4ts-sql@1.1.0 into internal/oracle/node_modules,
#   exactly as pinned by internal/oracle/package-lock.json (npm ci), only if the
#   installed tree does not already match the lock file.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

apt_pkgs=()
command -v sqlfluff >/dev/null 2>&1 || apt_pkgs+=(sqlfluff)
command -v node >/dev/null 2>&1 || apt_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_pkgs+=(npm)
if [ "${#apt_pkgs[@]}" -gt 0 ]; then
  echo "internal/oracle/install.sh: apt-get install ${apt_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${apt_pkgs[@]}"
fi

# npm ci copies package-lock.json to node_modules/.package-lock.json; if that
# copy still matches the lock and the packages are there, nothing to do.
lock="$here/package-lock.json"
installed="$here/node_modules/.package-lock.json"
if [ -f "$installed" ] && [ -d "$here/node_modules/antlr4ts-sql" ] && [ -d "$here/node_modules/antlr4ts" ] &&
  (cd "$here" && node -e '
    const a = require("./package-lock.json").packages, b = require("./node_modules/.package-lock.json").packages;
    for (const k of Object.keys(a)) if (k && (!b[k] || b[k].version !== a[k].version || b[k].integrity !== a[k].integrity)) process.exit(1);
  ') 2>/dev/null; then
  echo "internal/oracle/install.sh: node_modules up to date"
else
  echo "internal/oracle/install.sh: npm ci in $here"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

sqlfluff --version
node --version
echo "antlr4ts $(cd "$here" && node -p 'require("antlr4ts/package.json").version'), antlr4ts-sql $(cd "$here" && node -p 'require("antlr4ts-sql/package.json").version')"
