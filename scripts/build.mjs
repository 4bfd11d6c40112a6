#!/usr/bin/env node
// Compiles src/ to dist/ (one JavaScript file and source map per TypeScript file, the same
// layout, migrations copied) with esbuild, in about a third of a second: `npm start` runs it
// before every start, so that the server runs plain JavaScript (no loader thread, ~45 MiB less
// resident memory and ~0.7 s less start-up than running the sources through tsx) and still
// runs the sources as they are. It only strips types: `npm run typecheck` checks them.
//
// Skipped when dist/ was built from the sources as they are now: same files, same sizes, same
// modification times, and the same tsconfig.json, package.json and package-lock.json (esbuild
// reads the first; the others name its version and the module format). A file whose content
// changed under the same size and modification time is not seen (git always writes a new
// time), nor a file deleted from dist/ by hand: `--force` rebuilds. A new build is written
// beside dist/ and swapped in by rename, so that a process starting from dist/ meanwhile never
// sees it half written. With nothing to build, esbuild is not needed (a tree installed without
// its dev dependencies starts from the dist/ built for it).
//
// Usage: node scripts/build.mjs [--force]
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const STAMP = '.build-stamp';

/** Every file below `dir` (a link to a file counts as the file), as paths relative to it. */
async function files(dir) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const listed = await Promise.all(entries.map(async (entry) => {
    // `parentPath` is Node 20.12's name for `path`.
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const isFile = entry.isFile() || (entry.isSymbolicLink() && (await stat(path).then((target) => target.isFile(), () => false)));
    return isFile ? relative(dir, path) : undefined;
  }));
  return listed.filter((file) => file !== undefined).sort();
}

/** A line per input of the build: its path, size and modification time. */
async function describe(path, name) {
  const { size, mtimeMs } = await stat(path);
  return `${name} ${size} ${mtimeMs}`;
}

/** What the build depends on: the sources, the settings and lock files, and this script. */
async function fingerprint(sources) {
  const settings = ['tsconfig.json', 'package.json', 'package-lock.json', 'scripts/build.mjs'];
  return (await Promise.all([
    ...settings.map((file) => describe(join(root, file), file).catch(() => `${file} absent`)),
    ...sources.map((file) => describe(join(src, file), `src/${file}`)),
  ])).join('\n');
}

/** Leftovers of builds that were killed before their swap (their process is gone). */
async function removeLeftovers() {
  const alive = (pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return error.code === 'EPERM';
    }
  };
  for (const name of await readdir(root)) {
    const match = /^dist\.(?:next|old)-(\d+)$/.exec(name);
    if (match && !alive(Number(match[1]))) await rm(join(root, name), { recursive: true, force: true }).catch(() => {});
  }
}

const sources = await files(src);
const stamp = await fingerprint(sources);
const built = await readFile(join(dist, STAMP), 'utf8').catch(() => undefined);
if (built === stamp && !process.argv.includes('--force')) process.exit(0);

await removeLeftovers();
const next = `${dist}.next-${process.pid}`;
await rm(next, { recursive: true, force: true });
// esbuild is loaded only when there is something to build: a start with nothing to do stays quick.
const { build } = await import('esbuild');
await build({
  entryPoints: sources.filter((file) => file.endsWith('.ts')).map((file) => join(src, file)),
  outbase: src,
  outdir: next,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
for (const file of sources.filter((name) => !name.endsWith('.ts'))) {
  await mkdir(dirname(join(next, file)), { recursive: true });
  await cp(join(src, file), join(next, file));
}
await writeFile(join(next, STAMP), stamp);

const old = `${dist}.old-${process.pid}`;
await rename(dist, old).catch((error) => {
  if (error.code !== 'ENOENT') throw error;
});
await rename(next, dist).catch(async (error) => {
  // Another start built the same sources at the same moment and swapped its build in first.
  if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
  await rm(next, { recursive: true, force: true });
});
// The build in use is the new one: an old one that cannot be removed (made by another user) is
// only left behind.
await rm(old, { recursive: true, force: true }).catch((error) => {
  process.stderr.write(`scripts/build.mjs: could not remove the previous build ${old}: ${error.message}\n`);
});
