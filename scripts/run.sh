#!/usr/bin/env bash
# Runs Sésame on its embedded defaults: SQLite under var/, mail as .eml files under
# var/mail/, the demo institution and people (see README). Extra arguments go to
# `sesame serve` (e.g. --addr 0.0.0.0:3000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
eval "$(scripts/leptos-env)"
export LEPTOS_SITE_ROOT="$PWD/$LEPTOS_SITE_ROOT"
exec target/release/sesame serve --demo "$@"
