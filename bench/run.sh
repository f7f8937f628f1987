#!/usr/bin/env bash
# bench/run.sh — what keyexec costs at start-up, measured side by side in one
# run on one machine, written to bench/RESULTS.md.
#
#   (a) keyexec run --no-probe -- true   against   true            (environment only)
#   (b) keyexec resolving 1, 10, 100 references from the Vault fake and from
#       moto_server, spread over one secret or over as many distinct secrets,
#       each as a ratio to one bare HTTP round trip to the same server (curl)
#   (c) keyexec check probing 1 vs 3 providers whose fakes all add the same
#       latency, as a ratio to that latency
#   plus binary size (default and -ldflags "-s -w"), peak RSS before exec, and
#   the heaviest package inits (GODEBUG=inittrace=1).
#
# Tools: Go, curl, moto_server (pip install 'moto[server]'), /usr/bin/time,
# and hyperfine when installed (apt-get install hyperfine); without hyperfine
# the small timer in bench/timeit is used instead.
#
# Environment: RUNS (default 20), LATENCY (default 200ms), OUT (default
# bench/RESULTS.md), MOTO (moto_server path, default from PATH).
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-20}
LATENCY=${LATENCY:-200ms}
OUT=${OUT:-bench/RESULTS.md}
WORK=$(mktemp -d)
PIDS=()

cleanup() {
	exec 3>&- 2>/dev/null || true # closing the fakes' stdin stops them
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '%s\n' "$*" >&2; }

# --- build ---------------------------------------------------------------
say "building keyexec, fakes and timer…"
CGO_ENABLED=0 go build -o "$WORK/keyexec" ./cmd/keyexec
CGO_ENABLED=0 go build -ldflags "-s -w" -o "$WORK/keyexec-stripped" ./cmd/keyexec
go build -o "$WORK/fakes" ./bench/fakes
go build -o "$WORK/timeit" ./bench/timeit
KX=$WORK/keyexec

# --- servers -------------------------------------------------------------
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

MOTO=${MOTO:-$(command -v moto_server || echo /root/.pyenv/shims/moto_server)}
[ -x "$MOTO" ] || { say "moto_server not found: pip install 'moto[server]' or set MOTO"; exit 69; }
MOTO_PORT=$(free_port)
MOTO_URL=http://127.0.0.1:$MOTO_PORT
"$MOTO" -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 300); do curl -fs -o /dev/null "$MOTO_URL/moto-api/" && break; sleep 0.2; done
curl -fs -o /dev/null "$MOTO_URL/moto-api/" || { say "moto_server did not start:"; cat "$WORK/moto.log" >&2; exit 69; }

mkfifo "$WORK/fakes.in"
"$WORK/fakes" -moto "$MOTO_URL" -latency "$LATENCY" <"$WORK/fakes.in" >"$WORK/fakes.env" 2>"$WORK/fakes.log" &
PIDS+=($!)
exec 3>"$WORK/fakes.in"
for _ in $(seq 300); do grep -q '^READY$' "$WORK/fakes.env" && break; sleep 0.1; done
grep -q '^READY$' "$WORK/fakes.env" || { say "fakes did not start:"; cat "$WORK/fakes.log" >&2; exit 69; }
set -a
# shellcheck disable=SC1090
. <(grep '=' "$WORK/fakes.env")
AWS_ENDPOINT_URL=$MOTO_URL
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=AKIABENCH00000000000
AWS_SECRET_ACCESS_KEY=bench-secret-access-key
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$WORK/no-aws-config
AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials
set +a

# --- measuring -----------------------------------------------------------
declare -A MEAN SD
if command -v hyperfine >/dev/null; then
	TIMER="hyperfine $(hyperfine --version | cut -d' ' -f2)"
else
	TIMER="bench/timeit (hyperfine not installed)"
fi

# measure NAME COMMAND… : mean and standard deviation of COMMAND in ms.
measure() {
	local name=$1 line
	shift
	if command -v hyperfine >/dev/null; then
		hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "$WORK/h.json" -- "$*" >/dev/null
		line=$("$WORK/timeit" -hyperfine "$WORK/h.json")
	else
		line=$("$WORK/timeit" -runs "$RUNS" -warmup 3 -- "$@")
	fi
	read -r MEAN[$name] SD[$name] _ <<<"$line"
	say "  $(printf '%-28s' "$name") ${MEAN[$name]} ms ± ${SD[$name]}"
}

# config NAME SCHEME SPREAD N : a keyexec.yaml with N references.
config() {
	local f=$WORK/$1.yaml i
	{
		echo "provider: none"
		echo "secrets:"
		for ((i = 0; i < $4; i++)); do
			case $2-$3 in
			vault-one) echo "  V$i: vault://secret/bench/one#f$i" ;;
			vault-distinct) echo "  V$i: vault://secret/bench/s$i#v" ;;
			awssm-one) echo "  V$i: awssm://bench/one#f$i" ;;
			awssm-distinct) echo "  V$i: awssm://bench/s$i" ;;
			esac
		done
	} >"$f"
	echo "$f"
}

cat >"$WORK/vault.curl" <<EOF
silent
output = "/dev/null"
header = "X-Vault-Token: $VAULT_TOKEN"
url = "$VAULT_ADDR/v1/secret/data/bench/one"
EOF
cat >"$WORK/moto.curl" <<EOF
silent
output = "/dev/null"
request = "POST"
header = "X-Amz-Target: secretsmanager.GetSecretValue"
header = "Content-Type: application/x-amz-json-1.1"
header = "Authorization: AWS4-HMAC-SHA256 Credential=$AWS_ACCESS_KEY_ID/20250101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"
data = "{\"SecretId\":\"bench/one\"}"
url = "$MOTO_URL/"
EOF

say "(a) environment only"
measure true true
measure run-env "$KX run --no-probe -- true"

say "(b) references"
measure rt-vault "curl -K $WORK/vault.curl"
measure rt-moto "curl -K $WORK/moto.curl"
for scheme in vault awssm; do
	measure "$scheme-1" "$KX run --config $(config "$scheme-1" "$scheme" one 1) -- true"
	for n in 10 100; do
		for spread in one distinct; do
			measure "$scheme-$n-$spread" "$KX run --config $(config "$scheme-$n-$spread" "$scheme" "$spread" "$n") -- true"
		done
	done
done

say "(c) probes"
measure check-1 "$KX check --provider openai"
measure check-3 "$KX check --provider auto"
"$KX" check --provider auto | grep -c ' ok$' >"$WORK/probes" || true

# --- size, RSS, inits ----------------------------------------------------
size_mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rss_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
RSS_ENV=$(rss_kib "$KX" run --no-probe -- true)
RSS_VAULT=$(rss_kib "$KX" run --config "$WORK/vault-100-distinct.yaml" -- true)
RSS_AWS=$(rss_kib "$KX" run --config "$WORK/awssm-100-distinct.yaml" -- true)
RSS_TRUE=$(rss_kib true)
INITS=$(GODEBUG=inittrace=1 "$KX" version 2>&1 >/dev/null |
	awk '/^init /{ printf "%s %s %s %s\n", $2, $5, $8, $10 }' | sort -k2 -g -r | head -8)
INIT_TOTAL=$(GODEBUG=inittrace=1 "$KX" version 2>&1 >/dev/null | awk '/^init /{ ms += $5; kb += $8 } END { printf "%.3f ms, %.0f bytes", ms, kb }')

# --- report --------------------------------------------------------------
ms() { printf '%.1f' "${MEAN[$1]}"; }
pm() { printf '%.1f ± %.1f' "${MEAN[$1]}" "${SD[$1]}"; }
ratio() { awk -v a="${MEAN[$1]}" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
diff_ms() { awk -v a="${MEAN[$1]}" -v b="${MEAN[$2]}" 'BEGIN { printf "%+.1f", a - b }'; }
per() { awk -v a="${MEAN[$1]}" -v b="${MEAN[$2]}" -v n="$3" 'BEGIN { printf "%.2f", (a - b) / n }'; }
LAT_MS=$(awk -v l="$LATENCY" 'BEGIN { sub(/ms$/, "", l); print l }')

{
	echo "# keyexec start-up benchmark"
	echo
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
	echo "- $(go version)"
	echo "- keyexec $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)'), CGO_ENABLED=0"
	echo "- timer: $TIMER, $RUNS runs after 3 warm-up runs, no shell; mean ± standard deviation"
	echo "- command: \`RUNS=$RUNS LATENCY=$LATENCY bench/run.sh\`"
	echo
	echo "## (a) environment only"
	echo
	echo "| command | ms | added | ratio |"
	echo "|---|---|---|---|"
	echo "| \`true\` | $(pm true) | | 1 |"
	echo "| \`keyexec run --no-probe -- true\` | $(pm run-env) | $(diff_ms run-env true) ms | $(ratio run-env "${MEAN[true]}") |"
	echo
	echo "## (b) references, as a ratio to one bare round trip"
	echo
	echo "Bare round trip: one \`curl\` process making one request to the same server"
	echo "(Vault: $(pm rt-vault) ms; moto: $(pm rt-moto) ms). \"one\" reads N fields of one secret,"
	echo "\"distinct\" N secrets of one field each."
	echo
	echo "| source | refs | spread | ms | ratio to round trip |"
	echo "|---|---|---|---|---|"
	for scheme in vault awssm; do
		rt=rt-vault
		[ "$scheme" = awssm ] && rt=rt-moto
		echo "| $scheme | 1 | one | $(pm "$scheme-1") | $(ratio "$scheme-1" "${MEAN[$rt]}") |"
		for n in 10 100; do
			for spread in one distinct; do
				echo "| $scheme | $n | $spread | $(pm "$scheme-$n-$spread") | $(ratio "$scheme-$n-$spread" "${MEAN[$rt]}") |"
			done
		done
	done
	echo
	echo "Cost per extra reference (100 vs 1, ms): Vault one secret $(per vault-100-one vault-1 99),"
	echo "Vault distinct secrets $(per vault-100-distinct vault-1 99); AWS one secret $(per awssm-100-one awssm-1 99),"
	echo "AWS distinct secrets $(per awssm-100-distinct awssm-1 99)."
	echo
	echo "## (c) probes against fakes that add ${LATENCY} each"
	echo
	echo "| command | providers probed | ms | ratio to ${LATENCY} |"
	echo "|---|---|---|---|"
	echo "| \`keyexec check --provider openai\` | 1 | $(pm check-1) | $(ratio check-1 "$LAT_MS") |"
	echo "| \`keyexec check --provider auto\` | $(cat "$WORK/probes") | $(pm check-3) | $(ratio check-3 "$LAT_MS") |"
	echo
	echo "## Size and memory"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| binary, default | $(size_mib "$KX") MiB |"
	echo "| binary, \`-ldflags \"-s -w\"\` | $(size_mib "$WORK/keyexec-stripped") MiB |"
	echo "| peak RSS, \`run --no-probe -- true\` (environment) | $RSS_ENV KiB |"
	echo "| peak RSS, 100 distinct Vault secrets | $RSS_VAULT KiB |"
	echo "| peak RSS, 100 distinct AWS secrets | $RSS_AWS KiB |"
	echo "| peak RSS, \`true\` alone | $RSS_TRUE KiB |"
	echo
	echo "Peak RSS is the process's high-water mark (\`/usr/bin/time -f %M\`); exec keeps"
	echo "the PID, and \`true\` is far smaller, so it is keyexec's peak before the exec."
	echo
	echo "## Package init (\`GODEBUG=inittrace=1 keyexec version\`)"
	echo
	echo "Total: $INIT_TOTAL. Heaviest by clock:"
	echo
	echo "| package | ms | bytes | allocs |"
	echo "|---|---|---|---|"
	while read -r pkg clock bytes allocs; do
		echo "| $pkg | $clock | $bytes | $allocs |"
	done <<<"$INITS"
} >"$WORK/results.md"

if [ -f bench/NOTES.md ]; then
	{ echo; cat bench/NOTES.md; } >>"$WORK/results.md"
fi
cp "$WORK/results.md" "$OUT"
cat "$OUT"
