#!/usr/bin/env bash
# Installs what the benchmark needs besides the project: wrk, Java and redis-server (Debian packages) and
# WireMock (the npm package `wiremock`, which bundles its jar). Idempotent.
set -euo pipefail
cd "$(dirname "$0")"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v java >/dev/null || need+=(default-jre-headless)
command -v npm >/dev/null || need+=(npm)
command -v redis-server >/dev/null || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! ls .cache/node_modules/wiremock/build/wiremock-standalone-*.jar >/dev/null 2>&1; then
    mkdir -p .cache
    npm install --prefix .cache --no-audit --no-fund --silent wiremock@3.13.2
fi
