#!/usr/bin/env bash
# bench/run.sh — time to ready: how many sequential round trips keyexec takes
# from start to exec in each of its flows, and what it costs at start-up over
# a Go program that only execs its argument; measured side by side in one
# run on one machine, written to bench/RESULTS.md.
#
# Every fake adds the same latency L to every request it answers (the Vault
# fake, the OpenAI and Anthropic fakes, and a proxy in front of moto for
# Secrets Manager and STS; see bench/fakes). Each flow runs against a world
# of fakes at L and against an identical world at 0, and
#
#     round trips = (mean wall time at L - mean wall time at 0) / L
#
# is set beside the flow's floor, the fewest sequential round trips it can
# take, and beside ideal clients (curl, and bench/rounds: a Go program doing
# only N sequential requests) timed the same way against the same fakes,
# which measure what the machine adds to L. One more run of each flow at L
# is traced: the fakes record every request as it arrives, so the timeline
# shows what waited for what.
#
# Start-up: `execfloor true` (bench/execfloor: syscall.Exec of its arguments)
# against `keyexec run --provider none -- true` and
# `keyexec run --no-probe -- true`, as ratios.
#
# Needs Go, curl, and the pinned test environment (testenv/setup builds
# .testenv; KEYEXEC_TESTENV overrides it) for moto_server and python. Uses
# hyperfine when installed (apt-get install hyperfine), else bench/timeit.
#
# Environment: LATENCY (default 50ms; whole milliseconds), RUNS (per flow and
# latency, default 40), START_RUNS (per start-up command, default 300),
# ROUNDS (default 4: the runs are taken in that many interleaved rounds),
# OUT (default bench/RESULTS.md).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
LATENCY=${LATENCY:-50ms}
RUNS=${RUNS:-40}
START_RUNS=${START_RUNS:-300}
OUT=${OUT:-bench/RESULTS.md}
TESTENV=${KEYEXEC_TESTENV:-$ROOT/.testenv}

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/run.sh: $*"; exit "${2:-69}"; }

[[ $LATENCY =~ ^[1-9][0-9]*ms$ ]] || die "LATENCY=$LATENCY: give whole milliseconds above 0, such as 50ms" 64
L_MS=${LATENCY%ms}
for tool in go curl; do command -v "$tool" >/dev/null || die "$tool not found"; done
MOTO=$TESTENV/bin/moto_server
PY=$TESTENV/bin/python
[ -x "$MOTO" ] && [ -x "$PY" ] || die "no moto_server/python in $TESTENV: build the pinned environment with testenv/setup"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
	exec 3>&- 2>/dev/null || true # closing the fakes' stdin stops them
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- build ---------------------------------------------------------------
say "building keyexec, execfloor, rounds, fakes and timer…"
CGO_ENABLED=0 go build -o "$WORK/keyexec" ./cmd/keyexec
CGO_ENABLED=0 go build -o "$WORK/execfloor" ./bench/execfloor
CGO_ENABLED=0 go build -o "$WORK/rounds" ./bench/rounds
go build -o "$WORK/fakes" ./bench/fakes
go build -o "$WORK/timeit" ./bench/timeit
KX=$WORK/keyexec

# --- servers -------------------------------------------------------------
MOTO_PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MOTO_URL=http://127.0.0.1:$MOTO_PORT
"$MOTO" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do curl -fs -o /dev/null "$MOTO_URL/moto-api/" && break; sleep 0.2; done
curl -fs -o /dev/null "$MOTO_URL/moto-api/" || { say "moto_server did not start:"; cat "$WORK/moto.log" >&2; exit 69; }

FLOWS=$WORK/flows
mkfifo "$WORK/fakes.in"
"$WORK/fakes" -moto "$MOTO_URL" -latency "$LATENCY" -dir "$FLOWS" <"$WORK/fakes.in" >"$WORK/fakes.out" 2>"$WORK/fakes.log" &
PIDS+=($!)
exec 3>"$WORK/fakes.in"
for _ in $(seq 300); do grep -q '^READY$' "$WORK/fakes.out" && break; sleep 0.1; done
grep -q '^READY$' "$WORK/fakes.out" || { say "fakes did not start:"; cat "$WORK/fakes.log" >&2; exit 69; }
CONTROL=$(cat "$FLOWS/control")

# Start-up commands get a laptop's environment: a key, no Vault, no AWS.
printf '%s\n' PATH=/usr/bin:/bin "HOME=$FLOWS/0/home" \
	"OPENAI_API_KEY=sk-proj-BenchKeyAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllT3BlbkFJmmmmNNNNooooPPPPqqqqRRRRssssTTTTuuuuVVVVwwwwXXXXyy" \
	>"$WORK/startup.env"
mkdir "$WORK/cwd" # no ./keyexec.yaml where the commands run

# --- measuring -----------------------------------------------------------
if command -v hyperfine >/dev/null; then
	TIMER="hyperfine $(hyperfine --version | cut -d' ' -f2) (-N, no shell)"
else
	TIMER="bench/timeit (hyperfine not installed)"
fi

# measure NAME ENVFILE RUNS WARMUP COMMAND… : time RUNS runs of COMMAND,
# run with exactly the environment in ENVFILE, adding them to NAME's samples.
mkdir "$WORK/samples"
measure() {
	local name=$1 envfile=$2 runs=$3 warmup=$4
	shift 4
	local -a envv
	mapfile -t envv <"$envfile"
	if command -v hyperfine >/dev/null; then
		(cd "$WORK/cwd" && env -i "${envv[@]}" "$(command -v hyperfine)" -N --style none --warmup "$warmup" --runs "$runs" \
			--export-json "$WORK/h.json" -- "$*" >/dev/null 2>"$WORK/hyperfine.log") ||
			{ cat "$WORK/hyperfine.log" >&2; die "hyperfine failed on $name"; }
		"$WORK/timeit" -hyperfine "$WORK/h.json" -samples "$WORK/samples/$name" >/dev/null
	else
		(cd "$WORK/cwd" && env -i "${envv[@]}" "$WORK/timeit" -runs "$runs" -warmup "$warmup" -samples "$WORK/samples/$name" -- "$@" >/dev/null)
	fi
}

# once ENVFILE COMMAND… : one run, which must succeed (its stderr kept).
once() {
	local envfile=$1
	local -a envv
	shift
	mapfile -t envv <"$envfile"
	(cd "$WORK/cwd" && env -i "${envv[@]}" "$@" >/dev/null 2>"$WORK/once.log") ||
		{ cat "$WORK/once.log" >&2; die "failed: $* (environment $envfile)"; }
}

# Every measurement is split into ROUNDS rounds, each going once through all
# commands (0 then L for each flow), so that a change in the machine's load
# during the run weighs on every command alike; the samples are pooled.
ROUNDS=${ROUNDS:-4}
[ $((RUNS % ROUNDS)) -eq 0 ] && [ $((START_RUNS % ROUNDS)) -eq 0 ] || die "RUNS and START_RUNS must be multiples of ROUNDS=$ROUNDS" 64
STARTUP=(true execfloor none no-probe)
declare -A STARTUP_CMD=(
	[true]="true"
	[execfloor]="$WORK/execfloor true"
	[none]="$KX run --provider none -- true"
	[no-probe]="$KX run --no-probe -- true"
)
mapfile -t FLOW_LINES <"$FLOWS/flows"
mapfile -t BARE_LINES <"$FLOWS/bare"
CURL=$(command -v curl)
# shellcheck disable=SC2086 # the start-up commands are split into their words
for s in "${STARTUP[@]}"; do once "$WORK/startup.env" ${STARTUP_CMD[$s]}; done
for line in "${FLOW_LINES[@]}"; do
	IFS=$'\t' read -r flow _ _ <<<"$line"
	for w in 0 L; do once "$FLOWS/$w/$flow.env" "$KX" run -- true; done
done
# bare NAME FLOOR W: the environment file and command of a bare request.
bare() {
	case $1 in
	curl-*) BARE=("$FLOWS/$3/bare.env" "$CURL" -K "$FLOWS/$3/$1.curl") ;;
	go-*) BARE=("$FLOWS/$3/vault-token.env" "$WORK/rounds" -n "$2") ;;
	esac
}
for line in "${BARE_LINES[@]}"; do
	IFS=$'\t' read -r name floor _ <<<"$line"
	for w in 0 L; do
		bare "$name" "$floor" "$w"
		once "${BARE[@]}"
	done
done

for ((r = 1; r <= ROUNDS; r++)); do
	say "round $r of $ROUNDS: start-up ($((START_RUNS / ROUNDS)) runs each), flows and bare requests at 0 and $LATENCY ($((RUNS / ROUNDS)) runs each)"
	for s in "${STARTUP[@]}"; do
		# shellcheck disable=SC2086
		measure "start-$s" "$WORK/startup.env" $((START_RUNS / ROUNDS)) 10 ${STARTUP_CMD[$s]}
	done
	for line in "${FLOW_LINES[@]}"; do
		IFS=$'\t' read -r flow _ _ <<<"$line"
		for w in 0 L; do measure "$flow@$w" "$FLOWS/$w/$flow.env" $((RUNS / ROUNDS)) 2 "$KX" run -- true; done
	done
	for line in "${BARE_LINES[@]}"; do
		IFS=$'\t' read -r name floor _ <<<"$line"
		for w in 0 L; do
			bare "$name" "$floor" "$w"
			measure "$name@$w" "${BARE[0]}" $((RUNS / ROUNDS)) 2 "${BARE[@]:1}"
		done
	done
done

say "one traced run per flow at $LATENCY"
for line in "${FLOW_LINES[@]}"; do
	IFS=$'\t' read -r flow _ _ <<<"$line"
	curl -fs "$CONTROL/trace" >/dev/null # drop the timed runs' requests
	once "$FLOWS/L/$flow.env" "$KX" run -- true
	curl -fs "$CONTROL/trace" >"$WORK/trace-$flow"
done

declare -A MEAN SD MIN
for f in "$WORK"/samples/*; do
	name=${f##*/}
	read -r MEAN[$name] SD[$name] MIN[$name] _ <<<"$("$WORK/timeit" -stats "$f")"
	say "  $(printf '%-24s' "$name") ${MEAN[$name]} ms ± ${SD[$name]}"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report --------------------------------------------------------------
pm() { printf '%.1f ± %.1f' "${MEAN[$1]}" "${SD[$1]}"; }
ratio() { awk -v a="${MEAN[$1]}" -v b="${MEAN[$2]}" 'BEGIN { printf "%.2f", a / b }'; }
min_ratio() { awk -v a="${MIN[$1]}" -v b="${MIN[$2]}" 'BEGIN { printf "%.1f ms, %.2f", a, a / b }'; }
diff_ms() { awk -v a="${MEAN[$1]}" -v b="${MEAN[$2]}" 'BEGIN { printf "%+.1f", a - b }'; }
# trips FLOW: round trips, and its standard error from both means.
trips() { awk -v a="${MEAN[$1@L]}" -v b="${MEAN[$1@0]}" -v l="$L_MS" 'BEGIN { printf "%.2f", (a - b) / l }'; }
trips_se() {
	awk -v sa="${SD[$1@L]}" -v sb="${SD[$1@0]}" -v n="$RUNS" -v l="$L_MS" 'BEGIN { printf "%.2f", sqrt((sa * sa + sb * sb) / n) / l }'
}
# rounds FLOW: the sequential rounds in the traced run. A request that
# arrives more than L/2 after the first of its round was sent after an
# answer: it opens the next round.
rounds() { awk -v l="$L_MS" 'NR == 1 || $1 - start > l / 2 { n++; start = $1 } END { print n + 0 }' "$WORK/trace-$1"; }
# over FLOW FLOOR: ms per round trip above L in the timed runs.
over() { awk -v a="${MEAN[$1@L]}" -v b="${MEAN[$1@0]}" -v l="$L_MS" -v f="$2" 'BEGIN { printf "%+.1f", (a - b - f * l) / f }'; }
verdict() {
	local n
	n=$(rounds "$1")
	local word=rounds
	[ "$n" -eq 1 ] && word=round
	if [ "$n" -gt "$2" ]; then
		echo "**misses: $n $word**"
	else
		echo "at the floor ($n $word)"
	fi
}
# target FLOW: the issue's target for the flow, and whether this run met it.
target() {
	local t
	case $1 in
	vault-token) t=2.2 ;;
	vault-approle) t=3.2 ;;
	*) return 0 ;;
	esac
	awk -v m="$(trips "$1")" -v t="$t" 'BEGIN { if (m <= t) printf "≤ %s: met", t; else printf "≤ %s: **missed**", t }'
}
size_mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
INIT_TOTAL=$(cd "$WORK/cwd" && GODEBUG=inittrace=1 "$KX" version 2>&1 >/dev/null | awk '/^init /{ ms += $5 } END { printf "%.2f", ms }')

{
	echo "# keyexec time to ready"
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), Linux $(uname -r);" \
		"shared with other work, load average $LOAD_BEFORE before, $LOAD_AFTER after"
	echo "- $(go version); keyexec $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . 2>/dev/null || echo ' (with uncommitted changes)'), CGO_ENABLED=0, $(size_mib "$KX") MiB"
	echo "- timer: $TIMER; mean ± standard deviation; every command run with only its own environment (\`env -i\`)"
	echo "- command: \`LATENCY=$LATENCY RUNS=$RUNS START_RUNS=$START_RUNS ROUNDS=$ROUNDS bench/run.sh\`"
	echo
	echo "How to read this: bench/NOTES.md."
	echo
	echo "## Round trips to ready, L = $LATENCY"
	echo
	echo "Round trips = (mean at L − mean at 0) / L, ± its standard error; $RUNS runs per flow and"
	echo "latency, taken in $ROUNDS interleaved rounds of $((RUNS / ROUNDS)) after 2 warm-up runs each. Ideal Go"
	echo "client: bench/rounds making as many sequential requests as the floor, in the same run (see"
	echo "the bare requests below). Requests and rounds: what the fakes received in the traced run"
	echo "(timelines below); a round is the requests sent together, so rounds above the floor are"
	echo "requests that waited for an answer they need not wait for. Over L: ms per round trip above"
	echo "L in the timed runs."
	echo
	echo "| flow | floor | round trips | ideal Go client | issue target | requests | verdict | over L, ms per round trip | ms at L | ms at 0 |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	for line in "${FLOW_LINES[@]}"; do
		IFS=$'\t' read -r flow floor title <<<"$line"
		echo "| $title (\`$flow\`) | $floor | $(trips "$flow") ± $(trips_se "$flow") | $(trips "go-vault-$floor") | $(target "$flow") |" \
			"$(grep -c . "$WORK/trace-$flow" || true) | $(verdict "$flow" "$floor") | $(over "$flow" "$floor") |" \
			"$(pm "$flow@L") | $(pm "$flow@0") |"
	done
	echo
	echo "Bare requests, for calibration: ideal clients — curl, and a Go program using net/http"
	echo "(bench/rounds) — sending keyexec's requests to the same fakes one after the other, timed the"
	echo "same way. What they measure above their floor is what the fakes, the machine and (for Go) the"
	echo "runtime add to L when a process waits on the network; keyexec cannot do better."
	echo
	echo "| requests | floor | round trips | over L, ms per round trip | ms at L | ms at 0 |"
	echo "|---|---|---|---|---|---|"
	for line in "${BARE_LINES[@]}"; do
		IFS=$'\t' read -r name floor title <<<"$line"
		echo "| $title (\`$name\`) | $floor | $(trips "$name") ± $(trips_se "$name") | $(over "$name" "$floor") | $(pm "$name@L") | $(pm "$name@0") |"
	done
	echo
	echo "What the AWS credential variants add over static keys (\`aws\`): assume role" \
		"$(awk -v a="$(trips aws-assume-role)" -v b="$(trips aws)" 'BEGIN { printf "%+.2f", a - b }') round trips" \
		"($(grep -c 'sts:' "$WORK/trace-aws-assume-role" || true) STS call)," \
		"web identity $(awk -v a="$(trips aws-web-identity)" -v b="$(trips aws)" 'BEGIN { printf "%+.2f", a - b }') round trips" \
		"($(grep -c 'sts:' "$WORK/trace-aws-web-identity" || true) STS call)."
	echo
	echo "## Start-up over a Go program that only execs"
	echo
	echo "$START_RUNS runs each, in $ROUNDS interleaved rounds of $((START_RUNS / ROUNDS)) after 10 warm-up runs each;"
	echo "the environment holds PATH, HOME and an OpenAI key."
	echo
	echo "Means move with the machine's load (other work on the same 2 cores adds to every command);"
	echo "the fastest run of each, and their ratio, is the figure that load disturbs least."
	echo
	echo "| command | ms | over execfloor | ratio to execfloor | fastest run, its ratio |"
	echo "|---|---|---|---|---|"
	echo "| \`true\` (for scale) | $(pm start-true) | $(diff_ms start-true start-execfloor) ms | $(ratio start-true start-execfloor) | $(min_ratio start-true start-execfloor) |"
	echo "| \`execfloor true\` | $(pm start-execfloor) | | 1 | $(min_ratio start-execfloor start-execfloor) |"
	echo "| \`keyexec run --provider none -- true\` | $(pm start-none) | $(diff_ms start-none start-execfloor) ms | $(ratio start-none start-execfloor) | $(min_ratio start-none start-execfloor) |"
	echo "| \`keyexec run --no-probe -- true\` | $(pm start-no-probe) | $(diff_ms start-no-probe start-execfloor) ms | $(ratio start-no-probe start-execfloor) | $(min_ratio start-no-probe start-execfloor) |"
	echo
	echo "keyexec's package initialisation (\`GODEBUG=inittrace=1 keyexec version\`, summed): $INIT_TOTAL ms."
	echo
	echo "## Request timelines, one traced run per flow at L = $LATENCY"
	echo
	echo "Each request as it reached its fake, in ms after the run's first request. Requests sent"
	echo "together arrive together; one sent after another's answer arrives about L later."
	for line in "${FLOW_LINES[@]}"; do
		IFS=$'\t' read -r flow _ title <<<"$line"
		echo
		echo "\`$flow\` — $title:"
		echo
		echo '```'
		cat "$WORK/trace-$flow"
		echo '```'
	done
} >"$WORK/results.md"

cp "$WORK/results.md" "$OUT"
cat "$OUT"
