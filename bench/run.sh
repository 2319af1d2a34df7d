#!/usr/bin/env bash
# Prints Sésame's figures (measured, never asserted): client size raw and brotli, the
# server-side time of one sign-in, the bot check's native solve time. With --build-times,
# also the warm rebuild time of the release build and, with --cold, a cold build in a
# throw-away clone (minutes).
# Needs a release build (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(scripts/leptos-env)"
export PATH="$PWD/end2end/node_modules/.bin:$HOME/.cargo/bin:$PATH"
pkg="$LEPTOS_SITE_ROOT/$LEPTOS_SITE_PKG_DIR"
[ -x target/release/sesame ] && [ -d "$pkg" ] || { echo "run scripts/build.sh first" >&2; exit 1; }

echo "== client size (bytes)"
printf '%-16s %10s %10s\n' file raw brotli
total_raw=0; total_br=0
for f in "$pkg"/sesame.wasm "$pkg"/sesame.js "$pkg"/sesame.css; do
  [ -f "$f" ] || continue
  raw=$(wc -c < "$f"); br=$(brotli -c -q 11 "$f" | wc -c)
  total_raw=$((total_raw + raw)); total_br=$((total_br + br))
  printf '%-16s %10d %10d\n' "$(basename "$f")" "$raw" "$br"
done
printf '%-16s %10d %10d\n' total "$total_raw" "$total_br"

echo
echo "== one sign-in, server side (release build, SQLite, argon2id m=19 MiB t=2 p=1)"
work=$(mktemp -d)
port=3291
export SESAME_DATABASE_URL="sqlite:$work/sesame.db" SESAME_SECRET_KEY_FILE="$work/secret.key" \
  SESAME_MAIL_DIR="$work/mail" SESAME_PUBLIC_URL="http://127.0.0.1:$port" \
  SESAME_THROTTLE_SIGNIN_PER_ADDRESS=100000 LEPTOS_SITE_ROOT="$PWD/$LEPTOS_SITE_ROOT"
password='Vélo-rouge;Marmotte-93'
printf '%s\n' "$password" | target/release/sesame admin create-person --login bench.user \
  --first-name Bench --last-name User --category student >/dev/null
target/release/sesame serve --addr "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
jar="$work/cookies"
page=$(curl -fs -c "$jar" "http://127.0.0.1:$port/signin")
csrf=$(printf '%s' "$page" | sed -n 's/.*name="csrf-token" content="\([^"]*\)".*/\1/p')
action=$(printf '%s' "$page" | grep -o 'action="/api/sign_in[^"]*"' | head -1 | cut -d'"' -f2)
runs=30
times=()
for _ in $(seq "$runs"); do
  t=$(curl -s -o /dev/null -b "$jar" -w '%{time_total}' -H 'Accept: text/html' \
    -H "Origin: http://127.0.0.1:$port" --data-urlencode "csrf=$csrf" \
    --data-urlencode "login=bench.user" --data-urlencode "password=$password" \
    "http://127.0.0.1:$port$action")
  times+=("$t")
done
printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" '
  { v[NR] = $1 * 1000 }
  END { printf "sign-in (%d sequential runs): median %.1f ms, p90 %.1f ms, min %.1f ms\n", n, v[int(n/2)+1], v[int(n*0.9)], v[1] }'

echo
echo "== bot check: proof of work at the default difficulty, native (the browser's WASM is slower)"
cargo run -q --release -p sesame --example pow_solve -- 50 \
  || echo "(the pow_solve example failed)"

echo
echo "== operators: import 10,000 people (every row with a PIN and SIN digits), then letters"
python3 - "$work/people.csv" <<'PY'
import sys
cats = ["permanent-staff", "temporary-staff", "retiree", "student", "external"]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email\n")
    for i in range(10000):
        f.write(f"p{i:05d},Prénom{i},Nom{i},1970-01-{1 + i % 28:02d},E{i:06d},{cats[i % 5]},{'fr' if i % 2 else 'en'},{1000 + i % 9000},{100000 + i},p{i}@exemple.org\n")
PY
for run in first second; do
  start=$(date +%s%N)
  target/release/sesame admin import "$work/people.csv" 2>&1 | tail -1
  echo "import, $run run: $(( ($(date +%s%N) - start) / 1000000 )) ms"
done
start=$(date +%s%N)
target/release/sesame admin letters --category retiree --out "$work/letters.html" 2>&1 | tail -1
echo "letters for 2,000 retirees: $(( ($(date +%s%N) - start) / 1000000 )) ms"

if [ "${1:-}" = "--build-times" ]; then
  echo
  echo "== build times"
  touch app/src/lib.rs
  start=$(date +%s); cargo leptos build --release >/dev/null 2>&1; end=$(date +%s)
  echo "warm release build after touching one file: $((end - start)) s"
  if [ "${2:-}" = "--cold" ]; then
    clone=$(mktemp -d); git clone -q . "$clone"
    start=$(date +%s); (cd "$clone" && cargo leptos build --release >/dev/null 2>&1); end=$(date +%s)
    echo "cold release build (fresh clone, empty target/): $((end - start)) s"
    rm -rf "$clone"
  fi
fi
