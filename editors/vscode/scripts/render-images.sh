#!/bin/sh
# Renders the icon PNG the package ships from its SVG source (vsce takes PNG only for the
# icon). Needs rsvg-convert (Debian: apt-get install librsvg2-bin). The README's picture,
# images/quickfix.png, is a screenshot: scripts/screenshot takes it.
set -eu
cd "$(dirname "$0")/../images"
rsvg-convert -w 128 -h 128 icon.svg -o icon.png
