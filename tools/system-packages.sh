#!/usr/bin/env bash
# Debian packages the tests need beyond Python, installed only when missing. Called by
# `make browser`, `make tex` and .ci/run, so the list lives here alone.
#
#   tools/system-packages.sh browser   chromium-headless-shell (Debian's chromium built as the
#                                      headless shell), for the browser tests (never
#                                      `playwright install`, which downloads a browser)
#   tools/system-packages.sh tex       TeX and poppler, for `make pdf` and its test
#   tools/system-packages.sh all       both, with one apt-get update
#
# As root it installs with apt-get; otherwise through sudo when sudo runs without a password
# (hosted CI runners); otherwise it prints the command to run and exits 1.
set -euo pipefail

# Each group: the commands that must be found, then the packages that provide them.
browser_commands=(chromium-headless-shell)
browser_packages=(chromium-headless-shell)
tex_commands=(latexmk xelatex pdftotext pdfimages)
tex_packages=(latexmk texlive-latex-extra texlive-fonts-recommended texlive-xetex fonts-freefont-otf
              fonts-dejavu-core poppler-utils)

usage() {
    echo "usage: $0 browser|tex|all" >&2
    exit 2
}
[ "$#" -eq 1 ] || usage
case "$1" in
    browser) groups=(browser) ;;
    tex) groups=(tex) ;;
    all) groups=(browser tex) ;;
    *) usage ;;
esac

missing=()
packages=()
for group in "${groups[@]}"; do
    declare -n commands="${group}_commands" wanted="${group}_packages"
    absent=()
    for c in "${commands[@]}"; do
        command -v "$c" >/dev/null 2>&1 || absent+=("$c")
    done
    if [ "${#absent[@]}" -gt 0 ]; then
        missing+=("${absent[@]}")
        packages+=("${wanted[@]}")
    fi
    unset -n commands wanted
done
[ "${#packages[@]}" -eq 0 ] && exit 0

install=(apt-get install -y -qq --no-install-recommends "${packages[@]}")
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo)
else
    echo "$0: missing ${missing[*]}. As root, run:"
    echo "    apt-get update && apt-get install -y --no-install-recommends ${packages[*]}"
    exit 1
fi
echo "$0: installing Debian packages ${packages[*]} (missing: ${missing[*]})"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive "${install[@]}" >/dev/null
