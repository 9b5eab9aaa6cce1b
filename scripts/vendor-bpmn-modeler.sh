#!/usr/bin/env bash
# Re-create web/static/vendor/bpmn-js-modeler/ from the npm registry: the bpmn-js Modeler that the
# SOP workbench (/sop/drafts/<id>) edits SOPs with, plus camunda-bpmn-moddle's descriptor so that
# camunda:properties and camunda:formData survive a round trip through the browser.
#
#   scripts/vendor-bpmn-modeler.sh
#   BPMN_JS_VERSION=18.x.y CAMUNDA_MODDLE_VERSION=8.x.y scripts/vendor-bpmn-modeler.sh
#
# npm installs into a throw-away folder; only the built files and the licences are copied, so no
# node_modules ever lands in the repository. Needs node and npm (Debian: apt-get install npm).
set -euo pipefail

VERSION="${BPMN_JS_VERSION:-18.31.1}"
MODDLE_VERSION="${CAMUNDA_MODDLE_VERSION:-8.0.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor/bpmn-js-modeler"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
# --ignore-scripts: nothing from the packages runs here; we only want their prebuilt files.
npm install --no-audit --no-fund --ignore-scripts --save-exact \
  "bpmn-js@$VERSION" "camunda-bpmn-moddle@$MODDLE_VERSION" >/dev/null
PKG="$WORK/node_modules/bpmn-js"
MODDLE="$WORK/node_modules/camunda-bpmn-moddle"
for pair in "$PKG:$VERSION" "$MODDLE:$MODDLE_VERSION"; do
  dir="${pair%%:*}"; want="${pair##*:}"
  got="$(node -p "require('$dir/package.json').version")"
  [ "$got" = "$want" ] || { echo "asked for $(basename "$dir") $want, npm gave $got" >&2; exit 1; }
done

rm -rf "$DEST"
mkdir -p "$DEST/bpmn-font/css" "$DEST/bpmn-font/font"
# The modeler bundle (viewer + editing + palette + context pad), its stylesheets, and the icon
# font the palette and context pad draw with; bpmn.css names the font files relatively (../font/).
cp "$PKG/dist/bpmn-modeler.production.min.js" "$DEST/"
cp "$PKG/dist/assets/bpmn-js.css" "$PKG/dist/assets/diagram-js.css" "$DEST/"
cp "$PKG/dist/assets/bpmn-font/css/bpmn.css" "$DEST/bpmn-font/css/"
cp "$PKG"/dist/assets/bpmn-font/font/bpmn.{eot,woff2,woff,ttf,svg} "$DEST/bpmn-font/font/"
cp "$PKG/LICENSE" "$DEST/LICENSE"
# The Camunda 7 moddle descriptor (plain JSON, no code): the modeler reads it as moddleExtensions.
cp "$MODDLE/resources/camunda.json" "$DEST/camunda.json"
cp "$MODDLE/LICENSE" "$DEST/LICENSE.camunda-bpmn-moddle"

# Nothing in the copied files may load from the internet at run time: the CSS may only point at
# data: URIs or relative files, and the bundle's http(s) strings must be XML namespaces, the
# bpmn.io watermark link (a link the user may click, never a fetch), or source notes in comments.
if grep -Eo "url\([^)]*\)" "$DEST"/*.css "$DEST"/bpmn-font/css/*.css \
   | grep -Ev "url\(['\"]?(data:|\.\.?/|[a-zA-Z0-9_-]+\.)" ; then
  echo "a vendored stylesheet loads from elsewhere (above)" >&2; exit 1
fi
if grep -Eo "https?://[a-zA-Z0-9./_-]+" "$DEST/bpmn-modeler.production.min.js" "$DEST/camunda.json" \
   | cut -d: -f2- | sort -u \
   | grep -Ev "^https?://(www\.omg\.org/spec/|www\.w3\.org/|bpmn\.io(/license|/schema/)?|camunda\.org/schema/|github\.com/bpmn-io/|github\.com/adobe-webplatform/Snap\.svg/)"; then
  echo "the bundle names an unexpected address (above): check it is not fetched" >&2; exit 1
fi

cat > "$DEST/README.md" <<README
# bpmn-js $VERSION Modeler and camunda-bpmn-moddle $MODDLE_VERSION (vendored)

bpmn-js $VERSION by Camunda Services GmbH / bpmn.io, licence: the bpmn.io license (MIT terms plus
the condition that the bpmn.io watermark stays fully visible and not overlapped), see LICENSE.
Alur keeps the watermark visible: do not hide \`.bjs-powered-by\` in Alur's CSS.
camunda-bpmn-moddle $MODDLE_VERSION by Camunda Services GmbH, MIT licence, see LICENSE.camunda-bpmn-moddle.

Files, copied unchanged from the npm packages by \`scripts/vendor-bpmn-modeler.sh\`
(re-run it to upgrade; it installs into a temporary folder, nothing from node_modules is kept):

$(cd "$DEST" && for f in bpmn-modeler.production.min.js bpmn-js.css diagram-js.css bpmn-font/css/bpmn.css \
    bpmn-font/font/bpmn.eot bpmn-font/font/bpmn.woff2 bpmn-font/font/bpmn.woff bpmn-font/font/bpmn.ttf \
    bpmn-font/font/bpmn.svg camunda.json; do
    printf -- '- `%s` (%s bytes, sha256 %s)\n' "$f" "$(wc -c <"$f")" "$(sha256sum "$f" | cut -c1-16)"; done)

\`camunda.json\` is camunda-bpmn-moddle's \`resources/camunda.json\`, the descriptor of the Camunda 7
extension elements (camunda:properties, camunda:formData, ...), passed to the modeler as
\`moddleExtensions: { camunda: ... }\`.

Used only by the SOP modeler page (\`web/templates/workbench/modeler.html\`, \`web/static/js/modeler.js\`);
no other page loads these files.
README

echo "bpmn-js $VERSION modeler and camunda-bpmn-moddle $MODDLE_VERSION vendored into ${DEST#$ROOT/}:"
ls -lR "$DEST"
