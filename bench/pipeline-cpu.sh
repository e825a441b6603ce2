#!/usr/bin/env bash
# pipeline-cpu.sh: CPU seconds per article of each process of the pipeline,
# with R analyzer and R notifier replicas as separate processes on a
# standalone nats-server (file store), measured around one
# `newswatch bench pipeline` run (its relay phase included: the server does
# that work too, the workers sit idle through it).
#
#   bench/pipeline-cpu.sh [ARTICLES] [REPLICAS] [PORT]      (defaults 3000 1 4355)
#
# Run from the repository root. Builds into a temp dir, stops every process
# it started on exit. BENCHMARKS.md ("CPU per article per component") has
# figures.
set -euo pipefail
articles=${1:-3000}
replicas=${2:-1}
port=${3:-4355}
dir=$(mktemp -d /tmp/nwcpu.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT

go build -o "$dir/nats-server" github.com/nats-io/nats-server/v2
go build -o "$dir/newswatch" ./cmd/newswatch
go build -o "$dir/analyzer" ./cmd/analyzer
go build -o "$dir/notifier" ./cmd/notifier
printf 'nats: {url: nats://127.0.0.1:%s}\nlog: {level: warn}\n' "$port" >"$dir/worker.yaml"

"$dir/nats-server" -js -sd "$dir/js" -a 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
pids+=($!)
names=("nats-server")
for _ in $(seq 50); do
	(echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.1
done
for i in $(seq "$replicas"); do
	"$dir/analyzer" -config "$dir/worker.yaml" -http-listen "127.0.0.1:$((port + 2 * i))" >"$dir/analyzer$i.log" 2>&1 &
	pids+=($!)
	names+=("analyzer $i")
	"$dir/notifier" -config "$dir/worker.yaml" -http-listen "127.0.0.1:$((port + 2 * i + 1))" >"$dir/notifier$i.log" 2>&1 &
	pids+=($!)
	names+=("notifier $i")
done
for i in $(seq "$replicas"); do
	for p in $((port + 2 * i)) $((port + 2 * i + 1)); do
		for _ in $(seq 100); do
			curl -sf "http://127.0.0.1:$p/readyz" >/dev/null && break
			sleep 0.1
		done
	done
done

tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{printf "%.2f", ($14+$15)/t}' "/proc/$1/stat"; }
before=()
for p in "${pids[@]}"; do before+=("$(cpu "$p")"); done
echo "start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$dir/newswatch" bench pipeline --nats-url "nats://127.0.0.1:$port" --articles "$articles" | tr '\r' '\n' | grep -E '^(relay|pipeline|alert latency)'
for i in "${!pids[@]}"; do
	after=$(cpu "${pids[$i]}")
	awk -v n="${names[$i]}" -v a="$after" -v b="${before[$i]}" -v k="$articles" \
		'BEGIN { printf "%-12s %6.2f CPU-s  %5.0f µs per article\n", n, a-b, (a-b)*1e6/k }'
done
echo "end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
