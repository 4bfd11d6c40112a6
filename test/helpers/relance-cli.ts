import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Child, Sandbox } from './processes.js';
import { holdEmbedded, relanceEnv } from './processes.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `relance <args>` (src/cli/main.ts) on the embedded database of `dataDir` to completion. */
export async function runCli(box: Sandbox, dataDir: string, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = box.node(['src/cli/main.ts', ...args], relanceEnv(dataDir, env), { label: `relance ${args.join(' ')}` });
  const exit = await child.waitForExit();
  return { code: exit.code, stdout: child.stdout, stderr: child.stderr };
}

/** The one JSON object a successful command prints: exit 0, a single line on stdout. */
export function printedObject(result: CliResult): any {
  assert.equal(result.code, 0, `exit code 0 expected\n${result.stderr}`);
  const lines = result.stdout.split('\n');
  assert.equal(lines.length, 2, `one line on stdout expected, got:\n${result.stdout}`);
  assert.equal(lines[1], '');
  return JSON.parse(lines[0]!);
}

/** `relance serve` as a detached process group, so a test can kill it together with its PostgreSQL. */
export function startServe(box: Sandbox, dataDir: string, env: Record<string, string> = {}): Child {
  return box.node(['src/cli/main.ts', 'serve'], relanceEnv(dataDir, { PORT: '0', LOG_LEVEL: 'info', ...env }), {
    detached: true,
    label: 'relance serve',
  });
}

/** Every stdout line of `serve` is one JSON object: pino log lines and the demo credentials. */
export function stdoutObjects(child: Child): any[] {
  return child.stdoutLines.map((line) => {
    try {
      return JSON.parse(line);
    } catch {
      throw new Error(`serve printed a line on stdout that is not JSON: ${line}`);
    }
  });
}

/** The base URL `serve` listens on, from Fastify's "Server listening at" log line. */
export function waitForListening(child: Child): Promise<string> {
  return child.waitFor('the server to listen', () => {
    const entry = stdoutObjects(child).find((o) => typeof o.msg === 'string' && o.msg.startsWith('Server listening at '));
    return entry ? String(entry.msg).slice('Server listening at '.length) : undefined;
  });
}

export interface Demo {
  company_id: string;
  client_id: string;
  client_secret: string;
  scopes: string[];
  debt_id: string;
}

const DEMO_ANNOUNCED = 'A demo company, API client and debt were created';

/**
 * The demo credentials of a first `serve`: announced on stderr (never on stdout, the log
 * stream) and kept in DATA_DIR/demo-credentials.json, which is read here once it is announced.
 */
export function waitForDemo(child: Child, dataDir: string): Promise<Demo> {
  return child.waitFor('the demo credentials', () => {
    if (!child.stderr.includes(DEMO_ANNOUNCED)) return undefined;
    return JSON.parse(readFileSync(join(dataDir, 'demo-credentials.json'), 'utf8')) as Demo;
  });
}

/** Whether `serve` announced demo credentials (it must only on an empty database). */
export function announcedDemo(child: Child): boolean {
  return child.stderr.includes(DEMO_ANNOUNCED);
}

/** A bearer token for a client, over real HTTP. */
export async function tokenFor(baseUrl: string, clientId: string, clientSecret: string): Promise<string> {
  const response = await fetch(`${baseUrl}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { access_token: string }).access_token;
}

/**
 * A DATA_DIR whose embedded server a holder process keeps running, as `relance serve` would, so
 * that commands reuse it and can run side by side; with one company made by the CLI.
 */
export async function heldDataDir(box: Sandbox, companyName: string): Promise<{ dir: string; companyId: string }> {
  const dir = await box.dataDir();
  await holdEmbedded(box, dir);
  return { dir, companyId: printedObject(await runCli(box, dir, ['company', 'create', '--name', companyName])).id };
}
