/**
 * scripts/build.mjs, which `npm start` runs before every start: it compiles the sources to
 * dist/ when they changed and only then, carries the migrations, drops what was deleted, and
 * two builds at once leave one whole dist/. Run on a copy of the repository's src/ so that the
 * checkout's own dist/ is left alone.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, stat, symlink, unlink, writeFile } from 'node:fs/promises';
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
await writeFile(join(root, 'package.json'), await readFile(join(REPO_ROOT, 'package.json')));
await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));

const build = (...args: string[]) => run(process.execPath, ['scripts/build.mjs', ...args], { cwd: root });
const stamp = () => stat(join(root, 'dist', '.build-stamp'));

describe('the build npm start runs', { concurrency: false }, () => {
  test('compiles every source to a runnable dist/ with the migrations', async () => {
    await build();
    const migrations = await readdir(join(root, 'src/db/migrations'));
    assert.deepEqual(await readdir(join(root, 'dist/db/migrations')), migrations);
    const { stderr } = await run(process.execPath, ['dist/cli/main.js', '--help'], { cwd: root });
    assert.match(stderr, /^Usage: relance <command>/);
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
    const { stderr } = await run(process.execPath, ['dist/cli/main.js', '--help'], { cwd: root });
    assert.match(stderr, /^Usage: relance <command>/);
    assert.deepEqual((await readdir(root)).filter((name) => name.startsWith('dist')), ['dist']);
  });
});
