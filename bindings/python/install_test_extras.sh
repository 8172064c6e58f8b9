#!/usr/bin/env bash
# Installs the optional test extras, torch (CPU only) and keras (used with
# KERAS_BACKEND=torch), so that the tests comparing converters with real
# PyTorch and Keras models run, and ray[data] for the scale-out example
# (examples/python/scale_out, `make test-scale-out`, which fails without it).
# Never fails: it reports what happened, and tests whose package is missing
# are skipped.
#
# torch: a local CPU wheel in $PIP_FIND_LINKS (or /opt/wheels) is preferred and
# pinned, so pip cannot pick a newer CUDA build from the index; otherwise the
# CPU wheel index of download.pytorch.org is used.
python=${PYTHON:-python3}

seconds_since() { echo $(( $(date +%s) - $1 )); }

install_torch() {
    if "$python" -c "import torch" 2>/dev/null; then
        echo "torch: already installed ($("$python" -c 'import torch; print(torch.__version__)'))"
        return
    fi
    local start wheel version
    start=$(date +%s)
    wheel=$(ls "${PIP_FIND_LINKS:-/opt/wheels}"/torch-*+cpu-*.whl 2>/dev/null | sort -V | tail -1)
    if [ -n "$wheel" ]; then
        version=$(basename "$wheel" | cut -d- -f2)
        "$python" -m pip install -q --find-links "$(dirname "$wheel")" "torch==$version"
    else
        "$python" -m pip install -q torch --index-url https://download.pytorch.org/whl/cpu
    fi
    if "$python" -c "import torch" 2>/dev/null; then
        echo "torch: installed in $(seconds_since "$start") s"
    else
        echo "torch: could not be installed; the PyTorch comparison tests will be skipped"
    fi
}

install_keras() {
    if KERAS_BACKEND=torch "$python" -c "import keras" 2>/dev/null; then
        echo "keras: already installed"
        return
    fi
    local start
    start=$(date +%s)
    "$python" -m pip install -q keras
    if KERAS_BACKEND=torch "$python" -c "import keras" 2>/dev/null; then
        echo "keras: installed in $(seconds_since "$start") s"
    else
        echo "keras: could not be installed or imported (it needs a backend: torch here); its tests will be skipped"
    fi
}

install_ray() {
    if "$python" -c "import ray, ray.data" 2>/dev/null; then
        echo "ray: already installed ($("$python" -c 'import ray; print(ray.__version__)'))"
        return
    fi
    local start
    start=$(date +%s)
    "$python" -m pip install -q "ray[data]"
    if "$python" -c "import ray, ray.data" 2>/dev/null; then
        echo "ray: installed in $(seconds_since "$start") s"
    else
        echo "ray: could not be installed; make test-scale-out will fail until it is (pip install \"ray[data]\")"
    fi
}

install_torch || true
install_keras || true
install_ray || true
exit 0
