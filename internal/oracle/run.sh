#!/usr/bin/env bash
# Independent parser oracles over the golden SQL corpus (CI only).
#
#   bash internal/oracle/run.sh [-v] [--unused=fail|warn] [--allowlist FILE] [GOLDEN_ROOT]
#
# Parses every GOLDEN_ROOT/{snowflake,redshift,synapse}/**/expected.sql with
# sqlfluff (dialects snowflake, redshift, tsql) and every synapse script also
# with antlr4ts-sql (T-SQL). Failures not covered by internal/oracle/allowlist.txt are
# printed as `file:line:col: oracle: message`; the last line is
#   oracle: N files, N statements, N passed, N allowed, N failed
# GOLDEN_ROOT defaults to the repository's golden/. -v also lists allowed
# failures; --unused=warn makes an allow-list entry that matched nothing a
# warning instead of an error.
# Exit: 0 nothing failed, 1 failures or unused allow-list entries, 2 setup error.
# Install the tools with: bash internal/oracle/install.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() {
  echo "oracle: $*" >&2
  echo "oracle: install the tools with: bash ${here#"$PWD"/}/install.sh" >&2
  exit 2
}

command -v sqlfluff >/dev/null 2>&1 || die "sqlfluff not found (Debian package sqlfluff, 1.4.5 on Debian 12)"
sqlfluff_version="$(sqlfluff --version 2>/dev/null | awk '{print $NF}')" || die "sqlfluff --version failed"
if [ "$sqlfluff_version" != "1.4.5" ]; then
  echo "oracle: warning: sqlfluff $sqlfluff_version, the allow-list was written against 1.4.5" >&2
fi

command -v node >/dev/null 2>&1 || die "node not found (Node.js 18 or newer)"
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || die "node does not run"
[ "$node_major" -ge 18 ] || die "node $(node --version) is too old (need 18 or newer)"

antlr4ts_version="$(cd "$here" && node -p 'require("antlr4ts/package.json").version' 2>/dev/null)" ||
  die "npm package antlr4ts is not installed in ${here}/node_modules"
[ "$antlr4ts_version" = "0.5.0-alpha.4" ] || die "antlr4ts $antlr4ts_version installed, pinned 0.5.0-alpha.4"
(cd "$here" && node -e 'require("antlr4ts-sql/dist/src/antlr4tsSQL")' >/dev/null 2>&1) ||
  die "npm package antlr4ts-sql is not installed in ${here}/node_modules"

exec node "$here/check.js" "$@"
