#!/usr/bin/env bash
# Installs, idempotently, every tool Sésame's build and tests need, from the package
# registries alone (crates.io, Debian, npm, PyPI). Safe to run again: each step checks
# what is present at the right version first. See ../shared/BUILD.md for why each pin.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '[install-tools] %s\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
for component in rustfmt clippy; do
  if ! rustup component list --installed | grep -q "^$component"; then
    rustup component add "$component"
  fi
done

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~18 min the first time)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
command -v brotli >/dev/null || apt_packages+=(brotli)
# An LDAP directory for the linked accounts tests (server/tests/common/slapd.rs starts its
# own slapd on a free port with its own configuration; the system one is not needed).
[ -x /usr/sbin/slapd ] || apt_packages+=(slapd)
# ldapwhoami: the browser suite checks with it that a new password reached the directory.
command -v ldapwhoami >/dev/null || apt_packages+=(ldap-utils)
# nginx: server/tests/cluster.rs runs two instances behind it, as production does.
[ -x /usr/sbin/nginx ] || apt_packages+=(nginx)
if [ ${#apt_packages[@]} -gt 0 ]; then
  log "installing from Debian: ${apt_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${apt_packages[@]}"
  if [[ " ${apt_packages[*]} " == *" slapd "* ]]; then
    # Debian starts a slapd on port 389 on installation: no directory is left running.
    service slapd stop >/dev/null 2>&1 || true
  fi
  if [[ " ${apt_packages[*]} " == *" nginx "* ]]; then
    # Nor an nginx on port 80: the test starts its own, on a free port.
    service nginx stop >/dev/null 2>&1 || true
  fi
fi

# A real SMTP server process for the mail transport tests.
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd (SMTP server used by the tests)"
  python3 -m pip install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6'
fi

if [ -f end2end/package-lock.json ]; then
  stamp=end2end/node_modules/.lock-stamp
  if [ ! -f "$stamp" ] || ! cmp -s end2end/package-lock.json "$stamp"; then
    log "installing the end-to-end suite's npm packages"
    (cd end2end && npm ci --no-audit --no-fund --loglevel=error)
    cp end2end/package-lock.json "$stamp"
  fi
fi
log "tools ready"
