#!/usr/bin/env bash
# Builds dist/SketchStudio/ (one folder, executable dist/SketchStudio/SketchStudio) and runs its
# self-test. `make package` calls this with PYTHON set to the project's venv, after installing the
# `package` extra (PyInstaller). SKETCHSTUDIO_VARIANT=cpu (default) or cuda: see sketchstudio.spec.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/sketchstudio.spec
built=$(date +%s)
echo "built dist/SketchStudio in $((built - start)) s: $(du -sh dist/SketchStudio | cut -f1)"
# The frozen app checks itself: default model, a demo sketch, one explanation, a screenshot.
QT_QPA_PLATFORM=offscreen dist/SketchStudio/SketchStudio --self-test
