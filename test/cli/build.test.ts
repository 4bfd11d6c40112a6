/**
 * scripts/build.mjs, which `npm start` runs before every start: it compiles the sources to
 * dist/ when they changed and only then, carries the migrations, drops what was deleted, and
 * two builds at once leave one whole dist/. Run on a copy of the repository's src/ so that the
 * checkout's own dist/ is left alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/processes.js';

const run = promisify(execFile);
const root = await mkdtemp(join(tmpdir(), 'relance-build-'));
after(() => rm(root, { recursive: true, force: true }));
await cp(join(REPO_ROOT, 'src'), join(root, 'src'), { recursive: true });
await cp(join(REPO_ROOT, 'scripts'), join(root, 'scripts'), { recursive: true });
for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) await writeFile(join(root, file), await readFile(join(REPO_ROOT, file)));
await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));

const build = (...args: string[]) => run(process.execPath, ['scripts/build.mjs', ...args], { cwd: root });
const stamp = () => stat(join(root, 'dist', '.build-stamp'));

describe('the build npm start runs', { concurrency: false }, () => {
  test('compiles every source to a runnable dist/ with the migrations', async () => {
    await build();
    const migrations = await readdir(join(root, 'src/db/migrations'));
    assert.deepEqual(await readdir(join(root, 'dist/db/migrations')), migrations);
    const { stdout } = await run(process.execPath, ['dist/cli/main.js', '--help'], { cwd: root });
    assert.match(stdout, /^Usage: relance <command>/);
  });

  test('does nothing when no source changed, and rebuilds when one did', async () => {
    const first = await stamp();
    await build();
    assert.equal((await stamp()).mtimeMs, first.mtimeMs, 'nothing changed: dist/ is left as it is');

    const file = join(root, 'src/start-refused.ts');
    await writeFile(file, `${await readFile(file, 'utf8')}\nexport const BUILD_MARK = 'changed';\n`);
    await build();
    assert.match(await readFile(join(root, 'dist/start-refused.js'), 'utf8'), /BUILD_MARK = "changed"/);
  });

  test('a change to tsconfig.json or the lock file rebuilds; with nothing to build, esbuild is not needed', async () => {
    for (const file of ['tsconfig.json', 'package-lock.json']) {
      const before = await stamp();
      await writeFile(join(root, file), file === 'tsconfig.json' ? '{ "compilerOptions": { "target": "ES2022" } }\n' : '{}\n');
      await build();
      assert.notEqual((await stamp()).mtimeMs, before.mtimeMs, `${file} changed: rebuilt`);
    }
    // A tree installed without its dev dependencies: no esbuild, dist/ already built for it.
    await unlink(join(root, 'node_modules'));
    await mkdir(join(root, 'node_modules'));
    try {
      const before = await stamp();
      await build();
      assert.equal((await stamp()).mtimeMs, before.mtimeMs);
    } finally {
      await rm(join(root, 'node_modules'), { recursive: true });
      await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    }
  });

  test('a linked source is built like a file; leftovers of a killed build are removed', async () => {
    const elsewhere = join(root, 'linked-source.ts');
    await writeFile(elsewhere, 'export const linked = true;\n');
    await symlink(elsewhere, join(root, 'src/linked.ts'));
    // No process has this id: Linux's pid_max is at most 4,194,304.
    await mkdir(join(root, 'dist.next-99999999'));
    await build();
    assert.match(await readFile(join(root, 'dist/linked.js'), 'utf8'), /linked = true/);
    await assert.rejects(stat(join(root, 'dist.next-99999999')), { code: 'ENOENT' });
    await unlink(join(root, 'src/linked.ts'));
  });

  test('a deleted source is gone from dist/', async () => {
    await writeFile(join(root, 'src/extra-module.ts'), 'export const extra = 1;\n');
    await build();
    assert.ok(await stat(join(root, 'dist/extra-module.js')));
    await unlink(join(root, 'src/extra-module.ts'));
    await build();
    await assert.rejects(stat(join(root, 'dist/extra-module.js')), { code: 'ENOENT' });
  });

  test('builds at once leave one whole dist/ and no leftovers beside it', async () => {
    await Promise.all(Array.from({ length: 4 }, () => build('--force')));
    const { stdout } = await run(process.execPath, ['dist/cli/main.js', '--help'], { cwd: root });
    assert.match(stdout, /^Usage: relance <command>/);
    assert.deepEqual((await readdir(root)).filter((name) => name.startsWith('dist')), ['dist']);
  });
});
