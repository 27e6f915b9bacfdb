// Fails when lib/ breaks its layering: an import that points up (or sideways between sibling
// layers), a package a layer must not use, an import cycle between files, or a file over 400 lines.
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

const files = fs
  .readdirSync('lib', { recursive: true })
  .map((f) => path.join('lib', f))
  .filter((f) => f.endsWith('.ts'));
const layerOf = (file) => file.split(path.sep)[1];
const problems = [];
const edges = new Map();

for (const file of files) {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_LINES) problems.push(`${file}: ${lines} lines (at most ${MAX_LINES})`);
  const from = layerOf(file);
  const targets = [];
  for (const [, spec] of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'";]*?from\s*'([^']+)'/g)) {
    if (spec.startsWith('.')) {
      const target = path.normalize(path.join(path.dirname(file), spec)).replace(/\.js$/, '.ts');
      targets.push(target);
      const to = layerOf(target);
      if (from === 'index.ts' || to === from) continue;
      if (RANK[to] === undefined || RANK[from] === undefined || RANK[to] >= RANK[from])
        problems.push(`${file}: imports ${target} (${from} may import only layers below it)`);
    } else if (!spec.startsWith('node:') && from !== 'index.ts') {
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
      if (!PACKAGES[from]?.includes(name)) problems.push(`${file}: imports package ${name} (not for ${from})`);
    }
  }
  edges.set(file, targets);
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
console.log(`check-layers: ${files.length} files, imports point down, no cycles, none over ${MAX_LINES} lines`);
