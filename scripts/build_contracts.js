#!/usr/bin/env node
// Compiles contracts/**/*.sol with solc-js (standard JSON) and writes the ABIs and bytecode that ship in
// the Python package: src/fictra/chain/artifacts/<Name>.json. Also copies UniswapV2Factory/UniswapV2Pair
// from @uniswap/v2-core's prebuilt JSON (not recompiled).
//
// Deterministic: the same sources and compiler give byte-identical files (stable key order, trailing
// newline). "sourceHash" (sha256 over every compiled source, the compiler version and the settings) lets
// tests detect stale artifacts.
//
// Usage: node scripts/build_contracts.js [--out DIR] [--contracts DIR]   (or FICTRA_ARTIFACTS_OUT=DIR)
// --contracts compiles another source tree (tests use it); sources are named contracts/<relative path>.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const CONTRACTS_DIR = path.resolve(argValue('--contracts') || path.join(ROOT, 'contracts'));
const EIP170_LIMIT = 24576;

// Contracts whose artifacts ship, by name.
const SHIPPED = [
  'AuditAnchor',
  'CommodityFeed',
  'EmergencyController',
  'ERC1967Proxy',
  'FictraGovernor',
  'FictraTimelock',
  'FoundationToken',
  'PaymentToken',
  'ProofOfReserveFeed',
  'Reserve',
  'ReserveAsset',
];
const UNISWAP = ['UniswapV2Factory', 'UniswapV2Pair'];

function argValue(flag) {
  const idx = process.argv.indexOf(flag);
  if (idx === -1) return null;
  const value = process.argv[idx + 1];
  if (!value || value.startsWith('--')) {
    process.stderr.write(`build_contracts: ${flag} needs a directory\n`);
    process.exit(2);
  }
  return value;
}

function fail(message) {
  process.stderr.write(`build_contracts: ${message}\n`);
  process.exit(1);
}

function outputDir() {
  const out = argValue('--out');
  if (out) return path.resolve(out);
  if (process.env.FICTRA_ARTIFACTS_OUT) return path.resolve(process.env.FICTRA_ARTIFACTS_OUT);
  return path.join(ROOT, 'src', 'fictra', 'chain', 'artifacts');
}

function listSol(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listSol(full));
    else if (entry.name.endsWith('.sol')) found.push(full);
  }
  return found.sort();
}

function loadSolc() {
  try {
    return require(path.join(NODE_MODULES, 'solc'));
  } catch (err) {
    fail(`cannot load solc-js from node_modules (${err.message}). Run \`npm ci\` (make setup) first.`);
  }
}

// Every file solc asked for, by source unit name, so the hash covers imported OpenZeppelin code too.
const resolved = new Map();

function findImports(importPath) {
  const candidates = importPath.startsWith('@')
    ? [path.join(NODE_MODULES, importPath)]
    : [path.join(path.dirname(CONTRACTS_DIR), importPath), path.join(NODE_MODULES, importPath)];
  for (const file of candidates) {
    if (fs.existsSync(file)) {
      const contents = fs.readFileSync(file, 'utf8');
      resolved.set(importPath, contents);
      return { contents };
    }
  }
  return { error: `File not found: ${importPath} (looked in contracts/ and node_modules/)` };
}

function settings(runs) {
  return {
    evmVersion: 'cancun',
    optimizer: { enabled: true, runs },
    metadata: { bytecodeHash: 'ipfs' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  };
}

function stableJson(value) {
  // Objects keep insertion order in JSON.stringify; every object here is built in a fixed order, and
  // ABI entries come from solc in a deterministic order.
  return JSON.stringify(value, null, 2) + '\n';
}

function main() {
  const solc = loadSolc();
  const version = solc.version();
  if (!fs.existsSync(CONTRACTS_DIR)) fail(`no contracts directory at ${CONTRACTS_DIR}`);
  const files = listSol(CONTRACTS_DIR);
  if (files.length === 0) fail(`no .sol files under ${CONTRACTS_DIR}`);
  const sources = {};
  for (const file of files) {
    const unit = ['contracts', ...path.relative(CONTRACTS_DIR, file).split(path.sep)].join('/');
    sources[unit] = { content: fs.readFileSync(file, 'utf8') };
    resolved.set(unit, sources[unit].content);
  }
  const compilerSettings = settings(200);
  const input = { language: 'Solidity', sources, settings: compilerSettings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === 'error');
  if (errors.length > 0) {
    fail(`compile errors:\n${errors.map((e) => e.formattedMessage || e.message).join('\n')}`);
  }
  // Warnings in our own sources (not OpenZeppelin's) go to stderr; they do not fail the build.
  for (const w of output.errors || []) {
    const file = w.sourceLocation && w.sourceLocation.file;
    if (w.severity === 'warning' && file && file.startsWith('contracts/')) {
      process.stderr.write(`warning: ${w.formattedMessage || w.message}\n`);
    }
  }

  const hash = crypto.createHash('sha256');
  hash.update(`solc ${version}\n${JSON.stringify(compilerSettings)}\n`);
  for (const unit of [...resolved.keys()].sort()) {
    hash.update(`${unit}\n${resolved.get(unit)}\n`);
  }
  const sourceHash = hash.digest('hex');

  const out = outputDir();
  fs.mkdirSync(out, { recursive: true });
  const byName = {};
  for (const [unit, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, compiled] of Object.entries(contracts)) {
      if (SHIPPED.includes(name)) byName[name] = { unit, compiled };
    }
  }
  const oversized = [];
  for (const name of SHIPPED) {
    const found = byName[name];
    if (!found) fail(`contract ${name} was not produced by the compiler (is it still in contracts/?)`);
    const { unit, compiled } = found;
    const deployed = compiled.evm.deployedBytecode.object;
    const size = deployed.length / 2;
    if (size > EIP170_LIMIT) oversized.push(`${name} (${size} bytes)`);
    const artifact = {
      contractName: name,
      abi: compiled.abi,
      bytecode: '0x' + compiled.evm.bytecode.object,
      deployedBytecode: '0x' + deployed,
      source: unit,
      sourceHash,
      compiler: `solc ${version}`,
    };
    fs.writeFileSync(path.join(out, `${name}.json`), stableJson(artifact));
    console.log(`${name}: ${size} bytes deployed, from ${unit}`);
  }
  for (const name of UNISWAP) {
    const file = path.join(NODE_MODULES, '@uniswap', 'v2-core', 'build', `${name}.json`);
    if (!fs.existsSync(file)) fail(`${file} is missing. Run \`npm ci\` (make setup) first.`);
    const raw = fs.readFileSync(file);
    const built = JSON.parse(raw.toString('utf8'));
    const artifact = {
      contractName: name,
      abi: built.abi,
      bytecode: '0x' + built.evm.bytecode.object,
      deployedBytecode: '0x' + built.evm.deployedBytecode.object,
      source: `@uniswap/v2-core/build/${name}.json`,
      sourceHash: crypto.createHash('sha256').update(raw).digest('hex'),
      compiler: 'prebuilt by @uniswap/v2-core 1.0.1 (solc 0.5.16)',
    };
    fs.writeFileSync(path.join(out, `${name}.json`), stableJson(artifact));
    console.log(`${name}: ${built.evm.deployedBytecode.object.length / 2} bytes deployed, from ${artifact.source}`);
  }
  if (oversized.length > 0) {
    fail(`contracts above the EIP-170 limit of ${EIP170_LIMIT} bytes: ${oversized.join(', ')}`);
  }
}

main();
