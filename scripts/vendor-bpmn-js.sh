#!/usr/bin/env bash
# Re-create web/static/vendor/bpmn-js/ from the npm registry: the bpmn-js viewer that the task and
# case pages use to draw an SOP, served by Alur itself (the office may have no internet).
#
#   scripts/vendor-bpmn-js.sh            # the pinned version below
#   BPMN_JS_VERSION=18.x.y scripts/vendor-bpmn-js.sh
#
# npm installs into a throw-away folder; only the built files and the licence are copied, so no
# node_modules ever lands in the repository. Needs node and npm (Debian: apt-get install npm).
set -euo pipefail

VERSION="${BPMN_JS_VERSION:-18.31.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor/bpmn-js"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
# --ignore-scripts: nothing from the package runs here; we only want its prebuilt dist files.
npm install --no-audit --no-fund --ignore-scripts --save-exact "bpmn-js@$VERSION" >/dev/null
PKG="$WORK/node_modules/bpmn-js"
INSTALLED="$(node -p "require('$PKG/package.json').version")"
[ "$INSTALLED" = "$VERSION" ] || { echo "asked for bpmn-js $VERSION, npm gave $INSTALLED" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST"
# The navigated viewer: the plain viewer plus drag-to-move and zoom (no editing). The viewer draws
# SVG only; it uses no icon font, so bpmn-font is not needed (the modeler would need it).
cp "$PKG/dist/bpmn-navigated-viewer.production.min.js" "$DEST/"
cp "$PKG/dist/assets/bpmn-js.css" "$PKG/dist/assets/diagram-js.css" "$DEST/"
cp "$PKG/LICENSE" "$DEST/LICENSE"

# Nothing in the copied files may load from the internet at run time: the CSS may only point at
# data: URIs or relative files, and the bundle's http(s) strings must be XML namespaces or the
# bpmn.io watermark link (a link the user may click, never a fetch).
if grep -Eo "url\([^)]*\)" "$DEST"/*.css | grep -Ev "url\(['\"]?(data:|\.\.?/|[a-zA-Z0-9_-]+\.)" ; then
  echo "a vendored stylesheet loads from elsewhere (above)" >&2; exit 1
fi
if grep -Eo "https?://[a-zA-Z0-9./_-]+" "$DEST/bpmn-navigated-viewer.production.min.js" | sort -u \
   | grep -Ev "^https?://(www\.omg\.org/spec/|www\.w3\.org/|bpmn\.io(/license|/schema/)?|github\.com/bpmn-io/)"; then
  echo "the bundle names an unexpected address (above): check it is not fetched" >&2; exit 1
fi

cat > "$DEST/README.md" <<README
# bpmn-js $VERSION (vendored)

bpmn-js $VERSION by Camunda Services GmbH / bpmn.io, licence: the bpmn.io license (MIT terms plus
the condition that the bpmn.io watermark stays fully visible and not overlapped), see LICENSE.
Alur keeps the watermark visible: do not hide \`.bjs-powered-by\` in Alur's CSS.

Files, copied unchanged from the npm package's \`dist/\` by \`scripts/vendor-bpmn-js.sh\`
(re-run it to upgrade; it installs into a temporary folder, nothing from node_modules is kept):

$(cd "$DEST" && for f in bpmn-navigated-viewer.production.min.js bpmn-js.css diagram-js.css; do
    printf -- '- `%s` (%s bytes, sha256 %s)\n' "$f" "$(wc -c <"$f")" "$(sha256sum "$f" | cut -c1-16)"; done)

Used by \`web/static/js/diagram.js\`, which loads the bundle only on pages that show a diagram.
README

echo "bpmn-js $VERSION vendored into ${DEST#$ROOT/}:"
ls -l "$DEST"
