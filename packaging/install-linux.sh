#!/usr/bin/env bash
# Installs the built app for the current user (no root): the folder, a `sketchstudio` command,
# the icon and the desktop entry, so SketchStudio appears in the application menu.
#   packaging/install-linux.sh [BUILT_FOLDER]        (default: dist/SketchStudio)
# Uninstall: packaging/install-linux.sh --uninstall
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APP_DIR="$HOME/.local/opt/SketchStudio"
BIN="$HOME/.local/bin/sketchstudio"
ICON="$DATA/icons/hicolor/256x256/apps/sketchstudio.png"
DESKTOP="$DATA/applications/sketchstudio.desktop"

if [[ "${1:-}" == "--uninstall" ]]; then
    rm -rf "$APP_DIR" "$BIN" "$ICON" "$DESKTOP"
    echo "removed SketchStudio (your models and settings are kept)"
    exit 0
fi
SOURCE="${1:-$HERE/../dist/SketchStudio}"
if [[ ! -x "$SOURCE/SketchStudio" ]]; then
    echo "install-linux: no built app at $SOURCE (run \`make package\` first)" >&2
    exit 1
fi
mkdir -p "$(dirname "$APP_DIR")" "$(dirname "$BIN")" "$(dirname "$ICON")" "$(dirname "$DESKTOP")"
rm -rf "$APP_DIR"
cp -a "$SOURCE" "$APP_DIR"
ln -sfn "$APP_DIR/SketchStudio" "$BIN"
cp "$HERE/sketchstudio.png" "$ICON"
sed "s|^Exec=SketchStudio|Exec=\"$APP_DIR/SketchStudio\"|" "$HERE/sketchstudio.desktop" > "$DESKTOP"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
echo "installed $APP_DIR; run \`sketchstudio\` or pick SketchStudio in the application menu"
