#!/bin/sh
# sgan-table.sh OUT CONFIG LABELED SEEDS [--set k=v ...]   (SEEDS: 1,2,3)
#
# Trains the semi-supervised GAN of CONFIG with LABELED labels and, beside
# it, the supervised-only baseline (the same D on the labelled images
# alone), once per seed of SEEDS, evaluates each with `gantrain eval
# --accuracy` and appends one line per run to OUT/results.tsv:
#   config  labeled  variant  seed  accuracy  seconds
# Runs go to OUT/<config>-<labeled>-<variant>-<seed>; a run whose accuracy
# is already in results.tsv is not repeated. `sgan-table.sh OUT` alone
# prints the Markdown table (mean ± sample standard deviation, min–max).
set -eu
out=$1
bin=${GANTRAIN:-bin/gantrain}
mkdir -p "$out"
res=$out/results.tsv
if [ $# -eq 1 ]; then
	printf '| config | labels | method | test accuracy, mean ± sd | min–max | seeds | training time per run |\n'
	printf '|---|---:|---|---:|---:|---:|---:|\n'
	awk -F'\t' '{k=$1"\t"$2"\t"$3; n[k]++; s[k]+=$5; q[k]+=$5*$5; t[k]+=$6
		if (!(k in lo) || $5<lo[k]) lo[k]=$5; if (!(k in hi) || $5>hi[k]) hi[k]=$5}
		END {for (k in n) {m=s[k]/n[k]; v=(n[k]>1)?(q[k]-n[k]*m*m)/(n[k]-1):0; if (v<0) v=0
		split(k, f, "\t"); printf "| %s | %d | %s | %.2f%% ± %.2f | %.2f–%.2f%% | %d | %.0f s |\n", f[1], f[2], f[3], 100*m, 100*sqrt(v), 100*lo[k], 100*hi[k], n[k], t[k]/n[k]}}' "$res" | sort
	exit 0
fi
cfg=$2 labeled=$3 seeds=$4
shift 4
name=$(basename "$cfg" .yaml)
for seed in $(echo "$seeds" | tr , " "); do
	for variant in sgan supervised_only; do
		if grep -q "^$name	$labeled	$variant	$seed	" "$res" 2>/dev/null; then continue; fi
		dir=$out/$name-$labeled-$variant-$seed
		rm -rf "$dir"
		sup=false
		[ $variant = supervised_only ] && sup=true
		start=$(date +%s)
		"$bin" train --config "$cfg" --set seed="$seed" --set data.labeled="$labeled" \
			--set train.supervised_only=$sup --set output.dir="$dir" "$@" >"$dir.log" 2>&1
		secs=$(($(date +%s) - start))
		acc=$("$bin" eval --run "$dir" --accuracy 2>/dev/null | sed -n 's/.*"accuracy":\([0-9.e-]*\).*/\1/p')
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$labeled" "$variant" "$seed" "$acc" "$secs" >>"$res"
		echo "$name $labeled $variant seed $seed: accuracy $acc, $secs s" >&2
	done
done
