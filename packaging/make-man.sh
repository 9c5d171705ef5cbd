#!/bin/sh
# Writes a gzipped man page for a Spyglass program from its own --help and --version (help2man),
# with each subcommand's --help as a section (spyglass-cli). Used by the build (cmake/Packaging.cmake).
#   make-man.sh PROGRAM "one-line description" OUT.1.gz [SUBCOMMAND…]
set -eu
program=$1
name=$2
out=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
include="$work/include.h2m"
{
  echo "[DESCRIPTION]"
  echo "Spyglass: $name."
  echo "The README (/usr/share/doc/spyglass/README.md) describes every view and format and the measured numbers."
  if [ $# -gt 0 ]; then
    echo "[SUBCOMMANDS]"
    for command in "$@"; do
      echo ".SS $command"
      echo ".nf"
      "$program" "$command" --help 2>/dev/null | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"
      echo ".fi"
    done
  fi
  echo "[FILES]"
  echo "The shipped models: /usr/share/spyglass/models (spyglass-tiny, the default language model; spyglass-shapes, the image model)."
} > "$include"
LC_ALL=C.UTF-8 LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen help2man --no-info --locale=C.UTF-8 --name "$name" --include "$include" \
  --output "$work/page.1" "$program"
gzip -9n -c "$work/page.1" > "$out"
