# Sourced by scripts/test and scripts/demo: `ioc_python` prints a Python that may install this project's
# packages. A distribution's own Python refuses pip installs (PEP 668, "externally-managed-environment", as on
# Debian 12 and Ubuntu 24.04): then a virtual environment in .venv is made once and used from then on.

ioc_python() {
    local base=${PYTHON:-python3}
    if [ -x .venv/bin/python ]; then
        echo .venv/bin/python
        return 0
    fi
    if ! command -v "$base" >/dev/null; then
        echo "error: $base not found; install Python 3.11 or set PYTHON to one" >&2
        return 1
    fi
    # inside a virtual environment, or a Python the system does not manage: install right there
    if "$base" - <<'PY'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if sys.prefix != sys.base_prefix or not managed else 1)
PY
    then
        echo "$base"
        return 0
    fi
    echo "note: $base belongs to the system (PEP 668), so the IOC goes into .venv (made once, reused)" >&2
    local why
    if ! why=$("$base" -m venv .venv 2>&1); then
        # Debian without python3-venv has no ensurepip: a venv without pip, given pip by the system's own
        rm -rf .venv
        if ! "$base" -m venv --without-pip .venv \
            || ! "$base" -m pip --python .venv/bin/python install --quiet --disable-pip-version-check pip; then
            rm -rf .venv
            echo "error: could not make a virtual environment in .venv: $why" >&2
            return 1
        fi
    fi
    echo .venv/bin/python
}
