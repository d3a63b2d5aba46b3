#!/usr/bin/env bash
# Prepares everything the VS Code end-to-end test needs, on a fresh Debian machine (root)
# or again on a prepared one (each step is skipped when its result is already there):
#   1. Debian packages: chromium (the browser Playwright drives), ripgrep (code-server's
#      search tool, pre-seeded below), libkrb5-dev (code-server's native kerberos module);
#   2. the extension: npm ci, npm test (types, lint, unit tests), npm run package (.vsix);
#   3. code-server 4.100.3 (a real VS Code 1.100.3 that runs on Node 20) and playwright-core,
#      installed into the tools directory, outside the tracked tree.
#
# Usage: scripts/ci-setup.sh [TOOLS_DIR]
#   TOOLS_DIR defaults to $QWEN_LSP_VSCODE_TOOLS, else editor-clients/vscode/.tools.
#   tests/clients/test_vscode.py looks in the same places (export QWEN_LSP_VSCODE_TOOLS
#   when you choose another directory).
set -euo pipefail

EXT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${1:-${QWEN_LSP_VSCODE_TOOLS:-$EXT/.tools}}"
CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.65.1
SCRIPT_START=$SECONDS

step_start=0
step() { step_start=$SECONDS; echo "== vscode ci-setup: $* ($(date -u +%T))"; }
done_step() { echo "== vscode ci-setup: $1 took $((SECONDS - step_start)) s"; }

# 1. Debian packages
step "Debian packages"
missing=()
for pkg in chromium ripgrep libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "already installed: chromium ripgrep libkrb5-dev"
fi
done_step "Debian packages"

# Node 20+ (code-server 4.100.3 runs on Node 20; Debian 12's nodejs is 18): it comes with
# the machine here, as node and npm on PATH.
node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if ((node_major < 20)); then
  echo "vscode ci-setup: needs Node.js 20 or newer with npm on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
echo "node $(node --version), npm $(npm --version)"

# 2. The extension, from its lockfile
cd "$EXT"
step "npm ci (extension)"
npm ci --no-audit --no-fund
done_step "npm ci"
step "npm test (extension)"
npm test
done_step "npm test"
step "npm run package (extension)"
npm run package
ls -l "$EXT/qwen-lsp.vsix"
done_step "npm run package"

# 3. code-server and playwright-core, in the tools directory
step "code-server $CODE_SERVER_VERSION + playwright-core $PLAYWRIGHT_VERSION into $TOOLS"
installed_version() {
  node -p "require('$TOOLS/node_modules/$1/package.json').version" 2>/dev/null || true
}
if [[ "$(installed_version code-server)" == "$CODE_SERVER_VERSION" &&
      "$(installed_version playwright-core)" == "$PLAYWRIGHT_VERSION" &&
      -x "$TOOLS/node_modules/.bin/code-server" ]]; then
  echo "already installed"
else
  mkdir -p "$TOOLS/tmp"
  [[ -f "$TOOLS/package.json" ]] || echo '{"name": "qwen-lsp-vscode-tools", "private": true}' > "$TOOLS/package.json"
  # code-server 4.100.3's @vscode/ripgrep would download rg from GitHub at install time;
  # it takes a cached archive instead, so give it Debian's rg in the archive it expects.
  rg_cache="$TOOLS/tmp/vscode-ripgrep-cache-1.15.11"
  mkdir -p "$rg_cache" "$TOOLS/tmp/rg"
  cp "$(command -v rg)" "$TOOLS/tmp/rg/rg"
  tar -C "$TOOLS/tmp/rg" -czf "$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg
  # code-server builds its native modules in install scripts (npm blocks dependency
  # scripts by default): allowed for this install only, which lives in the tools directory;
  # its postinstall.sh refuses to run as root without npm_config_unsafe_perm.
  (cd "$TOOLS" && TMPDIR="$TOOLS/tmp" npm_config_dangerously_allow_all_scripts=true npm_config_unsafe_perm=true \
     npm_config_yes=true npm install --no-audit --no-fund --save-exact \
     "code-server@$CODE_SERVER_VERSION" "playwright-core@$PLAYWRIGHT_VERSION")
fi
XDG_CONFIG_HOME="$TOOLS/tmp/config" XDG_DATA_HOME="$TOOLS/tmp/data" "$TOOLS/node_modules/.bin/code-server" --version
done_step "code-server + playwright-core"

echo "== vscode ci-setup: done in $((SECONDS - SCRIPT_START)) s; tools in $TOOLS"
