#!/usr/bin/env bash
# Training throughput of the DCGAN with each GEMM engine, interleaved: each
# round runs every engine once (1 and 2 threads), so that other jobs on a
# shared machine disturb all engines alike; prints the medians.
#
#   scripts/bench-engines.sh [rounds] [iters]
#
# Engines: gantrain's GEMM with each kernel this CPU runs (GEMM_KERNEL),
# and, when libopenblas-dev is installed, OpenBLAS with its own choice of
# kernels (OPENBLAS_CORETYPE unset) and with the machine's environment.
# Besides real images/s (wall time) it prints images per CPU-second of the
# whole process (warm-up and start-up included): steadier under load.
set -euo pipefail
rounds=${1:-5}
iters=${2:-15}
warmup=2
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/gantrain" ./cmd/gantrain
engines=()
for k in avx512 avx2; do
	if GEMM_KERNEL=$k "$out/gantrain" version >/dev/null 2>&1; then
		engines+=("gemm-$k")
	fi
done
if printf 'int main(void){return 0;}' | ${CC:-cc} -x c - -lopenblas -o /dev/null >/dev/null 2>&1; then
	go build -tags openblas -o "$out/gantrain-openblas" ./cmd/gantrain
	engines+=(openblas-own openblas-env)
fi
run() { # engine threads -> "imgs_per_s imgs_per_cpu_s"
	local e=$1 th=$2 cmd=("$out/gantrain") envs=()
	case $e in
	gemm-*) envs=(GEMM_KERNEL="${e#gemm-}") ;;
	openblas-own) cmd=("$out/gantrain-openblas"); envs=(-u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE) ;;
	openblas-env) cmd=("$out/gantrain-openblas") ;;
	esac
	/usr/bin/time -f '%U %S' -o "$out/time" env "${envs[@]}" "${cmd[@]}" bench --config configs/dcgan-paper.yaml \
		--set train.threads="$th" --iters "$iters" --warmup "$warmup" 2>/dev/null >"$out/json"
	local ips cpu
	ips=$(sed 's/.*"imgs_per_s":\([0-9.]*\).*/\1/' "$out/json")
	cpu=$(awk '{print $1+$2}' "$out/time")
	echo "$ips $(awk -v n=$(((iters + warmup) * 64)) -v c="$cpu" 'BEGIN{printf "%.0f", n/c}')"
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for th in 1 2; do
	for r in $(seq "$rounds"); do
		n=${#engines[@]}
		for i in $(seq 0 $((n - 1))); do
			e=${engines[$(((i + r) % n))]}
			echo "$e $(run "$e" "$th")" >>"$out/res$th"
		done
	done
	echo "threads=$th: medians of $rounds rounds (real images/s by wall time, per CPU-second)"
	for e in "${engines[@]}"; do
		w=$(awk -v e="$e" '$1==e{print $2}' "$out/res$th" | median)
		c=$(awk -v e="$e" '$1==e{print $3}' "$out/res$th" | median)
		printf '  %-14s %6s img/s  %6s img/cpu-s\n' "$e" "$w" "$c"
	done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
