#!/usr/bin/env bash
# The GPU checks of issue 2, for a session that has the device machine (about 5 minutes on one H100
# or H200; the machine's image has torch, triton and pytest, not pydantic/optuna, so only the
# optimizer and model code is exercised):
#   - the CUDA-only tests: fused=True kernels (Triton) against the CPU multi-tensor path, and the models;
#   - the optimizer benchmark on CUDA, torch's fused variants included.
# With the device tool:  run(command="bash dev/cuda_checks.sh", carry=[".whl"], timeout_s=540)
# where .whl/ (ignored, see .git/info/exclude) holds pytorch_optimizer's wheel, fetched here with
#   pip download --no-deps --only-binary=:all: -d .whl pytorch_optimizer==4.1.0   (the version the CPU table used)
# Results land in $OUT (the tool's folder that comes back), else in ./cuda-results.
set -uo pipefail
out=${OUT:-cuda-results}
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl && export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi
python3 -c "import torch; print(torch.__version__, torch.cuda.get_device_name())" 2>&1 | tee "$out/device.txt"
{ python3 -m pytest -q -p no:cacheprovider tests/optim/test_fused.py -k cuda
  python3 -m pytest -q -p no:cacheprovider tests/nn/test_device.py; } 2>&1 | tee "$out/tests.txt"
timeout 360 python3 benchmarks/optim_step.py --device cuda --repeats 5 --markdown "$out/bench_cuda.md" 2>&1 | tee "$out/bench.log"
