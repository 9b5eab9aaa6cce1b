#!/usr/bin/env bash
# Re-create web/static/vendor/chartjs/ from the npm registry: Chart.js, which draws the charts of the
# SOP version comparison, served by Alur itself (the office may have no internet).
#
#   scripts/vendor-chartjs.sh            # the pinned version below
#   CHARTJS_VERSION=4.x.y scripts/vendor-chartjs.sh
#
# npm installs into a throw-away folder; only the built UMD file and the licence are copied, so no
# node_modules ever lands in the repository. Needs node and npm (Debian: apt-get install npm).
set -euo pipefail

VERSION="${CHARTJS_VERSION:-4.6.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor/chartjs"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
# --ignore-scripts: nothing from the package runs here; we only want its prebuilt dist file.
npm install --no-audit --no-fund --ignore-scripts --save-exact "chart.js@$VERSION" >/dev/null
PKG="$WORK/node_modules/chart.js"
INSTALLED="$(node -p "require('$PKG/package.json').version")"
[ "$INSTALLED" = "$VERSION" ] || { echo "asked for chart.js $VERSION, npm gave $INSTALLED" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST"
# The UMD build defines window.Chart with every chart type and plugin registered (@kurkle/color,
# its only dependency, is bundled inside it).
cp "$PKG/dist/chart.umd.min.js" "$DEST/"
cp "$PKG/LICENSE.md" "$DEST/LICENSE"

# Nothing in the bundle may load from the internet at run time: its only addresses are the two in
# its licence comments (the Chart.js site and the @kurkle/color repository), never fetched.
if grep -Eo "https?://[a-zA-Z0-9./_-]+" "$DEST/chart.umd.min.js" | sort -u \
   | grep -Ev "^https?://(www\.chartjs\.org|github\.com/kurkle/color)/?$"; then
  echo "the bundle names an unexpected address (above): check it is not fetched" >&2; exit 1
fi

cat > "$DEST/README.md" <<README
# Chart.js $VERSION (vendored)

Chart.js $VERSION by the Chart.js Contributors, MIT licence (see LICENSE). It bundles @kurkle/color
(MIT, by Jukka Kurkela).

File, copied unchanged from the npm package's \`dist/\` by \`scripts/vendor-chartjs.sh\` (re-run it to
upgrade; it installs into a temporary folder, nothing from node_modules is kept):

$(cd "$DEST" && printf -- '- `%s` (%s bytes, sha256 %s)\n' chart.umd.min.js "$(wc -c <chart.umd.min.js)" \
    "$(sha256sum chart.umd.min.js | cut -d' ' -f1)")

Its last line names a source map that is not copied; only a browser's developer tools ask for it.
Used by \`web/static/js/compare-charts.js\`, which loads it only on the SOP comparison page.
README

echo "chart.js $VERSION vendored into ${DEST#$ROOT/}:"
ls -l "$DEST"
