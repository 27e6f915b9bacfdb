// Fails when lib/ breaks its layering: an import that points up (or sideways between sibling
// layers), a package a layer must not use, an import cycle between files, a file over 400 lines,
// or a subpath entry (package.json "exports") that reaches beyond its layers.
//   core  <-  rx, cache  <-  redis  <-  nest
import fs from 'node:fs';
import path from 'node:path';

const MAX_LINES = 400;
const RANK = { core: 0, rx: 1, cache: 1, redis: 2, nest: 3 };
// Packages each layer may import (node: built-ins are open to every layer).
const PACKAGES = {
  core: [],
  rx: ['rxjs'],
  cache: ['cache-manager'],
  redis: ['redis', 'ioredis'],
  nest: ['@nestjs/common', '@nestjs/core', 'rxjs', 'cache-manager', 'prom-client'],
};
// The layers each subpath entry may reach, through every import of every file it loads: a plain
// Node program that imports nestjs-singleflight/core loads no Nest, rxjs, cache or Redis code.
// The root entry, lib/index.ts, is the Nest user's and may reach every layer.
const ENTRIES = {
  'lib/core/index.ts': ['core'],
  'lib/redis/index.ts': ['redis', 'cache', 'core'],
};

const files = fs
  .readdirSync('lib', { recursive: true })
  .map((f) => path.join('lib', f))
  .filter((f) => f.endsWith('.ts'));
const layerOf = (file) => file.split(path.sep)[1];
const problems = [];
const edges = new Map(); // file -> the files it imports statically (the graph of cycles)
const reach = new Map(); // file -> the files and packages it loads, dynamic import() included

for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) problems.push(`${file}: ${lines} lines (at most ${MAX_LINES})`);
  const from = layerOf(file);
  const targets = [];
  const loads = [];
  const found = (pattern, isStatic) => [...text.matchAll(pattern)].map((m) => [m[1], isStatic]);
  const specs = [
    ...found(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s*'([^']+)'/g, true),
    ...found(/(?:^|\n)\s*import\s*'([^']+)'/g, true), // for its side effects
    ...found(/\bimport\(\s*'([^']+)'\s*\)/g, false), // loaded when needed: no cycle
  ];
  for (const [spec, isStatic] of specs) {
    if (spec.startsWith('.')) {
      const target = path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, '.ts');
      if (isStatic) targets.push(target);
      loads.push(target);
      const to = layerOf(target);
      if (from === 'index.ts' || to === from) continue;
      if (RANK[to] === undefined || RANK[from] === undefined || RANK[to] >= RANK[from])
        problems.push(`${file}: imports ${target} (${from} may import only layers below it)`);
    } else if (!spec.startsWith('node:')) {
      const name = spec.startsWith('@')
        ? spec.split('/').slice(0, 2).join('/')
        : spec.split('/')[0];
      loads.push(name);
      if (from !== 'index.ts' && !PACKAGES[from]?.includes(name))
        problems.push(`${file}: imports package ${name} (not for ${from})`);
    }
  }
  edges.set(file, targets);
  reach.set(file, loads);
}

// Entries: every subpath of package.json "exports" has its rule, and everything a subpath entry
// loads, file by file, stays within its layers.
const { exports: subpaths } = JSON.parse(fs.readFileSync('package.json', 'utf8'));
for (const subpath of Object.keys(subpaths)) {
  if (subpath === '.' || subpath.endsWith('.json')) continue;
  const entry = `lib/${subpath.slice(2)}/index.ts`;
  if (!(entry in ENTRIES)) problems.push(`package.json exports ${subpath}: no rule for ${entry}`);
}
for (const [entry, layers] of Object.entries(ENTRIES)) {
  const entryFile = path.normalize(entry);
  if (!reach.has(entryFile)) {
    problems.push(`${entry}: missing (package.json "exports" names it)`);
    continue;
  }
  const allowed = new Set(layers.flatMap((layer) => PACKAGES[layer]));
  const seen = new Set([entryFile]);
  const queue = [[entryFile, [entryFile]]];
  for (const [file, trail] of queue) {
    for (const next of reach.get(file) ?? []) {
      const isFile = next.startsWith(`lib${path.sep}`);
      // An import the file's own layer may not make is reported above, once.
      const [from, to] = [layerOf(file), isFile && layerOf(next)];
      if (isFile ? to !== from && !(RANK[to] < RANK[from]) : !PACKAGES[from]?.includes(next))
        continue;
      const bad = isFile ? !layers.includes(to) : !allowed.has(next);
      if (bad)
        problems.push(
          `${entry} loads ${next} (${trail.concat(next).join(' -> ')}); it may load only ${layers.join(', ')}`,
        );
      else if (isFile && !seen.has(next)) {
        seen.add(next);
        queue.push([next, trail.concat(next)]);
      }
    }
  }
}

// Cycles: a depth-first walk; a file met again while still on the path closes a cycle.
const state = new Map(); // file -> 'open' | 'done'
const walk = (file, trail) => {
  if (state.get(file) === 'done') return;
  if (state.get(file) === 'open') {
    problems.push(`import cycle: ${trail.slice(trail.indexOf(file)).concat(file).join(' -> ')}`);
    return;
  }
  state.set(file, 'open');
  for (const next of edges.get(file) ?? []) walk(next, trail.concat(file));
  state.set(file, 'done');
};
for (const file of files) walk(file, []);

if (problems.length > 0) {
  console.error(`check-layers: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `check-layers: ${files.length} files, imports point down, no cycles, none over ${MAX_LINES} lines, ` +
    `entries ${Object.keys(ENTRIES).join(', ')} within their layers`,
);
