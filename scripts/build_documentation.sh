#!/usr/bin/env bash
# Builds the DocC reference of the four libraries (symbols and the articles of Sources/<Module>/<Module>.docc)
# with swift-docc-plugin, as static sites under .build/documentation/<module>/ (open index.html through a web
# server, or pass --hosting-base-path for a subfolder of a site). Extra arguments go to every
# generate-documentation call, e.g. --warnings-as-errors.
set -euo pipefail
cd "$(dirname "$0")/.."
# Package.swift adds swift-docc-plugin only when this is set (see the note at its end).
export BACKPROP_DOCUMENTATION=1
mkdir -p .build/documentation
for module in Backprop BackpropNN BackpropTeaching BackpropCommandLine; do
    output=".build/documentation/$(echo "$module" | tr '[:upper:]' '[:lower:]')"
    swift package --allow-writing-to-directory "$output" generate-documentation --target "$module" \
        --disable-indexing --transform-for-static-hosting --output-path "$output" "$@"
done
echo "documentation in .build/documentation/"
