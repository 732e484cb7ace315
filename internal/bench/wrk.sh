#!/usr/bin/env bash
# The outside benchmark of `make bench`: wrk (1 thread, 16 connections, loopback, 5 s a
# run) drives `integrations serve --sandbox` and the bare baseline (internal/bench/bare:
# a net/http server that checks the key and answers the same bytes), interleaved, in
# the same run, and prints each ratio with its goal (issue 10):
#   GET /integrations/{id}                      >= 0.5 of bare
#   POST /integrations/scripts/create (Snowflake with audit and impersonation) >= 0.25
# Unlike the in-process BenchmarkServer, the client is another process, so the figures
# are what an outside client sees. Traffic goes to 127.0.0.1 only.
# Needs wrk (Debian package wrk): installed with apt-get when run as root, else it says
# how.
set -euo pipefail
cd "$(dirname "$0")/../.."
GO="${GO:-go}"
DURATION="${WRK_DURATION:-5s}"
ROUNDS="${WRK_ROUNDS:-2}"

if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing wrk (apt-get install wrk)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
  else
    echo "bench: wrk is missing: install it with 'sudo apt-get install wrk' (Debian) and run again" >&2
    exit 2
  fi
fi

tmp="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$GO" build -o "$tmp/integrations" ./cmd/integrations
"$GO" build -o "$tmp/bare" ./internal/bench/bare
key="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
secret="$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"

# waitfor FILE REGEX: the first match of REGEX in FILE, within 60 s.
waitfor() {
  for _ in $(seq 1 600); do
    if m="$(grep -o -m1 -E "$2" "$1" 2>/dev/null)"; then
      echo "$m"
      return 0
    fi
    sleep 0.1
  done
  echo "bench: no '$2' in $1 after 60 s:" >&2
  cat "$1" >&2
  return 1
}

INTEGRATIONS_ADMIN_KEY="$key" INTEGRATIONS_SECRET_KEY="$secret" \
  "$tmp/integrations" serve --sandbox --addr 127.0.0.1:0 --db "$tmp/bench.db" 2>"$tmp/serve.log" &
pids+=($!)
server="$(waitfor "$tmp/serve.log" '"addr":"http://127\.0\.0\.1:[0-9]+"' | sed -E 's/.*"(http[^"]+)"/\1/')"

s3='{"type":"Native S3","autoBootstrap":false,"config":{"name":"bench","awsAccountId":"123456789012","awsRegion":"us-east-1","awsLocationRole":"arn:aws:iam::123456789012:role/r","awsLocationPath":"s3://bench/","authenticationType":"accessKey","awsAccessKeyId":"AKIA","awsSecretAccessKey":"bench-secret"}}'
id="$(curl -sf -H "Authorization: $key" -H 'Content-Type: application/json' -d "$s3" "$server/integrations" | sed -E 's/.*"id":"([0-9]+)".*/\1/')"
for _ in $(seq 1 300); do
  curl -sf -H "Authorization: $key" "$server/integrations/$id/status" | grep -q '"enabled"' && break
  sleep 0.1
done
curl -sf -H "Authorization: $key" "$server/integrations/$id" >"$tmp/get.json"

snowflake='{"type":"Snowflake","autoBootstrap":false,"config":{"host":"organization.us-east-1.snowflakecomputing.com","warehouse":"SAMPLE_WAREHOUSE","database":"IMMUTA_DB","audit":{"enabled":true},"impersonation":{"enabled":true,"role":"IMMUTA_IMPERSONATION"},"authenticationType":"userPassword","username":"IMMUTA_SYSTEM_ACCOUNT","password":"Abc1234-secret-pw"}}'
curl -sf -H "Authorization: $key" -H 'Content-Type: application/json' -d "$snowflake" "$server/integrations/scripts/create" >"$tmp/script.json"
cat >"$tmp/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[$snowflake]]
EOF

"$tmp/bare" -key "$key" -body "$tmp/get.json" >"$tmp/bare-get.log" 2>&1 &
pids+=($!)
bareget="http://$(waitfor "$tmp/bare-get.log" '127\.0\.0\.1:[0-9]+')"
"$tmp/bare" -key "$key" -body "$tmp/script.json" >"$tmp/bare-post.log" 2>&1 &
pids+=($!)
barepost="http://$(waitfor "$tmp/bare-post.log" '127\.0\.0\.1:[0-9]+')"

# rps URL [wrk args...]: requests per second of one wrk run.
rps() {
  local url="$1"
  shift
  local out
  out="$(wrk -t1 -c16 -d"$DURATION" -H "Authorization: $key" "$@" "$url")"
  if echo "$out" | grep -q 'Non-2xx'; then
    echo "bench: $url answered errors:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "$out" | awk '/^Requests\/sec:/ {print $2}'
}

# ratio NAME GOAL SERVER_URL BARE_URL [wrk args...]: the rounds interleaved, summed.
ratio() {
  local name="$1" goal="$2" srv="$3" base="$4"
  shift 4
  local s=0 b=0
  for _ in $(seq 1 "$ROUNDS"); do
    b="$(awk -v a="$b" -v c="$(rps "$base" "$@")" 'BEGIN { print a + c }')"
    s="$(awk -v a="$s" -v c="$(rps "$srv" "$@")" 'BEGIN { print a + c }')"
  done
  awk -v n="$name" -v s="$s" -v b="$b" -v r="$ROUNDS" -v g="$goal" \
    'BEGIN { printf "bench (wrk, outside client): %s: %.0f req/s, bare %.0f req/s, ratio %.2f (goal >= %s)\n", n, s/r, b/r, s/b, g }'
}

ratio "GET /integrations/{id}" 0.5 "$server/integrations/$id" "$bareget"
ratio "POST /integrations/scripts/create ($(wc -c <"$tmp/script.json") B answer)" 0.25 \
  "$server/integrations/scripts/create" "$barepost" -s "$tmp/post.lua"
