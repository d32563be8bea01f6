#!/usr/bin/env bash
# `make playground`: the bot in demo mode on a demo SQLite database under var/, and Microsoft 365
# Agents Playground (npm @microsoft/m365agentsplayground) in front of it, offline on loopback with
# its telemetry and statsbeat off and no browser. Prints the one URL to open; Ctrl-C stops both.
# PLAYGROUND_AS=<role> (`make playground ROLE=consultant`) makes that demo person the Playground's
# user: its page (0.2.28) cannot switch user, so trying another role is a restart (the demo
# database is kept). PLAYGROUND_ONLY=1 starts only a Playground, for the bot another
# `make playground` runs: two people at once, e.g. `make playground ROLE=consultant` and, in another
# terminal, `make playground ROLE=officer PLAYGROUND_ONLY=1 PLAYGROUND_PORT=56152`.
# FRONTDOOR_PORT and PLAYGROUND_PORT come from the environment, then .env.
set -euo pipefail
cd "$(dirname "$0")/.."

from_dotenv() {  # a variable's value in .env (python-dotenv's reading), empty when unset
    [ -f .env ] || return 0
    .venv/bin/python -c 'import sys; from dotenv import dotenv_values; print(dotenv_values(".env").get(sys.argv[1]) or "")' "$1"
}
BOT_PORT="${FRONTDOOR_PORT:-$(from_dotenv FRONTDOOR_PORT)}"
BOT_PORT="${BOT_PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-$(from_dotenv PLAYGROUND_PORT)}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
PLAYGROUND="node_modules/@microsoft/m365agentsplayground/cli.js"
AS="${PLAYGROUND_AS:-officer}"
mkdir -p var

ONLY="${PLAYGROUND_ONLY:-}"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports="$PLAYGROUND_PORT"
[ -n "$ONLY" ] || ports="$BOT_PORT $ports"
for port in $ports; do
    port_free "$port" || { echo "port $port is in use: stop what uses it (or set FRONTDOOR_PORT / PLAYGROUND_PORT)"; exit 1; }
done
if [ -n "$ONLY" ] && ! curl -fs "http://127.0.0.1:$BOT_PORT/healthz" >/dev/null 2>&1; then
    echo "PLAYGROUND_ONLY=1 needs the bot running on port $BOT_PORT (start it with make playground)"; exit 1
fi

export FRONTDOOR_DEMO=1 FRONTDOOR_AUTH=off FRONTDOOR_PORT="$BOT_PORT"
export DATABASE_URL="${FRONTDOOR_DEMO_DATABASE_URL:-sqlite+aiosqlite:///var/demo.sqlite3}"
export FRONTDOOR_DEMO_CONFIG="$PWD/.m365agentsplayground.yml"
export FRONTDOOR_DEMO_SERVICE_URL="http://127.0.0.1:$PLAYGROUND_PORT/_connector"
export MicrosoftAppId= MicrosoftAppPassword=  # set, so .env cannot turn authentication on
# the Playground's own copy of the configuration, with the chosen person as its current user
PLAYGROUND_CONFIG="$PWD/var/playground-$AS.yml"
.venv/bin/python -m bot.demo as "$AS" "$FRONTDOOR_DEMO_CONFIG" > "$PLAYGROUND_CONFIG"

bot_pid="" playground_pid=""
stop() {
    trap - INT TERM EXIT
    for pid in $playground_pid $bot_pid; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

if [ -z "$ONLY" ]; then
    .venv/bin/frontdoor-bot db upgrade
    .venv/bin/frontdoor-bot serve > var/demo-bot.log 2>&1 &
    bot_pid=$!
    for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$BOT_PORT/healthz" >/dev/null 2>&1 && break
        kill -0 "$bot_pid" 2>/dev/null || { cat var/demo-bot.log; echo "the bot did not start"; exit 1; }
        sleep 0.2
    done
fi

: > "var/demo-playground-$AS.log"  # emptied first: the wait below must not read a former start's line
TEAMSAPPTESTER_BROWSER=none APPLICATION_INSIGHTS_NO_STATSBEAT=true \
M365_AGENTS_PLAYGROUND_CONFIG_PATH="$PLAYGROUND_CONFIG" \
    node "$PLAYGROUND" --app-endpoint "http://127.0.0.1:$BOT_PORT/api/messages" --channel-id msteams \
    --port "$PLAYGROUND_PORT" --service-url "$FRONTDOOR_DEMO_SERVICE_URL" --disable-telemetry \
    > "var/demo-playground-$AS.log" 2>&1 &
playground_pid=$!
# the Playground takes another port at random when its own is taken: only its own will do
for _ in $(seq 600); do  # up to 2 minutes: a busy machine starts it slowly
    grep -q "Listening on $PLAYGROUND_PORT\b" "var/demo-playground-$AS.log" && break
    kill -0 "$playground_pid" 2>/dev/null || { cat "var/demo-playground-$AS.log"; echo "the Playground did not start"; exit 1; }
    sleep 0.2
done
grep -q "Listening on $PLAYGROUND_PORT\b" "var/demo-playground-$AS.log" || {
    cat "var/demo-playground-$AS.log"; echo "the Playground did not take port $PLAYGROUND_PORT (set PLAYGROUND_PORT)"; exit 1; }

stops="both"; [ -z "$ONLY" ] || stops="this Playground"
echo
echo "Open http://127.0.0.1:$PLAYGROUND_PORT/ (you are the demo $AS; Ctrl-C stops $stops)"
echo "Another role: make playground ROLE=<officer|social_worker|consultant|duty_manager|team_manager|edt|professional>"
echo "Logs: var/demo-bot.log, var/demo-playground-$AS.log"
wait -n $bot_pid "$playground_pid"
