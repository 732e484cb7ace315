#!/usr/bin/env bash
# Compares the CLI's full render (decode, render, check) of the largest Snowflake golden
# script with `sqlfluff parse` of the same output, measured in the same run.
# Goal: the CLI is at least 20 times faster.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=bin/integrations
[ -x "$bin" ] || go build -o "$bin" ./cmd/integrations
# The largest Snowflake create case: the expected.sql with the most lines.
best=$(wc -l golden/snowflake/create/*/expected.sql | grep -v total | sort -n | tail -1 | awk '{print $2}')
input=$(dirname "$best")/input.yaml
[ -f "$input" ] || input=$(dirname "$best")/input.json
out=$(mktemp --suffix=.sql)
trap 'rm -f "$out"' EXIT
now() { date +%s%N; }
runs=20
t0=$(now)
for _ in $(seq $runs); do "$bin" render --operation create -f "$input" -o "$out"; done
t1=$(now)
cli_ns=$(( (t1 - t0) / runs ))
t0=$(now)
sqlfluff parse --dialect snowflake "$out" >/dev/null
t1=$(now)
fluff_ns=$(( t1 - t0 ))
awk -v c="$cli_ns" -v f="$fluff_ns" -v inp="$input" 'BEGIN {
  printf "bench: cli render of %s %.1f ms, sqlfluff parse %.1f ms, cli is %.0fx faster (goal >= 20x)\n", inp, c/1e6, f/1e6, f/c }'
