#!/bin/sh
# The .deb as a user gets it: built with CPack from BUILD_DIR, unpacked into a scratch root, its
# contents checked (programs, shipped models, desktop entry, icon, AppStream metainfo, man pages,
# bash completion, copyright; no test data), its dependencies computed, lintian without errors,
# and the installed spyglass-cli analysing the installed default model found by name.
#   tests/package/check-package.sh BUILD_DIR
set -eu
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "package: $*" >&2; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" > "$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/out/*.deb)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1))"
dpkg-deb -x "$deb" "$work/root"
for f in usr/bin/spyglass usr/bin/spyglass-cli \
         usr/share/spyglass/models/spyglass-tiny/config.json usr/share/spyglass/models/spyglass-tiny/model.safetensors \
         usr/share/spyglass/models/spyglass-shapes/model_index.json usr/share/spyglass/models/spyglass-shapes/tokenizer/merges.txt \
         usr/share/applications/spyglass.desktop usr/share/icons/hicolor/scalable/apps/spyglass.svg \
         usr/share/metainfo/io.github.spyglass.Spyglass.metainfo.xml \
         usr/share/man/man1/spyglass.1.gz usr/share/man/man1/spyglass-cli.1.gz \
         usr/share/bash-completion/completions/spyglass-cli usr/share/doc/spyglass/copyright usr/share/doc/spyglass/changelog.gz; do
  [ -e "$work/root/$f" ] || fail "missing /$f"
done
# Test data and license-unclear files are never packaged.
found=$(find "$work/root" \( -path '*fixtures*' -o -name '*.gguf' -o -name 'aidreams*' -o -name 'tok512.bin' -o -name 'checkpoint*' \) -print)
[ -z "$found" ] || fail "test data in the package: $found"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
echo "$depends" | grep -q 'libtorch' || fail "dpkg-shlibdeps did not name libtorch"
echo "$depends" | grep -q 'libqt6' || fail "dpkg-shlibdeps did not name Qt 6"

# The installed CLI on the installed default model, by name (no path).
cli="$work/root/usr/bin/spyglass-cli"
(cd "$work" && "$cli" analyze --model spyglass-tiny --prompt "1, 2, 3," --max-new-tokens 2 --out "$work/report.json") \
  || fail "the installed spyglass-cli could not analyse the installed default model"
grep -q "\"path\": *\"$work/root/usr/share/spyglass/models/spyglass-tiny\"" "$work/report.json" ||
  grep -q "$work/root/usr/share/spyglass/models/spyglass-tiny" "$work/report.json" || fail "the report names another model"
# Man pages render; the completion completes subcommands and a subcommand's options.
MANWIDTH=80 man -l "$work/root/usr/share/man/man1/spyglass-cli.1.gz" 2>/dev/null | grep -q "steer-vector" || fail "man page"
completion=$(bash -c '. "$1"; COMP_WORDS=("$2" an); COMP_CWORD=1; _spyglass_cli; echo "${COMPREPLY[*]}"' sh \
  "$work/root/usr/share/bash-completion/completions/spyglass-cli" "$cli")
[ "$completion" = "analyze" ] || fail "completion of 'an': '$completion'"
completion=$(bash -c '. "$1"; COMP_WORDS=("$2" analyze --contr); COMP_CWORD=2; _spyglass_cli; echo "${COMPREPLY[*]}"' sh \
  "$work/root/usr/share/bash-completion/completions/spyglass-cli" "$cli")
[ "$completion" = "--contrast-with" ] || fail "completion of 'analyze --contr': '$completion'"

# Desktop entry, AppStream metainfo, lintian.
if command -v desktop-file-validate > /dev/null; then
  desktop-file-validate "$work/root/usr/share/applications/spyglass.desktop" || fail "desktop-file-validate"
fi
if command -v appstreamcli > /dev/null; then
  appstreamcli validate --no-net "$work/root/usr/share/metainfo/io.github.spyglass.Spyglass.metainfo.xml" || fail "appstreamcli validate"
fi
if command -v lintian > /dev/null; then
  lintian --fail-on error --suppress-tags-from-file /dev/null "$deb" > "$work/lintian.log" 2>&1 || { cat "$work/lintian.log"; fail "lintian reports errors"; }
  echo "lintian: $(grep -c '^E:' "$work/lintian.log" || true) errors, $(grep -c '^W:' "$work/lintian.log" || true) warnings"
fi
echo "package: ok"
