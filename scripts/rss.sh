#!/usr/bin/env bash
# Resident memory over a whole run: starts the command, samples its VmRSS
# (and VmHWM, the peak) from /proc once a second until it exits, and prints
# the RSS at 10, 25, 50 and 75% of the run and at its end, the peak, and
# where the peak was reached.
#
#   scripts/rss.sh SAMPLES.tsv -- bin/gantrain train --config configs/emoji-dcgan.yaml --set output.dir=/tmp/rss64
#
# SAMPLES.tsv gets one line per sample: seconds since start, VmRSS KiB.
set -euo pipefail
if [[ $# -lt 3 || $2 != -- ]]; then
  echo "usage: scripts/rss.sh SAMPLES.tsv -- COMMAND [ARGS...]" >&2
  exit 2
fi
out=$1
shift 2
dir=$(dirname -- "$out")
[[ -d $dir && -w $dir ]] || { echo "rss.sh: $out: directory $dir is missing or not writable" >&2; exit 2; }
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
"$@" &
pid=$!
start=$(date +%s.%N)
hwm=0
while kill -0 "$pid" 2>/dev/null; do
  if status=$(cat "/proc/$pid/status" 2>/dev/null); then
    rss=$(awk '/^VmRSS:/ {print $2}' <<<"$status")
    h=$(awk '/^VmHWM:/ {print $2}' <<<"$status")
    if [[ -n $rss ]]; then
      awk -v now="$(date +%s.%N)" -v start="$start" -v rss="$rss" 'BEGIN { printf "%.1f\t%s\n", now - start, rss }' >>"$tmp"
      hwm=${h:-$hwm}
    fi
  fi
  sleep 1
done
rc=0
wait "$pid" || rc=$?
mv "$tmp" "$out"
trap - EXIT
awk -v hwm="$hwm" -F'\t' '
  { t[NR] = $1; r[NR] = $2; if ($2 > peak) { peak = $2; at = $1 } }
  END {
    if (NR == 0) { print "rss.sh: no samples"; exit 1 }
    printf "samples: %d over %.0f s\n", NR, t[NR]
    split("10 25 50 75", q, " ")
    for (i = 1; i <= 4; i++) { k = int(NR * q[i] / 100); if (k < 1) k = 1; printf "RSS at %s%%: %.1f MiB\n", q[i], r[k] / 1024 }
    printf "RSS at end: %.1f MiB\n", r[NR] / 1024
    printf "highest sample: %.1f MiB at %.0f s (%.0f%% of the run); peak (VmHWM): %.1f MiB\n", peak / 1024, at, 100 * at / t[NR], hwm / 1024
  }' "$out"
exit "$rc"
