#!/usr/bin/env bash
# The test command: installs what the tests need (tests/setup.sh; apt-get as root, a venv under
# target/), then runs `cargo test` with any arguments given inside a private keyring session
# (tests/keyring-session.sh).
#
# Usage: tests/run.sh [CARGO TEST ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tests/setup.sh
source tests/setup.sh
exec tests/keyring-session.sh cargo test "$@"
