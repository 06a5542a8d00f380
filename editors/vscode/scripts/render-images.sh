#!/bin/sh
# Renders the PNGs the package ships from their SVG sources (vsce takes PNG only for the icon
# and for README pictures). Needs rsvg-convert (Debian: apt-get install librsvg2-bin) and the
# DejaVu fonts.
set -eu
cd "$(dirname "$0")/../images"
rsvg-convert -w 128 -h 128 icon.svg -o icon.png
rsvg-convert quickfix.svg -o quickfix.png
