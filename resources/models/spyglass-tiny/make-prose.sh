#!/usr/bin/env bash
# Writes kjv.txt: the King James Version (1611, public domain) from Debian's bible-kjv-text
# package (via its `bible` program), one verse per line. Used as the prose part of the corpus.
set -euo pipefail
cd "$(dirname "$0")"
command -v bible >/dev/null || { echo "install bible-kjv (apt-get install bible-kjv)"; exit 1; }
bible -f "Gen1:1-Rev22:21" > kjv.txt
echo "wrote $(wc -l < kjv.txt) lines to $(pwd)/kjv.txt"
