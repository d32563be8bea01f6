#!/usr/bin/env bash
# `make playground`: the bot in demo mode on a demo SQLite database under var/, and Microsoft 365
# Agents Playground (npm @microsoft/m365agentsplayground) in front of it, offline on loopback with
# its telemetry and statsbeat off and no browser. Prints the one URL to open; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

BOT_PORT="${FRONTDOOR_PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
PLAYGROUND="node_modules/@microsoft/m365agentsplayground/cli.js"
mkdir -p var

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$BOT_PORT" "$PLAYGROUND_PORT"; do
    port_free "$port" || { echo "port $port is in use: stop what uses it (or set FRONTDOOR_PORT / PLAYGROUND_PORT)"; exit 1; }
done

export FRONTDOOR_DEMO=1 FRONTDOOR_AUTH=off FRONTDOOR_PORT="$BOT_PORT"
export DATABASE_URL="${FRONTDOOR_DEMO_DATABASE_URL:-sqlite+aiosqlite:///var/demo.sqlite3}"
export FRONTDOOR_DEMO_CONFIG="$PWD/.m365agentsplayground.yml"
export FRONTDOOR_DEMO_SERVICE_URL="http://127.0.0.1:$PLAYGROUND_PORT/_connector"
unset MicrosoftAppId MicrosoftAppPassword

bot_pid="" playground_pid=""
stop() {
    trap - INT TERM EXIT
    for pid in $playground_pid $bot_pid; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

.venv/bin/frontdoor-bot db upgrade
.venv/bin/frontdoor-bot serve > var/demo-bot.log 2>&1 &
bot_pid=$!
for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$BOT_PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$bot_pid" 2>/dev/null || { cat var/demo-bot.log; echo "the bot did not start"; exit 1; }
    sleep 0.2
done

TEAMSAPPTESTER_BROWSER=none APPLICATION_INSIGHTS_NO_STATSBEAT=true \
M365_AGENTS_PLAYGROUND_CONFIG_PATH="$FRONTDOOR_DEMO_CONFIG" \
    node "$PLAYGROUND" --app-endpoint "http://127.0.0.1:$BOT_PORT/api/messages" --channel-id msteams \
    --port "$PLAYGROUND_PORT" --service-url "$FRONTDOOR_DEMO_SERVICE_URL" --disable-telemetry \
    > var/demo-playground.log 2>&1 &
playground_pid=$!
for _ in $(seq 150); do
    curl -fs "http://127.0.0.1:$PLAYGROUND_PORT/" >/dev/null 2>&1 && break
    kill -0 "$playground_pid" 2>/dev/null || { cat var/demo-playground.log; echo "the Playground did not start"; exit 1; }
    sleep 0.2
done

echo
echo "Open http://127.0.0.1:$PLAYGROUND_PORT/ (switch user there to try each role; Ctrl-C stops both)"
echo "Logs: var/demo-bot.log, var/demo-playground.log"
wait -n "$bot_pid" "$playground_pid"
