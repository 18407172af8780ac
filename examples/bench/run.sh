#!/usr/bin/env bash
# The atmos-auth benchmark: the cached path of `credential-process` and `env` side by side with
# what users would run instead (AWS CLI v1, boto3 through a `credential_process` profile,
# aws-sso-util), the cold path through the emulator, concurrency with single-flight, peak RSS,
# binary size and build times. One run, one machine; figures go to examples/bench/RESULTS.md.
#
#   examples/bench/run.sh [--with-cold-build] [--runs N] [--no-build] [--org-size AxP]
#
#   --with-cold-build  also time a release build from scratch in a fresh target dir (4-6 min on
#                      2 cores)
#   --runs N           hyperfine runs per command (default 50; the AWS CLI and Python rows use
#                      N/5, at least 10)
#   --no-build         use the existing release build (skips the incremental build timing)
#   --org-size AxP     accounts x permission sets of the auto-provisioning rows (default 500x20)
#
# Needs: apt-get install -y hyperfine gnome-keyring dbus keyutils time; the AWS CLI and boto3
# for the comparison rows (skipped, and said so, when missing). aws-sso-util is tried in a venv.
#
# Everything runs in throwaway state: tests/keyring-session.sh gives the run a private D-Bus
# session with its own unlocked gnome-keyring and a new kernel session keyring, and HOME, XDG
# directories and the AWS config files point into a temporary directory. The start URL is unique
# to the run, so its kernel-keyring entries (purged at the end) never mix with anyone else's.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ -z "${ATMOS_BENCH_INNER:-}" ]]; then
  export ATMOS_BENCH_INNER=1
  exec "$repo/tests/keyring-session.sh" "$0" "$@"
fi

with_cold_build=0
runs=50
build=1
org_size=500x20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --with-cold-build) with_cold_build=1 ;;
    --runs) runs="$2"; shift ;;
    --no-build) build=0 ;;
    --org-size) org_size="$2"; shift ;;
    -h | --help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument \`$1\`" >&2; exit 2 ;;
  esac
  shift
done
slow_runs=$(( runs / 5 > 10 ? runs / 5 : 10 ))

for tool in hyperfine keyctl python3; do
  command -v "$tool" >/dev/null || { echo "\`$tool\` not found: apt-get install -y hyperfine keyutils python3" >&2; exit 2; }
done
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time not found: apt-get install -y time" >&2; exit 2; }

work="$(mktemp -d /tmp/atmos-bench.XXXXXX)"
results="$work/results"
mkdir -p "$results" "$work/bin"
emulator_pid=""
# Two start URLs: the default-store rows and the concurrency runs use the first; the
# single-backend rows (`keyutils`, `secret-service`, `file`) use the second, so role credentials
# those save in the Secret Service are never found by the default store's fallback read.
start_url="https://bench-$$-$RANDOM.awsapps.com/start"
kinds_start_url="https://bench-kinds-$$-$RANDOM.awsapps.com/start"
# Empties the role-credential cache of the default store: the kernel keys of these start URLs,
# and the sealed files of the runtime-dir tier (this run's private XDG_RUNTIME_DIR, so all of
# them are the bench's own).
purge_role_credentials() {
  local start
  for start in "$@"; do
    keyctl purge -p user "atmos-auth:role-credentials:us-east-1|$start|" >/dev/null 2>&1 || true
  done
  if [[ -n "${XDG_RUNTIME_DIR:-}" ]]; then
    rm -f "$XDG_RUNTIME_DIR/atmos-auth/role-credentials/"*
  fi
}
# Further emulators and start URLs that blocks below add, cleaned up with the first.
extra_pids=() extra_start_urls=()
cleanup() {
  if [[ -n "$emulator_pid" ]]; then kill "$emulator_pid" 2>/dev/null || true; fi
  for pid in "${extra_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  purge_role_credentials "$start_url" "$kinds_start_url" "${extra_start_urls[@]}"
  rm -rf "$work"
}
trap cleanup EXIT
note() { printf '%s\n' "$*" >>"$results/notes.txt"; printf '== %s\n' "$*"; }
ms() { python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e6:.1f}')" "$@"; }

# ---------------------------------------------------------------------------------------------
# Build, binary size, build times. The binaries are copied out of target/, so a build by someone
# else during the run cannot swap them.
cd "$repo"
if [[ $build -eq 1 ]]; then
  echo "== release build"
  cargo build --quiet --release --bin atmos-auth --example aws-emulator
  touch src/lib.rs
  started=$(date +%s%N)
  cargo build --quiet --release --bin atmos-auth
  echo "incremental_build_s $(python3 -c "print(f'{($(date +%s%N) - $started) / 1e9:.1f}')")" >>"$results/scalars"
fi
if [[ $with_cold_build -eq 1 ]]; then
  echo "== cold release build into a fresh target dir (several minutes)"
  cold_target="$(mktemp -d /tmp/atmos-bench-target.XXXXXX)"
  started=$(date +%s%N)
  CARGO_TARGET_DIR="$cold_target" cargo build --quiet --release --bin atmos-auth
  echo "cold_build_s $(python3 -c "print(f'{($(date +%s%N) - $started) / 1e9:.1f}')")" >>"$results/scalars"
  rm -rf "$cold_target"
fi
cp target/release/atmos-auth target/release/examples/aws-emulator "$work/bin/"
bin="$work/bin/atmos-auth"
cp "$bin" "$work/bin/atmos-auth.stripped"
strip "$work/bin/atmos-auth.stripped" 2>/dev/null || true
echo "binary_bytes $(stat -c %s "$work/bin/atmos-auth.stripped")" >>"$results/scalars"

# ---------------------------------------------------------------------------------------------
# Isolated state, the emulator, a profile with ten identities (every account and permission set
# of the emulator's demo organisation).
export XDG_CONFIG_HOME="$work/xdg/config" XDG_CACHE_HOME="$work/xdg/cache" XDG_STATE_HOME="$work/xdg/state"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_STATE_HOME"
"$work/bin/aws-emulator" --port 0 --auto-approve >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/emulator.log" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/emulator.log" | head -1)"
[[ -n "$url" ]] || { cat "$work/emulator.log"; echo "the emulator did not start" >&2; exit 1; }
export AWS_ENDPOINT_URL="$url"
calls() { python3 -c "import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + '/_emulator/calls'))['by_op'].get(sys.argv[2], 0))" "$url" "$1"; }

identities=(
  core-identity/ReadOnlyAccess core-identity/TerraformStateAccess
  plat-dev/TerraformApplyAccess plat-dev/TerraformPlanAccess plat-dev/ReadOnlyAccess
  plat-staging/TerraformPlanAccess plat-staging/ReadOnlyAccess
  plat-prod/TerraformPlanAccess plat-prod/ReadOnlyAccess core-audit/ReadOnlyAccess
)
config="$work/config"
mkdir -p "$config/profiles/bench" "$config/profiles/cold" "$config/profiles/kinds" "$config/profiles/kinds-cold"
{
  cat <<EOF
accounts:
  core-identity: "111111111111"
  plat-dev: "222222222222"
  plat-staging: "333333333333"
  plat-prod: "444444444444"
  core-audit: "555555555555"
auth:
  providers:
    sso:
      kind: aws/iam-identity-center
      region: us-east-1
      start_url: $start_url
  identities:
EOF
  for identity in "${identities[@]}"; do
    cat <<EOF
    $identity:
      kind: aws/permission-set
      via: {provider: sso}
      principal: {name: ${identity#*/}, account: {name: ${identity%/*}}}
EOF
  done
} >"$config/atmos.yaml"
echo "description: cached-path benchmark" >"$config/profiles/bench/atmos.yaml"
# A margin longer than the emulator's one-hour credentials: every call refreshes them, with the
# SSO session still valid, so each run is a cold path with its upstream round trip.
printf 'description: cold-path benchmark\nauth:\n  refresh_margin: 2h\n' >"$config/profiles/cold/atmos.yaml"
kinds_provider="  providers:\n    sso: {kind: aws/iam-identity-center, region: us-east-1, start_url: \"$kinds_start_url\"}\n"
printf "description: single-backend stores\nauth:\n$kinds_provider" >"$config/profiles/kinds/atmos.yaml"
printf "description: single-backend stores, cold\nauth:\n  refresh_margin: 2h\n$kinds_provider" >"$config/profiles/kinds-cold/atmos.yaml"
export ATMOS_CLI_CONFIG_PATH="$config" ATMOS_PROFILE=bench
export ATMOS_KEYRING_PASSWORD="atmos-auth-benchmark-password"
identity=plat-dev/TerraformApplyAccess

echo "== login and first fetch in every store"
for kind in system secret-service keyutils file; do
  profile=$([[ $kind == system ]] && echo bench || echo kinds)
  ATMOS_PROFILE=$profile ATMOS_KEYRING_TYPE=$kind "$bin" login --no-browser >/dev/null 2>"$work/login.log" || { cat "$work/login.log"; exit 1; }
  ATMOS_PROFILE=$profile ATMOS_KEYRING_TYPE=$kind "$bin" credential-process "$identity" >/dev/null
done

# ---------------------------------------------------------------------------------------------
# hyperfine: one invocation per row, so each row's environment is set here and not by a shell
# inside the measurement (-N: no intermediate shell).
bench() {
  local name="$1" count="$2"
  shift 2
  hyperfine -N --style none --warmup 3 --runs "$count" --export-json "$results/$name.json" "$@" >/dev/null
  printf '   %-44s %s ms\n' "$name" "$(python3 -c "import json, sys; print(f\"{json.load(open(sys.argv[1]))['results'][0]['median'] * 1e3:.2f}\")" "$results/$name.json")"
}

echo "== cached path"
bench "atmos-auth credential-process (system)" "$runs" "$bin credential-process $identity"
bench "atmos-auth env (system)" "$runs" "$bin env $identity"
for kind in keyutils secret-service file; do
  ATMOS_PROFILE=kinds ATMOS_KEYRING_TYPE=$kind bench "atmos-auth credential-process ($kind)" "$runs" "$bin credential-process $identity"
done
bench "atmos-auth --version (process start only)" "$runs" "$bin --version"

# Issue 14: a command under `exec --server` asks the endpoint as the SDKs do (the endpoint closes
# each connection after its answer, so each request includes a loopback connect); the credentials
# are cached in atmos-auth, so this is the whole cost of a refresh check, against the process
# spawn of a `credential_process` profile above.
served="atmos-auth exec --server, one cached request"
"$bin" exec --server "$identity" -- python3 - "$results/$served.json" "$(( runs * 20 ))" <<'PY'
import http.client, json, os, sys, time, urllib.parse
url = urllib.parse.urlsplit(os.environ["AWS_CONTAINER_CREDENTIALS_FULL_URI"])
headers = {"Authorization": os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"]}
connection = http.client.HTTPConnection(url.hostname, url.port)
def request():
    connection.request("GET", url.path, headers=headers)
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
for _ in range(3):
    request()
times = []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    request()
    times.append(time.perf_counter() - started)
json.dump({"results": [{"median": sorted(times)[len(times) // 2], "times": times}]}, open(sys.argv[1], "w"))
PY
printf '   %-44s %s ms\n' "$served" "$(python3 -c "import json, sys; print(f\"{json.load(open(sys.argv[1]))['results'][0]['median'] * 1e3:.3f}\")" "$results/$served.json")"

echo "== the alternatives"
# pyenv shims add a bash script and `pyenv exec` (tens of ms) to every call: measure the real
# executables, not the shims.
real() { if command -v pyenv >/dev/null && pyenv which "$1" >/dev/null 2>&1; then pyenv which "$1"; else command -v "$1"; fi; }
aws="$(real aws || true)"
python="$(real python3)"
export AWS_CONFIG_FILE="$work/aws/config" AWS_SHARED_CREDENTIALS_FILE="$work/aws/credentials"
mkdir -p "$work/aws"
cat >"$AWS_CONFIG_FILE" <<EOF
[profile static]
region = us-east-1
[profile atmos]
region = us-east-1
credential_process = $bin credential-process $identity
[profile ssoutil]
region = us-east-1
credential_process = $work/venv/bin/aws-sso-util credential-process --profile ssoutil
sso_start_url = $start_url
sso_region = us-east-1
sso_account_id = 222222222222
sso_role_name = TerraformApplyAccess
EOF
# The static profile holds credentials the emulator issued, so `sts get-caller-identity` with it
# is accepted.
"$bin" credential-process "$identity" | python3 -c '
import json, sys
c = json.load(sys.stdin)
print("[static]")
print("aws_access_key_id = " + c["AccessKeyId"])
print("aws_secret_access_key = " + c["SecretAccessKey"])
print("aws_session_token = " + c["SessionToken"])' >"$AWS_SHARED_CREDENTIALS_FILE"
if [[ -n "$aws" ]]; then
  if "$aws" configure export-credentials help >/dev/null 2>&1; then
    bench "aws configure export-credentials (static profile)" "$slow_runs" "$aws configure export-credentials --profile static"
  else
    note "AWS CLI $("$aws" --version 2>&1 | cut -d' ' -f1) has no \`configure export-credentials\` (CLI v2 only): measured \`aws configure get aws_access_key_id --profile static\` (config read, no network) and \`aws sts get-caller-identity --profile static\` (against the emulator) instead."
    bench "aws configure get (static profile)" "$slow_runs" "$aws configure get aws_access_key_id --profile static"
    bench "aws sts get-caller-identity (static, emulator)" "$slow_runs" "$aws sts get-caller-identity --profile static"
  fi
else
  note "no AWS CLI installed: its rows are missing."
fi
if "$python" -c "import boto3" 2>/dev/null; then
  bench "boto3 credential_process -> atmos-auth" "$slow_runs" \
    "$python -c \"import boto3; boto3.Session(profile_name='atmos').get_credentials().get_frozen_credentials()\""
  bench "python3 -c 'import boto3' (baseline)" "$slow_runs" "$python -c \"import boto3\""
else
  note "boto3 is not installed: its rows are missing."
fi
echo "== aws-sso-util (in a venv)"
if "$python" -m venv "$work/venv" >/dev/null 2>&1 && "$work/venv/bin/pip" install --quiet aws-sso-util >"$work/pip.log" 2>&1; then
  if "$work/venv/bin/aws-sso-util" login --profile ssoutil --headless >"$work/ssoutil-login.log" 2>&1 \
    && "$work/venv/bin/aws-sso-util" credential-process --profile ssoutil >/dev/null 2>"$work/ssoutil.log"; then
    bench "aws-sso-util credential-process" "$slow_runs" "$work/venv/bin/aws-sso-util credential-process --profile ssoutil"
  else
    note "aws-sso-util $("$work/venv/bin/aws-sso-util" --version 2>/dev/null) installed but did not work against the emulator: $(tail -n 3 "$work/ssoutil-login.log" "$work/ssoutil.log" 2>/dev/null | tr '\n' ' ' | cut -c1-300)"
  fi
else
  note "aws-sso-util did not pip-install (offline?): $(tail -n 1 "$work/pip.log" 2>/dev/null)"
fi

echo "== cold path (credentials too old, SSO session valid: one GetRoleCredentials per run)"
before=$(calls GetRoleCredentials)
ATMOS_PROFILE=cold bench "atmos-auth credential-process (cold, system)" "$slow_runs" "$bin credential-process $identity"
ATMOS_PROFILE=kinds-cold ATMOS_KEYRING_TYPE=keyutils bench "atmos-auth credential-process (cold, keyutils)" "$slow_runs" "$bin credential-process $identity"
echo "cold_upstream_calls $(( $(calls GetRoleCredentials) - before ))" >>"$results/scalars"
echo "cold_runs $(( 2 * (slow_runs + 3) ))" >>"$results/scalars"

# ---------------------------------------------------------------------------------------------
echo "== concurrency: N credential-process calls at once, empty cache"
for n in 50 200; do
  for scope in 1 10; do
    for rep in 1 2 3; do
      purge_role_credentials "$start_url"
      before=$(calls GetRoleCredentials)
      started=$(date +%s%N)
      pids=()
      for i in $(seq 0 $((n - 1))); do
        "$bin" credential-process "${identities[$((i % scope))]}" >/dev/null 2>>"$work/concurrent.err" &
        pids+=($!)
      done
      failed=0
      for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
      wall=$(ms "$started" "$(date +%s%N)")
      upstream=$(( $(calls GetRoleCredentials) - before ))
      echo "concurrent $n $scope $rep $wall $upstream $failed" >>"$results/concurrency"
      printf '   %3d calls, %2d identities, run %d: %s ms, %d GetRoleCredentials, %d failed\n' "$n" "$scope" "$rep" "$wall" "$upstream" "$failed"
    done
  done
done

# ---------------------------------------------------------------------------------------------
# Issue 13: 50 identities of an ordinary user (nobody: 20,000 bytes of kernel key quota, about a
# dozen role credentials) in the default store, whose role credentials go to the runtime-dir
# tier; and 50 concurrent first requests for those 50 identities with 50 ms per
# GetRoleCredentials (the emulator's delay fault), SSO session valid. Runs in a keyring session
# of nobody's own (tests/keyring-session.sh, which gives it a 0700 XDG_RUNTIME_DIR), against a
# second emulator whose organisation has 10 accounts × 5 permission sets.
echo "== 50 identities as an ordinary user (role-credential tier), 50 concurrent first requests"
tier_uid=65534
chmod 711 "$work"
tier="$work/tier"
mkdir -p "$tier/out" "$tier/config/profiles/fifty"
cp "$bin" "$tier/atmos-auth"
python3 - "$tier" "https://bench-tier-$$-$RANDOM.awsapps.com/start" <<'PY'
import json, sys
tier, start_url = sys.argv[1], sys.argv[2]
sets = ["Admin", "Apply", "Plan", "Read", "State"]
accounts = [{"id": f"{100000000000 + i:012d}", "name": f"acct-{i:02d}", "email": f"aws+{i}@example.com",
             "permission_sets": sets} for i in range(10)]
json.dump({"user": "bench.user", "accounts": accounts}, open(f"{tier}/org.json", "w"))
lines = ["accounts:"] + [f'  {a["name"]}: "{a["id"]}"' for a in accounts]
lines += ["auth:", "  providers:", "    sso: {kind: aws/iam-identity-center, region: us-east-1, "
          f"start_url: \"{start_url}\"}}", "  identities:"]
names = [f'{a["name"]}/{s}' for a in accounts for s in sets]
for name in names:
    account, role = name.split("/")
    lines.append(f"    {name}: {{kind: aws/permission-set, via: {{provider: sso}}, "
                 f"principal: {{name: {role}, account: {{name: {account}}}}}}}")
open(f"{tier}/config/atmos.yaml", "w").write("\n".join(lines) + "\n")
open(f"{tier}/config/profiles/fifty/atmos.yaml", "w").write("description: fifty identities\n")
open(f"{tier}/names", "w").write("\n".join(names) + "\n")
PY
"$work/bin/aws-emulator" --port 0 --auto-approve --org "$tier/org.json" >"$tier/emulator.log" 2>&1 &
tier_emulator_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tier/emulator.log" && break; sleep 0.1; done
tier_url="$(sed -n 's/^listening on //p' "$tier/emulator.log" | head -1)"
chown -R "$tier_uid:$tier_uid" "$tier"
cat >"$tier/inner.sh" <<'INNER'
set -euo pipefail
cd "$TIER"
export ATMOS_CLI_CONFIG_PATH="$TIER/config" ATMOS_PROFILE=fifty XDG_CACHE_HOME="$HOME/cache"
mapfile -t names <names
calls() { python3 -c "import json, sys, urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1] + '/_emulator/calls'))['by_op'].get(sys.argv[2], 0))" "$AWS_ENDPOINT_URL" "$1"; }
./atmos-auth login --no-browser >/dev/null 2>out/login.log
for name in "${names[@]}"; do ./atmos-auth credential-process "$name" >/dev/null; done
before=$(calls GetRoleCredentials)
for name in "${names[@]}"; do ./atmos-auth credential-process "$name" >/dev/null; done
echo "tier_files $(find "$XDG_RUNTIME_DIR/atmos-auth/role-credentials" -type f ! -name '.*' | wc -l)" >>out/scalars
echo "tier_second_pass_upstream_calls $(( $(calls GetRoleCredentials) - before ))" >>out/scalars
hyperfine -N --style none --warmup 3 --runs "$RUNS" --export-json "out/cached.json" \
  "./atmos-auth credential-process ${names[17]}" >/dev/null
for rep in 1 2 3; do
  rm -f "$XDG_RUNTIME_DIR/atmos-auth/role-credentials/"*
  python3 -c "import json, sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1] + '/_emulator/fault', json.dumps({'op': 'GetRoleCredentials', 'fault': {'delay_ms': 50}, 'count': 50}).encode(), method='POST'))" "$AWS_ENDPOINT_URL"
  before=$(calls GetRoleCredentials)
  started=$(date +%s%N)
  pids=()
  for name in "${names[@]}"; do ./atmos-auth credential-process "$name" >/dev/null 2>>out/concurrent.err & pids+=($!); done
  failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
  wall=$(python3 -c "import sys; print(f'{(int(sys.argv[2]) - int(sys.argv[1])) / 1e6:.1f}')" "$started" "$(date +%s%N)")
  echo "concurrent 50 50 $rep $wall $(( $(calls GetRoleCredentials) - before )) $failed" >>out/concurrency
done
keyctl purge -s user 'atmos-auth:role-credentials:#role-tier-key' >/dev/null 2>&1 || true
INNER
setpriv --reuid="$tier_uid" --regid="$tier_uid" --clear-groups -- env -i PATH="$PATH" HOME="$tier" \
  TIER="$tier" RUNS="$runs" AWS_ENDPOINT_URL="$tier_url" ATMOS_BENCH_INNER=1 \
  "$repo/tests/keyring-session.sh" bash "$tier/inner.sh" 2>"$tier/out/session.err" \
  || { cat "$tier/out/session.err" "$tier/out/login.log" 2>/dev/null; kill "$tier_emulator_pid"; exit 1; }
kill "$tier_emulator_pid" 2>/dev/null || true
cp "$tier/out/cached.json" "$results/atmos-auth credential-process (tier, 50 identities, nobody).json"
cat "$tier/out/scalars" >>"$results/scalars"
cat "$tier/out/concurrency" >>"$results/concurrency"
printf '   %-44s %s ms\n' "cached call, 50 identities cached, nobody" "$(python3 -c "import json, sys; print(f\"{json.load(open(sys.argv[1]))['results'][0]['median'] * 1e3:.2f}\")" "$tier/out/cached.json")"
sed 's/^concurrent 50 50 \([0-9]\) \([0-9.]*\) \([0-9]*\) \([0-9]*\)/   50 first requests, 50 identities, 50 ms latency, run \1: \2 ms, \3 GetRoleCredentials, \4 failed/' "$tier/out/concurrency"
note "The 50-identity rows (issue 13) run as nobody in a keyring session of its own, against an organisation of 10 accounts × 5 permission sets; the concurrent row adds 50 ms to every GetRoleCredentials."

echo "== peak RSS of a cached call (/usr/bin/time -v, 10 runs each)"
rss() {
  local name="$1"
  shift
  for _ in $(seq 10); do
    /usr/bin/time -v "$@" 2>&1 >/dev/null | sed -n 's/.*Maximum resident set size (kbytes): //p' >>"$results/rss-$name"
  done
}
rss "atmos-auth credential-process (system)" "$bin" credential-process "$identity"
rss "atmos-auth env (system)" "$bin" env "$identity"
if [[ -n "$aws" ]]; then rss "aws configure get (static profile)" "$aws" configure get aws_access_key_id --profile static; fi
if "$python" -c "import boto3" 2>/dev/null; then
  rss "boto3 credential_process -> atmos-auth" "$python" -c "import boto3; boto3.Session(profile_name='atmos').get_credentials().get_frozen_credentials()"
fi

# ---------------------------------------------------------------------------------------------
# Issue 13: `login` and `list --refresh` with `auto_provision_identities` on an organisation of
# --org-size accounts x permission sets, against an emulator of that size that answers every AWS
# call 50 ms late (a round trip to AWS), then 0 ms late. The SSO session stays valid, so each
# run is the listing: ListAccounts pages, every account's ListAccountRoles, the cache write
# (and for `list`, the table of every identity). Each latency gets its own emulator and profile.
org_accounts="${org_size%x*}" org_sets="${org_size#*x}"
[[ "$org_accounts" =~ ^[0-9]+$ && "$org_sets" =~ ^[0-9]+$ ]] || { echo "--org-size wants ACCOUNTSxPERMISSION_SETS, e.g. 500x20" >&2; exit 2; }
provision_runs=$(( runs / 10 > 5 ? runs / 10 : 5 ))
echo "== auto-provisioning ${org_size} (${provision_runs} runs per row)"
for latency in 50 0; do
  (
    log="$work/emulator-provision-$latency.log"
    "$work/bin/aws-emulator" --port 0 --auto-approve --accounts "$org_accounts" \
      --permission-sets "$org_sets" --latency-ms "$latency" >"$log" 2>&1 &
    provision_emulator=$!
    trap 'kill $provision_emulator 2>/dev/null || true' EXIT
    for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
    provision_url="$(sed -n 's/^listening on //p' "$log" | head -1)"
    [[ -n "$provision_url" ]] || { cat "$log"; echo "the emulator did not start" >&2; exit 1; }
    profile="provision-$latency"
    mkdir -p "$config/profiles/$profile"
    printf 'description: auto-provisioning benchmark\nauth:\n  providers:\n    sso: {kind: aws/iam-identity-center, region: us-east-1, start_url: "%s", auto_provision_identities: true}\n' \
      "https://bench-provision-$latency-$$-$RANDOM.awsapps.com/start" >"$config/profiles/$profile/atmos.yaml"
    export AWS_ENDPOINT_URL="$provision_url" ATMOS_PROFILE="$profile"
    "$bin" login --no-browser >/dev/null 2>"$work/provision-login.log" || { cat "$work/provision-login.log"; exit 1; }
    grep -q "Found $(( org_accounts * org_sets )) permission sets" "$work/provision-login.log" \
      || { cat "$work/provision-login.log"; echo "not every permission set was provisioned" >&2; exit 1; }
    bench "atmos-auth login, auto-provisioning ${org_size}, ${latency} ms" "$provision_runs" "$bin login --no-browser"
    bench "atmos-auth list --refresh, ${org_size}, ${latency} ms" "$provision_runs" "$bin list --refresh"
  )
done

# ---------------------------------------------------------------------------------------------
# Issue 13, provisioned identities (ATMOS_BENCH_PROVISIONED=ACCOUNTSxSETS, default --org-size): the
# cached path with 5 and with ACCOUNTS×SETS auto-provisioned identities in the profile, its
# peak RSS, and `list` of them all. Each size gets its own emulator (an organisation of that
# size, from --org) and its own start URL.
provisioned_size="${ATMOS_BENCH_PROVISIONED:-$org_size}"
provisioned_accounts="${provisioned_size%x*}" provisioned_sets="${provisioned_size#*x}"
provisioned_total=$(( provisioned_accounts * provisioned_sets ))
echo "== provisioned identities: 5 and $provisioned_total ($provisioned_size)"
for size in small large; do
  if [[ $size == small ]]; then accounts=1 sets=5; else accounts=$provisioned_accounts sets=$provisioned_sets; fi
  python3 - "$work/org-$size.json" "$accounts" "$sets" <<'PY'
import json, sys
path, accounts, sets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
json.dump({"user": "bench.user", "settings": {"page_size": 100}, "accounts": [
    {"id": str(600000000000 + i), "name": f"org-{i:04d}", "email": f"aws+org-{i:04d}@example.com",
     "permission_sets": [f"Set-{n:02d}" for n in range(sets)]} for i in range(accounts)]}, open(path, "w"))
PY
  "$work/bin/aws-emulator" --port 0 --auto-approve --org "$work/org-$size.json" >"$work/emulator-$size.log" 2>&1 &
  extra_pids+=($!)
  for _ in $(seq 100); do grep -q "listening on" "$work/emulator-$size.log" && break; sleep 0.1; done
  size_url="$(sed -n 's/^listening on //p' "$work/emulator-$size.log" | head -1)"
  [[ -n "$size_url" ]] || { cat "$work/emulator-$size.log"; echo "the $size emulator did not start" >&2; exit 1; }
  size_start_url="https://bench-provisioned-$size-$$-$RANDOM.awsapps.com/start"
  extra_start_urls+=("$size_start_url")
  mkdir -p "$config/profiles/provisioned-$size"
  printf 'description: %s provisioned identities\nauth:\n  providers:\n    sso: {kind: aws/iam-identity-center, region: us-east-1, start_url: "%s", auto_provision_identities: true}\n' \
    "$(( accounts * sets ))" "$size_start_url" >"$config/profiles/provisioned-$size/atmos.yaml"
  count=$(( accounts * sets ))
  export ATMOS_PROFILE="provisioned-$size" AWS_ENDPOINT_URL="$size_url"
  "$bin" login --no-browser >/dev/null 2>"$work/login-$size.log" || { cat "$work/login-$size.log"; exit 1; }
  "$bin" credential-process org-0000/Set-03 >/dev/null
  bench "credential-process, $count provisioned identities" "$runs" "$bin credential-process org-0000/Set-03"
  bench "env, $count provisioned identities" "$runs" "$bin env org-0000/Set-03"
  bench "list, $count provisioned identities" "$slow_runs" "$bin list"
  bench "list 'org-000*', $count provisioned identities" "$slow_runs" "$bin list org-000*"
  rss "credential-process, $count provisioned identities" "$bin" credential-process org-0000/Set-03
  rss "list, $count provisioned identities" "$bin" list
  export ATMOS_PROFILE=bench AWS_ENDPOINT_URL="$url"
done

# ---------------------------------------------------------------------------------------------
python3 "$here/report.py" "$results" "$here/RESULTS.md"
cat "$here/RESULTS.md"
