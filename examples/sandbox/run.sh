#!/usr/bin/env bash
# The whole atmos-auth flow offline: a local AWS emulator stands in for IAM Identity Center and
# STS, approves the sign-in itself, and the real binary logs in through a browser (headless
# Chromium when installed), exports credentials and runs a command and a shell with them. No AWS
# account needed.
#
#   examples/sandbox/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

echo "== building atmos-auth and the AWS emulator"
cargo build --quiet --manifest-path "$repo/Cargo.toml" --bin atmos-auth --example aws-emulator
bin="$repo/target/debug/atmos-auth"

work="$(mktemp -d)"
cleanup() { kill "${emulator_pid:-}" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
"$repo/target/debug/examples/aws-emulator" --port 0 --auto-approve >"$work/emulator.log" 2>&1 &
emulator_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$work/emulator.log" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$work/emulator.log" | head -1)"
[ -n "$url" ] || { cat "$work/emulator.log"; echo "the emulator did not start" >&2; exit 1; }

# Every AWS SDK (and atmos-auth) honours AWS_ENDPOINT_URL.
export AWS_ENDPOINT_URL="$url"
# A copy of this directory's config with a start URL unique to this run, so a session cached in
# the keyring by an earlier run (against an earlier emulator) is never mistaken for this one's.
mkdir -p "$work/config"
cp -R "$here/atmos.yaml" "$here/profiles" "$work/config/"
sed -i "s|sandbox-example|sandbox-$$-$RANDOM|" "$work/config/atmos.yaml"
export ATMOS_CLI_CONFIG_PATH="$work/config"
export ATMOS_PROFILE=demo

run() { printf '\n$ %s\n' "$*"; "$@"; }

# The browser login (authorization code with PKCE): headless Chromium plays the browser when it
# is installed, else curl; the emulator's authorize page approves at once (--auto-approve), and
# the redirect comes back to atmos-auth's listener on 127.0.0.1. Without either, the device code.
browser=""
if command -v chromium >/dev/null; then
  browser="$work/chromium-headless"
  no_sandbox=""
  [ "$(id -u)" -eq 0 ] && no_sandbox="--no-sandbox" # Chromium refuses to run as root otherwise
  cat >"$browser" <<EOF
#!/bin/sh
exec chromium --headless $no_sandbox --disable-gpu --disable-quic --no-first-run \\
  --disable-background-networking --disable-component-update --disable-sync \\
  --password-store=basic --user-data-dir="$work/chromium-profile" --dump-dom "\$1" >/dev/null 2>&1
EOF
elif command -v curl >/dev/null; then
  browser="$work/curl-browser"
  printf '#!/bin/sh\nexec curl -sS -L -o /dev/null "$1"\n' >"$browser"
fi
if [ -n "$browser" ]; then
  chmod +x "$browser"
  export BROWSER="$browser"
  run "$bin" login
else
  run "$bin" login --use-device-code --no-browser
fi
run "$bin" whoami plat-dev/terraform
printf '\n$ eval "$(atmos-auth env plat-dev/terraform)"\n'
eval "$("$bin" env plat-dev/terraform)"
echo "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID (expires $AWS_CREDENTIAL_EXPIRATION)"
run "$bin" env core-audit/readonly --format json | sed -E 's/("AWS_(SECRET_ACCESS_KEY|SESSION_TOKEN)": ")[^"]+/\1<redacted by the sandbox script>/'
if command -v aws >/dev/null; then
  run "$bin" exec plat-prod/terraform -- aws sts get-caller-identity --output table
  # One command, several accounts: every identity is also an AWS profile inside `exec`.
  run "$bin" exec plat-prod/terraform -- aws sts get-caller-identity --profile plat-dev/terraform --query Arn --output text
else
  run "$bin" exec plat-prod/terraform -- sh -c 'echo "a child process holding credentials for account ${AWS_ACCESS_KEY_ID:+(key set)} in $AWS_REGION"'
fi
# A shell holding an identity: the same environment as `exec`, plus ATMOS_IDENTITY and ATMOS_SHLVL.
run "$bin" shell plat-dev/terraform -- -c 'echo "inside a shell as $ATMOS_IDENTITY (level $ATMOS_SHLVL), key $AWS_ACCESS_KEY_ID"; exit 3' || echo "the shell's exit status came back: $?"
run "$bin" list
# Tell the portal the session is over, and remove it with every credential fetched through it.
run "$bin" logout
echo
echo "Sandbox finished: login, whoami, env, exec, shell, list and logout all worked against the local emulator."
