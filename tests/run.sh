#!/usr/bin/env bash
# The test command: installs what the tests need (tests/setup.sh; apt-get as root, a venv under
# target/), then runs `cargo test` with any arguments given inside a private keyring session
# (tests/keyring-session.sh).
#
# It runs every test, the `#[ignore]`d ones included: those need root (they give a directory to
# another user) and fail here, saying so, when run as someone else. The only tests it leaves
# out are the `child_scenario` hooks, which their parent tests start in a child process with
# the scenario to play; on their own they have nothing to run.
#
# Usage: tests/run.sh [CARGO TEST ARGS...] [-- TEST BINARY ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/setup.sh
source tests/setup.sh

cargo_args=()
while (($#)) && [[ $1 != -- ]]; do
  cargo_args+=("$1")
  shift
done
(($#)) && shift # the `--` itself
exec tests/keyring-session.sh cargo test "${cargo_args[@]}" -- --include-ignored --skip child_scenario "$@"
