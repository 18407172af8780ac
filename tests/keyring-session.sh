#!/usr/bin/env bash
# Runs a command inside a throwaway keyring environment, so that every credential-store test
# runs for real instead of being skipped:
#
# - a new anonymous keyutils session keyring (`keyctl session -`);
# - a private D-Bus session bus (`dbus-run-session`) with gnome-keyring's Secret Service,
#   unlocked with a known password, its keyrings under a temporary XDG_DATA_HOME;
# - a second private bus with its own gnome-keyring, exported as
#   ATMOS_TEST_LOCKABLE_DBUS_ADDRESS: the "locked store fails fast" test saves an item there,
#   locks the collection (D-Bus `Lock`, which needs no prompt) and checks that reads and writes
#   then fail with the typed error instead of hanging.
#
# DISPLAY and WAYLAND_DISPLAY are unset so that a locked collection fails instead of prompting.
# HOME is a temporary directory too; CARGO_HOME and RUSTUP_HOME keep pointing at the real ones.
#
# Usage: tests/keyring-session.sh cargo test
# Needs: apt-get install -y gnome-keyring dbus keyutils
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi
for tool in keyctl dbus-run-session dbus-daemon dbus-send gnome-keyring-daemon; do
  if ! command -v "$tool" >/dev/null; then
    echo "$0: \`$tool\` not found: apt-get install -y gnome-keyring dbus keyutils" >&2
    exit 2
  fi
done

# Stage 1: a new session keyring, then a private session bus; re-enter this script inside both.
if [[ -z "${ATMOS_KEYRING_SESSION_STAGE:-}" ]]; then
  export ATMOS_KEYRING_SESSION_STAGE=inner
  exec keyctl session - dbus-run-session -- "$0" "$@"
fi
unset ATMOS_KEYRING_SESSION_STAGE DISPLAY WAYLAND_DISPLAY

export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
scratch="$(mktemp -d)"
lockable_pid=""
cleanup() {
  if [[ -n "$lockable_pid" ]]; then kill "$lockable_pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
password="atmos-auth-test"

# Starts gnome-keyring's Secret Service on the current bus, unlocked, with its files under $1.
start_keyring() {
  export XDG_DATA_HOME="$1/data" XDG_RUNTIME_DIR="$1/run"
  mkdir -p -m 700 "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
  printf '%s' "$password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  # The daemon forks and claims its bus name a moment later. Calling the service before that
  # would make D-Bus activate a second daemon, with the bus's environment (the real HOME, no
  # unlocked keyring), which can win the name: wait until ours owns it.
  local owned=""
  for _ in $(seq 200); do
    owned=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | sed -n 's/.*boolean //p')
    [[ $owned == true ]] && break
    sleep 0.05
  done
  if [[ $owned != true ]]; then
    echo "$0: gnome-keyring-daemon did not claim org.freedesktop.secrets within 10 s" >&2
    return 1
  fi
  # The first call creates the login collection.
  dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
    org.freedesktop.Secret.Service.ReadAlias string:default >/dev/null
  # It unlocks the collection a moment after answering; a first test call before that finds it
  # locked. Wait (5 s at most) until it says it is unlocked.
  local locked
  for _ in $(seq 100); do
    locked="$(dbus-send --session --print-reply --dest=org.freedesktop.secrets \
      /org/freedesktop/secrets/aliases/default org.freedesktop.DBus.Properties.Get \
      string:org.freedesktop.Secret.Collection string:Locked || true)"
    if [[ "$locked" == *"boolean false"* ]]; then return; fi
    sleep 0.05
  done
  echo "$0: the Secret Service stayed locked" >&2
  return 1
}

# The lockable store: its own bus and keyring, unlocked until the test locks it.
mkdir -p -m 700 "$scratch/lockable"
lockable_address="$(
  export HOME="$scratch/lockable"
  export XDG_DATA_HOME="$scratch/lockable/data" XDG_RUNTIME_DIR="$scratch/lockable/run"
  mkdir -p -m 700 "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
  dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$scratch/lockable.pid"
)"
lockable_pid="$(cat "$scratch/lockable.pid")"
(
  export HOME="$scratch/lockable" DBUS_SESSION_BUS_ADDRESS="$lockable_address"
  start_keyring "$scratch/lockable"
)
export ATMOS_TEST_LOCKABLE_DBUS_ADDRESS="$lockable_address"

# The unlocked store, on the bus dbus-run-session made for us.
mkdir -p -m 700 "$scratch/home"
export HOME="$scratch/home"
start_keyring "$scratch/home"

set +e
"$@"
status=$?
set -e
exit "$status"
