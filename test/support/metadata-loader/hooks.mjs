// Module hooks for register.mjs: `.js` specifiers of TypeScript sources resolve to the `.ts` file
// (NodeNext style), and `.ts` files are transpiled one by one, as ts-jest does for the tests.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const options = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  isolatedModules: true,
  sourceMap: false,
};

export async function resolve(specifier, context, next) {
  if (
    context.parentURL?.endsWith('.ts') &&
    specifier.startsWith('.') &&
    specifier.endsWith('.js')
  ) {
    const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const fileName = fileURLToPath(url);
  const source = await readFile(fileName, 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: options, fileName });
  return { format: 'module', source: outputText, shortCircuit: true };
}
