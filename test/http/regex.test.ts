/**
 * Every regular expression Relance runs must take linear time on any input (a backtracking one
 * let a single 1 MiB field freeze the server for minutes). This checks them all with recheck, a
 * ReDoS analyser that decides the complexity of a pattern: the regex literals of every source
 * file (found with the TypeScript parser, so none is missed), the patterns of every published
 * request schema, and the ajv-formats patterns the schemas use.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { REPO_ROOT } from '../helpers/processes.js';
import { setup } from '../helpers/setup.js';

interface Found {
  where: string;
  source: string;
  flags: string;
}

async function sourceRegexes(): Promise<Found[]> {
  const dir = join(REPO_ROOT, 'src');
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  const found: Found[] = [];
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node) => {
      const where = `${file.slice(REPO_ROOT.length)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
      if (ts.isRegularExpressionLiteral(node)) {
        const literal = node.text;
        const end = literal.lastIndexOf('/');
        found.push({ where, source: literal.slice(1, end), flags: literal.slice(end + 1) });
      }
      // A RegExp built at run time cannot be checked here: there must be none in src/.
      if ((ts.isNewExpression(node) || ts.isCallExpression(node)) && ts.isIdentifier(node.expression) && node.expression.text === 'RegExp') {
        assert.fail(`${where}: a RegExp built from a string cannot be checked for linear time; use a literal`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

function schemaPatterns(value: unknown, where: string, found: Found[]): Found[] {
  if (Array.isArray(value)) value.forEach((item, i) => schemaPatterns(item, `${where}/${i}`, found));
  else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key === 'pattern' && typeof item === 'string') found.push({ where, source: item, flags: 'u' });
      else schemaPatterns(item, `${where}/${key}`, found);
    }
  }
  return found;
}

test('every regular expression in src/ and in the request schemas runs in linear time', { timeout: 120_000 }, async () => {
  const ctx = await setup();
  const document = ctx.app.swagger();
  const found = [
    ...(await sourceRegexes()),
    ...schemaPatterns(document, 'openapi.json', []),
    // The formats the schemas use (`date` is a function over a fixed-length pattern).
    { where: 'ajv-formats email', source: (fullFormats.email as RegExp).source, flags: (fullFormats.email as RegExp).flags },
  ];
  assert.ok(found.length > 20, `only ${found.length} regular expressions found: is the walk broken?`);
  assert.ok(found.some((f) => f.where.startsWith('openapi.json')), 'the schema patterns were collected');
  const unsafe = found
    // recheck's own limit (10 s by default) could report a starved check as `timeout`, not a verdict.
    .map((f) => ({ ...f, result: checkSync(f.source, f.flags, { timeout: 60_000 }) }))
    .filter(({ result }) => result.status !== 'safe')
    .map(({ where, source, result }) => `${where}: /${source}/ is ${result.status}${'complexity' in result && result.complexity ? ` (${result.complexity.type})` : ''}`);
  assert.deepEqual(unsafe, []);
});

test('the check itself tells a backtracking pattern from a linear one', () => {
  // The URL pattern that froze the server, and its replacement's prefix check.
  assert.equal(checkSync('^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#]+[^\\s]*$', '').status, 'vulnerable');
  assert.equal(checkSync('^https?:\\/\\/[^\\s/?#]', 'i').status, 'safe');
});
