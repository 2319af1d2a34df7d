#!/usr/bin/env bash
# Builds the release server and client (WASM, JS, CSS, assets under target/site) with
# cargo-leptos, taking the site settings from Leptos.toml. Installs missing tools first.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-tools.sh
eval "$(scripts/leptos-env)"
# npm's wasm-opt (binaryen 132) first: Debian's is too old (see BUILD.md).
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# --precompress: every file of the site gets a .br (quality 11) and a .gz beside it, which
# the server sends as they are instead of compressing each response itself at a lower quality.
cargo leptos build --release --precompress
