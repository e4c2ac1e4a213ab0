#!/usr/bin/env bash
# Installs the Debian packages the SDK's build and tests need, but only the
# missing ones, so a ready machine pays nothing. Source it and call
# datahub_install_deps, or execute it directly.

DATAHUB_DEB_PACKAGES=(
  cmake g++ make pkg-config
  libpq-dev postgresql-15
  libsoci-dev libboost-dev libbotan-2-dev rapidjson-dev
  doctest-dev libcli11-dev
  golang-go python3 python3-pytest valgrind
  # libFuzzer targets (tests/fuzz/run.sh): clang 14, its sanitizer/fuzzer runtimes, and
  # llvm-symbolizer for readable sanitizer stacks.
  clang-14 libclang-rt-14-dev llvm-14
)

datahub_install_deps() {
  local missing=() pkg status sudo=() log
  for pkg in "${DATAHUB_DEB_PACKAGES[@]}"; do
    # `dpkg -s` alone succeeds for removed-but-not-purged packages; check the state.
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0

  if ((EUID != 0)); then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "deps: missing packages (${missing[*]}) and not root and no sudo; install them manually" >&2
      return 1
    fi
  fi

  log=$(mktemp "${TMPDIR:-/tmp}/datahub-deps.XXXXXX.log")
  echo "deps: installing ${missing[*]} (log: $log)"
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update \
         && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
              apt-get install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    echo "deps: apt-get failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    return 1
  fi
  rm -f "$log"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  datahub_install_deps
fi
