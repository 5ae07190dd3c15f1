#!/usr/bin/env node
// Copies the web console's front-end assets from node_modules into src/fictra/web/static/vendor/, and
// Swagger UI (for /api/docs) into src/fictra/api/static/swagger/, so neither the console nor the API docs
// need Node or a CDN at run time (the vendored files are committed).
//
// Versions are the exact ones package.json pins; each file gets its package's licence beside it.
// Usage: node scripts/vendor_assets.js [--check]   (--check: exit 1 when a committed file differs)
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const OUT = path.join(ROOT, 'src', 'fictra', 'web', 'static', 'vendor');
const API_OUT = path.join(ROOT, 'src', 'fictra', 'api', 'static', 'swagger');

// [package, file inside the package, name under vendor/ (or under the fourth element's directory)]
const ASSETS = [
  ['swagger-ui-dist', 'swagger-ui-bundle.js', 'swagger-ui-bundle.js', API_OUT],
  ['swagger-ui-dist', 'swagger-ui.css', 'swagger-ui.css', API_OUT],
  ['swagger-ui-dist', 'LICENSE', 'swagger-ui.LICENSE.txt', API_OUT],
  ['htmx.org', 'dist/htmx.min.js', 'htmx.min.js'],
  ['htmx.org', 'LICENSE', 'htmx.LICENSE.txt'],
  ['uplot', 'dist/uPlot.iife.min.js', 'uPlot.iife.min.js'],
  ['uplot', 'dist/uPlot.min.css', 'uPlot.min.css'],
  ['uplot', 'LICENSE', 'uPlot.LICENSE.txt'],
];

function main() {
  const check = process.argv.includes('--check');
  fs.mkdirSync(OUT, { recursive: true });
  fs.mkdirSync(API_OUT, { recursive: true });
  const versions = {};
  let stale = 0;
  for (const [pkg, file, name, dir] of ASSETS) {
    const pkgDir = path.join(NODE_MODULES, pkg);
    const src = path.join(pkgDir, file);
    if (!fs.existsSync(src)) {
      console.error(`${src} is missing: run 'npm ci' first (package.json pins ${pkg}).`);
      process.exit(2);
    }
    versions[pkg] = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
    const dest = path.join(dir || OUT, name);
    const data = fs.readFileSync(src);
    if (check) {
      if (!fs.existsSync(dest) || !fs.readFileSync(dest).equals(data)) {
        console.error(`${dest} differs from ${pkg}/${file}: run 'node scripts/vendor_assets.js'.`);
        stale += 1;
      }
    } else {
      fs.writeFileSync(dest, data);
    }
  }
  const manifest = JSON.stringify(versions, Object.keys(versions).sort(), 2) + '\n';
  const manifestPath = path.join(OUT, 'versions.json');
  if (check) {
    if (!fs.existsSync(manifestPath) || fs.readFileSync(manifestPath, 'utf8') !== manifest) stale += 1;
    process.exit(stale ? 1 : 0);
  }
  fs.writeFileSync(manifestPath, manifest);
  console.log(`vendored ${ASSETS.length} files into ${path.relative(ROOT, OUT)}: ${JSON.stringify(versions)}`);
}

main();
