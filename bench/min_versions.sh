#!/usr/bin/env bash
# Install the LOWEST versions pyproject.toml allows into a fresh venv and run the test suite there.
#
#   bash bench/min_versions.sh [VENV_DIR] [pytest args...]      # default VENV_DIR: /tmp/review_cls_min_versions
#
# Every `name>=X` of [project.dependencies] and of the dev/sweeps/mlflow/onnx/ray/serve extras becomes a `name==X`
# pin in a constraints file; packages the project does not name (transitive ones) resolve as pip picks. torch is
# installed first and alone, pinned, from the CPU wheel: an unpinned torch would pull a multi-GB CUDA build.
# CPU heavy (the whole suite): run it alone, with one thread. Results: docs/dependencies.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${1:-/tmp/review_cls_min_versions}"
shift || true
CONSTRAINTS="$VENV/floors.txt"

python3 -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
python3 - "$CONSTRAINTS" <<'PY'
import sys, tomllib
from packaging.requirements import Requirement

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
extras = project["optional-dependencies"]
names = project["dependencies"] + [r for extra in ("dev", "sweeps", "mlflow", "onnx", "ray", "serve") for r in extras[extra]]
pins = {}
for text in names:
    requirement = Requirement(text)
    if requirement.name == project["name"]:
        continue  # review_cls[sweeps] etc.: their own entries are listed above
    floors = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    if floors:
        pins[requirement.name] = floors[0]
open(sys.argv[1], "w").write("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
PY
echo "== floors ($CONSTRAINTS)"; cat "$CONSTRAINTS"
TORCH_PIN="$(grep -i '^torch==' "$CONSTRAINTS")"
"$VENV/bin/python" -m pip install --quiet "$TORCH_PIN"
"$VENV/bin/python" -m pip install --quiet -c "$CONSTRAINTS" -e ".[dev]"
"$VENV/bin/python" -m pip freeze --exclude-editable > "$VENV/installed.txt"
echo "== installed: $VENV/installed.txt"
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
