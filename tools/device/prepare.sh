#!/bin/bash
# Run here (Debian 12, with libicu-dev and the release build's compile flags), before sending the
# tree to a GPU machine: copies the ICU 72 headers that the core includes into .devdeps/icu72-as-74
# with the version renamed to 74, the ICU that the GPU machine's Ubuntu 24.04 ships without headers.
# .devdeps is ignored by git (.git/info/exclude) and travels with the device tool's `carry`.
set -eu
cd "$(dirname "$0")/../.."
grep -qx '/.devdeps/' .git/info/exclude 2>/dev/null || echo '/.devdeps/' >> .git/info/exclude
out=.devdeps/icu72-as-74/unicode
rm -rf .devdeps/icu72-as-74 && mkdir -p "$out"
for f in core/src/image/clip_tokenizer.cpp core/src/tokenize/regex_splitter.cpp; do
  g++ -std=c++20 -M -Icore/include -Icore/src -Ibuild/release/core/generated -isystem /usr/include/torch/csrc/api/include "$f"
done | tr ' \\' '\n\n' | grep '/usr/include/unicode/' | sort -u | xargs cp -t "$out"
sed -i -e 's/#define U_ICU_VERSION_MAJOR_NUM 72/#define U_ICU_VERSION_MAJOR_NUM 74/' \
       -e 's/#define U_ICU_VERSION_MINOR_NUM 1/#define U_ICU_VERSION_MINOR_NUM 2/' \
       -e 's/#define U_ICU_VERSION_SUFFIX _72/#define U_ICU_VERSION_SUFFIX _74/' \
       -e 's/"72.1"/"74.2"/g' -e 's/#define U_ICU_VERSION_SHORT "72"/#define U_ICU_VERSION_SHORT "74"/' "$out/uvernum.h"
echo "$(ls "$out" | wc -l) headers in $out ($(du -sh .devdeps | cut -f1))"
