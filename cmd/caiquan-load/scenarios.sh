#!/usr/bin/env bash
# The load scenarios of the README's Performance section. Each starts its own
# server on 127.0.0.1 (a free port), runs caiquan-load against it with -pid,
# stops the server, and leaves the report in $OUT/<scenario>.json and .txt.
#
#   cmd/caiquan-load/scenarios.sh [scenario...]   # default: all of them
#
# Scenarios: play10k, wires (play10k on each of the four wires), rush
# (10,000 players arriving at 2,500/s, each wire), idle19k, rounds1s-gomaxprocs1, rounds1s-gomaxprocs2,
# rounds100ms-gomaxprocs1, rounds100ms-gomaxprocs2; and, only when named,
# play10k-gogc100 (play10k at GOGC 100), play10k-limit512 (play10k
# under a 512 MiB memory limit) and limits (play10k with a 20 s hold under
# memory limits of 256, 384, 512 and 1024 MiB). SERVER_BIN names another
# server build to measure. They take about ten minutes in all and want a
# quiet machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-bin}
OUT=${OUT:-$BIN/bench}
GO=${GO:-go}
mkdir -p "$OUT"
$GO build -o "$BIN/caiquan" ./cmd/caiquan
SERVER_BIN=${SERVER_BIN:-$BIN/caiquan}
$GO build -o "$BIN/caiquan-load" ./cmd/caiquan-load

server_pid=
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	fi
}
trap stop_server EXIT

# wait_quiet waits (up to ten minutes) until the rest of the machine is
# nearly idle: under 0.3 cores busy over 3 s. Each report also says how much
# CPU the rest of the machine took during its hold (cpu.other_cores).
wait_quiet() {
	local u n s i w q sq st b1 b2
	for _ in $(seq 200); do
		read -r _ u n s i w q sq st _ </proc/stat
		b1=$((u + n + s + q + sq + st))
		sleep 3
		read -r _ u n s i w q sq st _ </proc/stat
		b2=$((u + n + s + q + sq + st))
		[ $((b2 - b1)) -lt 90 ] && return 0 # clock ticks at 100 Hz
	done
	echo "scenarios: the machine stayed busy; measuring anyway" >&2
}

# run NAME 'SERVER FLAGS' LOAD FLAGS...: env SERVER_ENV is passed to the server.
run() {
	local name=$1 server_flags=$2
	shift 2
	local log="$OUT/$name.server.log"
	wait_quiet
	# shellcheck disable=SC2086
	# Anonymous players, as the load tool names them; a fresh pebble store (the
	# default store, so its fsyncs are part of every figure); no admin API and
	# no metrics listener.
	rm -rf "$OUT/$name.db"
	env ${SERVER_ENV:-} "$SERVER_BIN" -listen 127.0.0.1:0 -admin-listen "" -metrics-listen "" -auth-mode anonymous \
		-store-path "$OUT/$name.db" $server_flags >"$log.out" 2>"$log" &
	server_pid=$!
	local addr=
	for _ in $(seq 100); do
		addr=$(sed -n 's/^listening on //p' "$log.out")
		[ -n "$addr" ] && break
		sleep 0.1
	done
	if [ -z "$addr" ]; then
		echo "scenarios: $name: the server did not start:" >&2
		cat "$log" >&2
		stop_server
		return 0
	fi
	echo "== $name: caiquan $server_flags ${SERVER_ENV:-}; caiquan-load $*" | tee "$OUT/$name.txt"
	"$BIN/caiquan-load" -url "ws://$addr" -pid "$server_pid" -json "$OUT/$name.json" "$@" | tee -a "$OUT/$name.txt"
	stop_server
	sleep 5 # let the sockets of this run leave TIME_WAIT's way
}

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(play10k idle19k rounds1s-gomaxprocs1 rounds1s-gomaxprocs2 rounds100ms-gomaxprocs1 rounds100ms-gomaxprocs2)
for s in "${scenarios[@]}"; do
	case $s in
	play10k)
		run play10k "" -players 10000 -ramp 1000 -hold 60s -think 200ms -sources 2 -quiet ;;
	wires)
		# play10k on every wire, one after the other, with a 20 s hold.
		for w in binary json eio4 eio3; do
			run "play10k-$w" "" -protocol "$w" -players 10000 -ramp 1000 -hold 20s -think 200ms -sources 2 -quiet
		done ;;
	rush)
		# 10,000 players arriving at 2,500/s and playing on, on every wire.
		for w in binary json eio4 eio3; do
			run "rush10k-$w" "" -protocol "$w" -players 10000 -ramp 2500 -hold 20s -think 200ms -sources 2 -quiet
		done ;;
	play10k-gogc100)
		# play10k with Go's default collector pacing.
		run play10k-gogc100 "-gc-percent 100" -players 10000 -ramp 1000 -hold 60s -think 200ms -sources 2 -quiet ;;
	play10k-limit512)
		# play10k under half the default memory limit: admission refuses some.
		run play10k-limit512 "-memory-limit-mib 512" -players 10000 -ramp 1000 -hold 60s -think 200ms -sources 2 -quiet ;;
	limits)
		# The memory limit against the tail: admission refuses connections
		# (503) and joins (server_busy) near a low limit.
		for l in 256 384 512 1024; do
			run "play10k-limit$l" "-memory-limit-mib $l" -players 10000 -ramp 1000 -hold 20s -think 200ms -sources 2 -quiet
		done ;;
	idle19k)
		# Held past the runtime's forced GC (every 2 min), which shrinks idle stacks.
		run idle19k "" -players 19000 -ramp 2000 -hold 150s -idle -sources 2 -quiet ;;
	rounds1s-gomaxprocs1 | rounds1s-gomaxprocs2)
		SERVER_ENV=GOMAXPROCS=${s: -1} run "$s" "-round-time 1s -bot-fill 100ms -rate-limit 100 -rate-burst 200" \
			-players 2000 -ramp 1000 -hold 30s -think 0s -sources 1 -quiet ;;
	rounds100ms-gomaxprocs1 | rounds100ms-gomaxprocs2)
		SERVER_ENV=GOMAXPROCS=${s: -1} run "$s" "-round-time 100ms -bot-fill 50ms -rate-limit 100 -rate-burst 200" \
			-players 2000 -ramp 1000 -hold 30s -think 0s -round-time-hint 100ms -sources 1 -quiet ;;
	*)
		echo "scenarios: unknown scenario $s" >&2
		exit 2 ;;
	esac
done
