#!/usr/bin/env bash
# gantrain against its PyTorch peer on a DCGAN, back to back: each round
# runs `gantrain bench` (and, on CPUs with AVX512_BF16, the same with
# train.precision: bf16) and the peer in each PyTorch setting once, for 1
# and 2 threads; prints the medians (real images/s over the timed iterations,
# wall time) and gantrain's ratio to PyTorch's best fp32 and best bf16
# setting. size 28: the MNIST DCGAN (configs/dcgan-paper.yaml); 32 or 64: the RGB
# pytorch/examples DCGAN of configs/emoji-dcgan.yaml (data.size 32 or 64;
# synthetic batches, so data/emoji is not needed). Needs python3-torch
# (apt-get install python3-torch). `make bench-compare [PEER_SIZE=64]` runs it.
#
#   scripts/peer/compare.sh [rounds] [iters] [size]
set -euo pipefail
rounds=${1:-3}
iters=${2:-15}
size=${3:-28}
case $size in
28) bench=(--config configs/dcgan-paper.yaml) ;;
32 | 64) bench=(--config configs/emoji-dcgan.yaml --set data.size="$size") ;;
*)
	echo "compare.sh: size must be 28, 32 or 64, not $size" >&2
	exit 2
	;;
esac
cd "$(dirname "$0")/../.."
# Debian's python3-torch lives in the system Python, which another python3
# earlier on PATH (pyenv, a venv) may hide.
py=${PYTHON:-python3}
if ! "$py" -c 'import torch' 2>/dev/null && [ -z "${PYTHON:-}" ]; then
	py=/usr/bin/python3
fi
if ! "$py" -c 'import torch' 2>/dev/null; then
	echo "compare.sh: $py cannot import torch (apt-get install python3-torch, or set PYTHON)" >&2
	exit 1
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
make -s build BIN="$out/gantrain" >/dev/null
echo "DCGAN at $size px; CPU: $(lscpu | sed -n 's/^Model name: *//p'); $("$out/gantrain" version | sed -n 's/^BLAS: //p')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
settings=(gantrain fp32 fp32-shared bf16 bf16-shared)
# gantrain-bf16 (train.precision: bf16) where this CPU has AVX512_BF16.
if "$out/gantrain" version | grep -q '^bf16 products: available'; then
	settings+=(gantrain-bf16)
fi
run() { # setting threads -> images/s
	local s=$1 th=$2 flags=()
	case $s in
	gantrain | gantrain-bf16)
		[ "$s" = gantrain-bf16 ] && flags+=(--set train.precision=bf16)
		"$out/gantrain" bench "${bench[@]}" --set train.threads="$th" "${flags[@]}" --iters "$iters" --warmup 2 2>/dev/null |
			sed 's/.*"imgs_per_s":\([0-9.]*\).*/\1/'
		return ;;
	*-shared) flags+=(--shared-fake) ;;
	esac
	case $s in bf16*) flags+=(--bf16) ;; esac
	"$py" scripts/peer/dcgan.py --size "$size" --threads "$th" --iters "$iters" --warmup 2 "${flags[@]}" |
		sed 's/.*"imgs_per_s": \([0-9.]*\).*/\1/'
}
median() { sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for th in 1 2; do
	for r in $(seq "$rounds"); do
		n=${#settings[@]}
		for i in $(seq 0 $((n - 1))); do
			s=${settings[$(((i + r) % n))]}
			echo "$s $(run "$s" "$th")" >>"$out/res$th"
		done
	done
	echo "threads=$th: medians of $rounds rounds, real images/s"
	declare -A med=()
	for s in "${settings[@]}"; do
		med[$s]=$(awk -v s="$s" '$1==s{print $2}' "$out/res$th" | median)
		printf '  %-12s %7s\n' "$s" "${med[$s]}"
	done
	awk -v g="${med[gantrain]}" -v a="${med[fp32]}" -v b="${med[fp32-shared]}" -v c="${med[bf16]}" -v d="${med[bf16-shared]}" 'BEGIN{
		f = a > b ? a : b; h = c > d ? c : d
		printf "  gantrain / PyTorch best fp32: %.2f×   / PyTorch best bf16: %.2f×\n", g / f, g / h }'
	if [ -n "${med[gantrain-bf16]:-}" ]; then
		awk -v g="${med[gantrain-bf16]}" -v c="${med[bf16]}" -v d="${med[bf16-shared]}" -v f="${med[gantrain]}" 'BEGIN{
			h = c > d ? c : d
			printf "  gantrain bf16 / PyTorch best bf16: %.2f×   / gantrain fp32: %.2f×\n", g / h, g / f }'
	fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
