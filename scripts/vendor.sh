#!/usr/bin/env bash
# Fetch the pinned front-end libraries (package.json + package-lock.json) from
# the npm registry with `npm ci`, and copy the files the app serves into
# app/static/vendor/ (git-ignored). Versions live only in package.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules/htmx.org ] || [ ! -d node_modules/signature_pad ] || [ ! -d node_modules/htmx-ext-sse ] || [ ! -d node_modules/swagger-ui-dist ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
mkdir -p app/static/vendor
cp node_modules/htmx.org/dist/htmx.min.js app/static/vendor/htmx.min.js
cp node_modules/signature_pad/dist/signature_pad.umd.min.js app/static/vendor/signature_pad.umd.min.js
cp node_modules/htmx-ext-sse/dist/sse.min.js app/static/vendor/htmx-ext-sse.min.js
# The API docs page (/api/docs): served from here, not a CDN the dealership may not reach.
mkdir -p app/static/vendor/swagger-ui
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css app/static/vendor/swagger-ui/
node -e 'const p=require("./package-lock.json").packages;const o={};for(const[k,v]of Object.entries(p)){if(k)o[k.replace("node_modules/","")]=v.version}console.log(JSON.stringify(o,null,1))' > app/static/vendor/VERSIONS.json
