#!/usr/bin/env bash
# Sésame's test command: installs what is missing, then runs every test.
#   1. formatting and clippy (server and WASM client)
#   2. cargo test: unit, store (SQLite; PostgreSQL too when SESAME_TEST_POSTGRES_URL is
#      set), HTTP in-process, SMTP against a real SMTP server, the CLI
#   3. the release build (cargo-leptos) and the Playwright suite in Debian's Chromium
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/install-tools.sh
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
eval "$(scripts/leptos-env)"
# A fresh clone builds once: incremental caches would only take disk space.
if [ -n "${CI:-}" ]; then export CARGO_INCREMENTAL=0; fi

step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
# Each runner's output is kept to count the tests in the closing line.
log_dir=$(mktemp -d)
trap 'rm -rf "$log_dir"' EXIT

step "format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy -p app --lib --features hydrate --target wasm32-unknown-unknown -- -D warnings

step "cargo test (PostgreSQL: ${SESAME_TEST_POSTGRES_URL:-not set, SQLite only})"
cargo test --workspace --no-run
# Built above, the tests take a few minutes (the fault injection, under SESAME_SLOW_TESTS=1,
# some more): a hang fails here instead of eating CI's time.
timeout --kill-after=10 1500 cargo test --workspace 2>&1 | tee "$log_dir/cargo.log"

step "release build"
# The release build of scripts/build.sh, whose comment says why these flags.
cargo leptos build --release --precompress

step "end-to-end ($LEPTOS_END2END_CMD in $LEPTOS_END2END_DIR)"
(cd "$LEPTOS_END2END_DIR" && $LEPTOS_END2END_CMD) 2>&1 | tee "$log_dir/e2e.log"

rust=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' "$log_dir/cargo.log" | awk '{ n += $1 } END { print n + 0 }')
e2e=$(sed -n 's/^ *\([0-9]*\) passed (.*/\1/p' "$log_dir/e2e.log" | tail -1)
step "all tests passed: $rust Rust tests, ${e2e:-0} browser tests"
echo "$(( rust + ${e2e:-0} )) passed, 0 failed"
