#!/usr/bin/env bash
# Re-create web/static/vendor/swagger-ui/ from the npm registry: Swagger UI, which draws the interactive
# page of Alur's REST API (/api/v1/docs), served by Alur itself (the office may have no internet).
#
#   scripts/vendor-swagger-ui.sh            # the pinned version below
#   SWAGGER_UI_VERSION=5.x.y scripts/vendor-swagger-ui.sh
#
# npm installs into a throw-away folder; only the built bundle, its stylesheet and the licences are
# copied, so no node_modules ever lands in the repository. Needs node and npm (Debian: apt-get install npm).
set -euo pipefail

VERSION="${SWAGGER_UI_VERSION:-5.35.0}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/web/static/vendor/swagger-ui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm init -y >/dev/null
# --ignore-scripts: nothing from the package runs here (its @scarf/scarf dependency is an install-time
# analytics hook; it never runs and is not copied). We only want the prebuilt dist files.
npm install --no-audit --no-fund --ignore-scripts --save-exact "swagger-ui-dist@$VERSION" >/dev/null
PKG="$WORK/node_modules/swagger-ui-dist"
INSTALLED="$(node -p "require('$PKG/package.json').version")"
[ "$INSTALLED" = "$VERSION" ] || { echo "asked for swagger-ui-dist $VERSION, npm gave $INSTALLED" >&2; exit 1; }

rm -rf "$DEST"
mkdir -p "$DEST"
# The bundle defines window.SwaggerUIBundle with React and every plugin inside; Alur uses its
# BaseLayout, so the standalone preset (the top bar with a URL box) is not needed.
cp "$PKG/swagger-ui-bundle.js" "$PKG/swagger-ui.css" "$DEST/"
cp "$PKG/swagger-ui-bundle.js.LICENSE.txt" "$DEST/THIRD-PARTY-LICENSES.txt"
cp "$PKG/LICENSE" "$DEST/LICENSE"
cp "$PKG/NOTICE" "$DEST/NOTICE"

# Nothing may load from the internet at run time. The stylesheet's url()s must be data: URIs. The
# bundle's addresses are namespaces, specification and licence links, social-media link patterns of
# its Markdown renderer, and the online validator, which Alur's page turns off (validatorUrl: null).
if grep -Eo "url\([^)]*\)" "$DEST/swagger-ui.css" | grep -Ev "url\(['\"]?data:"; then
  echo "the vendored stylesheet loads from elsewhere (above)" >&2; exit 1
fi
if grep -Eo "https?://[a-zA-Z0-9./_-]+" "$DEST/swagger-ui-bundle.js" | sort -u | grep -Ev \
   "^https?://(www\.w3\.org/|json-schema\.org/|spec\.openapis\.org/|datatracker\.ietf\.org/|www\.rfc-editor\.org/|validator\.swagger\.io/validator$|swagger\.io$|spdx\.org/|github\.com/|redux\.js\.org/|reactjs\.org/|fb\.me/|example\.com/|base$|vladimirgorej\.com$|(www\.)?(tiktok|facebook|twitter|instagram|soundcloud)\.com/)"; then
  echo "the bundle names an unexpected address (above): check it is not fetched" >&2; exit 1
fi

cat > "$DEST/README.md" <<README
# Swagger UI $VERSION (vendored)

swagger-ui-dist $VERSION by SmartBear Software, Apache License 2.0 (see LICENSE and NOTICE). The
bundle includes React, Redux, highlight.js and other libraries under their own licences, listed in
THIRD-PARTY-LICENSES.txt.

Files, copied unchanged from the npm package by \`scripts/vendor-swagger-ui.sh\` (re-run it to upgrade;
it installs into a temporary folder, nothing from node_modules is kept):

$(cd "$DEST" && for f in swagger-ui-bundle.js swagger-ui.css; do
    printf -- '- `%s` (%s bytes, sha256 %s)\n' "$f" "$(wc -c <"$f")" "$(sha256sum "$f" | cut -d' ' -f1)"; done)

The bundle's last line names a source map that is not copied; only a browser's developer tools ask
for it. Used by \`web/static/js/api-docs.js\` on the API page \`/api/v1/docs\` only, with the online
validator turned off (\`validatorUrl: null\`) so the page reaches nothing but Alur.
README

echo "swagger-ui-dist $VERSION vendored into ${DEST#$ROOT/}:"
ls -l "$DEST"
