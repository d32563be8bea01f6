#!/usr/bin/env bash
# `make playground-check`: on a fresh clone of the committed tree, `make playground` (nothing else
# first), then the URL it prints in headless Chromium reaches the help card as a member of staff;
# then Ctrl-C (SIGINT to its process group, as a terminal sends) stops the bot and the Playground.
# The clone sets itself up (.venv from PyPI, node_modules from npm), so it takes minutes.
# CHECK_BOT_PORT (3980) and CHECK_PLAYGROUND_PORT (56160) keep it clear of a running demo.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
git clone -q . "$work/frontdoor"
cd "$work/frontdoor"
export FRONTDOOR_PORT="${CHECK_BOT_PORT:-3980}" PLAYGROUND_PORT="${CHECK_PLAYGROUND_PORT:-56160}"
began=$SECONDS

setsid make playground > "$work/make.log" 2>&1 &
make_pid=$!
cleanup() { kill -INT -- "-$make_pid" 2>/dev/null || true; sleep 1; rm -rf "$work"; }
trap cleanup EXIT

url=""
for _ in $(seq 1800); do  # up to 15 minutes for the set-up
    url="$(grep -o 'Open http[^ ]*' "$work/make.log" | head -1 | cut -d' ' -f2 || true)"
    [ -n "$url" ] && break
    kill -0 "$make_pid" 2>/dev/null || { cat "$work/make.log"; echo "make playground ended without a URL"; exit 1; }
    sleep 0.5
done
[ -n "$url" ] || { cat "$work/make.log"; echo "no URL after 15 minutes"; exit 1; }
echo "make playground printed $url after $((SECONDS - began)) s"

node scripts/playground-check.js "$url"

kill -INT -- "-$make_pid"  # Ctrl-C
for _ in $(seq 60); do
    kill -0 "$make_pid" 2>/dev/null || break
    sleep 0.5
done
for port in "$FRONTDOOR_PORT" "$PLAYGROUND_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "port $port still in use after Ctrl-C"; exit 1; fi
done
echo "Ctrl-C stopped the bot and the Playground; the check passed in $((SECONDS - began)) s"
