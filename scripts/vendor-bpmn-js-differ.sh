#!/usr/bin/env bash
# Re-create web/static/vendor/bpmn-js-differ/ from the npm registry: bpmn-js-differ with bpmn-moddle
# (and Camunda's moddle extension) bundled by esbuild into one file that defines window.BpmnJsDiffer.
# Alur's tests load it in chromium to check that `alur diff` agrees with bpmn-js-differ.
#
#   scripts/vendor-bpmn-js-differ.sh
#   BPMN_JS_DIFFER_VERSION=3.x.y scripts/vendor-bpmn-js-differ.sh
#
# npm installs into a throw-away folder; only the built bundle and the licences are copied, so no
# node_modules ever lands in the repository. Needs node and npm (Debian: apt-get install npm).
set -euo pipefail

VERSION="${BPMN_JS_DIFFER_VERSION:-3.2.0}"
MODDLE_VERSION="${BPMN_MODDLE_VERSION:-10.3.1}"        # the one bpmn-js 18.31 uses
CAMUNDA_MODDLE_VERSION="${CAMUNDA_MODDLE_VERSION:-8.0.1}"
ESBUILD_VERSION="${ESBUILD_VERSION:-0.28.2}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor/bpmn-js-differ"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
# --ignore-scripts: nothing from the packages runs here (esbuild's binary comes as an optional
# platform package, so it works without its install script).
npm install --no-audit --no-fund --ignore-scripts --save-exact "bpmn-js-differ@$VERSION" \
  "bpmn-moddle@$MODDLE_VERSION" "camunda-bpmn-moddle@$CAMUNDA_MODDLE_VERSION" "esbuild@$ESBUILD_VERSION" >/dev/null
INSTALLED="$(node -p "require('$WORK/node_modules/bpmn-js-differ/package.json').version")"
[ "$INSTALLED" = "$VERSION" ] || { echo "asked for bpmn-js-differ $VERSION, npm gave $INSTALLED" >&2; exit 1; }

cat > entry.js <<'JS'
import { BpmnModdle } from "bpmn-moddle";
import camunda from "camunda-bpmn-moddle/resources/camunda.json";
import { diff as differ } from "bpmn-js-differ";

// Parse BPMN 2.0 XML (with Camunda's extension) into moddle definitions, as bpmn-js would.
export async function parse(xml) {
  const moddle = new BpmnModdle({ camunda: camunda });
  const result = await moddle.fromXML(xml, "bpmn:Definitions");
  return result.rootElement;
}

// bpmn-js-differ's verdicts as plain data: element ids per category, changed attribute names.
export function diff(a, b) {
  const handler = differ(a, b);
  const changed = {};
  Object.keys(handler._changed).forEach(function (id) {
    changed[id] = Object.keys(handler._changed[id].attrs);
  });
  return {
    added: Object.keys(handler._added).sort(),
    removed: Object.keys(handler._removed).sort(),
    changed: changed,
    layoutChanged: Object.keys(handler._layoutChanged).sort(),
  };
}

export { differ as rawDiff };
JS
./node_modules/.bin/esbuild entry.js --bundle --format=iife --global-name=BpmnJsDiffer --minify \
  --target=es2019 --legal-comments=none --log-level=warning --outfile=bpmn-js-differ.bundle.min.js

rm -rf "$DEST"
mkdir -p "$DEST"
cp bpmn-js-differ.bundle.min.js "$DEST/"
{
  for pkg in bpmn-js-differ bpmn-moddle camunda-bpmn-moddle moddle moddle-xml saxen diffpatch min-dash; do
    version="$(node -p "require('$WORK/node_modules/$pkg/package.json').version")"
    echo "==== $pkg $version ===="
    cat "$WORK/node_modules/$pkg/LICENSE"* 2>/dev/null || echo "(MIT, see the package)"
    echo
  done
} > "$DEST/LICENSE"

# The bundle only parses and compares; it must fetch nothing. Its http(s) strings must be namespaces.
if grep -Eo "https?://[a-zA-Z0-9./_-]+" "$DEST/bpmn-js-differ.bundle.min.js" | sort -u \
   | grep -Ev "^https?://(www\.omg\.org/spec/|www\.w3\.org/|camunda\.org/schema/|bpmn\.io/schema/)"; then
  echo "the bundle names an unexpected address (above): check it is not fetched" >&2; exit 1
fi

cat > "$DEST/README.md" <<README
# bpmn-js-differ $VERSION (vendored, bundled)

One file, \`bpmn-js-differ.bundle.min.js\`, built by \`scripts/vendor-bpmn-js-differ.sh\` with esbuild
$ESBUILD_VERSION from the npm packages bpmn-js-differ $VERSION, bpmn-moddle $MODDLE_VERSION and
camunda-bpmn-moddle $CAMUNDA_MODDLE_VERSION (all MIT, see LICENSE; re-run the script to upgrade).
It defines \`window.BpmnJsDiffer\` with \`parse(xml) -> Promise<definitions>\`,
\`diff(a, b) -> {added, removed, changed: {id: [attribute]}, layoutChanged}\` and \`rawDiff\`.

$(cd "$DEST" && f=bpmn-js-differ.bundle.min.js; printf -- '- `%s` (%s bytes, sha256 %s)\n' "$f" "$(wc -c <"$f")" "$(sha256sum "$f" | cut -d' ' -f1)")

Used by tests/browser/test_diff_agreement.py to check that Alur's structural diff
(workflow_engine/bpmn_diff.py) agrees with bpmn-js-differ; no page loads it.
README

echo "bpmn-js-differ $VERSION vendored into ${DEST#$ROOT/}:"
ls -l "$DEST"
