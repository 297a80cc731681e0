#!/usr/bin/env bash
# Installs the corpora of the character language models into corpora/ (not committed; the small samples
# corpora/words-sample.txt and corpora/fortunes-sample.txt are):
#
#   corpora/words.txt     the lowercase words (a-z only: no names, no possessives) of Debian's wamerican
#                         word list (SCOWL), one per line: about 64 000 words, 580 KB
#   corpora/fortunes.txt  the quotations of Debian's fortunes package (fortune-mod), a selection of its
#                         files, one blank line between quotations, control characters (overstriking) removed:
#                         about 2 MB
#
# The packages' own files are read from /usr/share/dict and /usr/share/games/fortunes; when they are missing
# and this runs as root with apt-get, it installs wamerican and fortunes first. Their licences are in
# /usr/share/doc/wamerican/copyright and /usr/share/doc/fortunes/copyright.
#
#   scripts/fetch_corpora.sh
#   swift run -c release backprop train --data corpora/words.txt --word-list --model transformer
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dict=/usr/share/dict/american-english
fortunes=/usr/share/games/fortunes
if [ ! -f "$dict" ] || [ ! -f "$fortunes/wisdom" ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        apt-get install -y -qq wamerican fortunes >/dev/null
    else
        echo "fetch_corpora.sh: needs Debian's wamerican and fortunes packages: sudo apt-get install wamerican fortunes" >&2
        exit 1
    fi
fi
mkdir -p "$root/corpora"
LC_ALL=C grep -E '^[a-z]+$' "$dict" > "$root/corpora/words.txt"
files="fortunes wisdom literature science computers people work humorists education platitudes tao law linux
       miscellaneous goedel paradoxum magic news medicine love kids pets food sports startrek riddles
       songs-poems definitions cookie linuxcookie debian zippy"
for name in $files; do
    [ -f "$fortunes/$name" ] && sed 's/^%$//' "$fortunes/$name"
done | LC_ALL=C tr -d '\000-\010\013-\037' > "$root/corpora/fortunes.txt"
echo "wrote corpora/words.txt ($(wc -l < "$root/corpora/words.txt") words) and corpora/fortunes.txt ($(wc -c < "$root/corpora/fortunes.txt") bytes)"
