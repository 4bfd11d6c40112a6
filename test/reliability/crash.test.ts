/**
 * The reliability suite's crash test: the processes of the README's "Deploying" section (the
 * Procfile's `web` with WORKER=off and its `worker`, from the built dist/, run as written) on one
 * PostgreSQL, under concurrent creates and updates, each killed with SIGKILL at random moments
 * and restarted. Afterwards every write that got a 2xx is there, every event of those writes has
 * reached the receiver at least once with both signatures valid, and no write that was refused
 * caused one. The figures go to the test's diagnostics (and the note).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { freshDatabase } from '../helpers/database.js';
import { REPO_ROOT, relanceEnv, sandbox, waitFor, within, type Child } from '../helpers/processes.js';
import { printedObject, runCli, tokenFor, waitForListening } from '../helpers/relance-cli.js';
import { receiver, type Received } from '../helpers/webhooks.js';

const box = sandbox();
const WRITERS = 6;
const LOAD_MS = 20_000;
const KILLS = 6;

/** The Procfile's commands by process name. */
function procfile(): Record<string, string> {
  const entries = readFileSync(join(REPO_ROOT, 'Procfile'), 'utf8').split('\n').filter((line) => /^\w+:/.test(line));
  return Object.fromEntries(entries.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
}

/**
 * A free port below Linux's ephemeral range (32768 and up): the web process binds it again on
 * every restart, and meanwhile no outgoing connection of the machine can be given it, nor can a
 * writer's retry connect to itself (a source port equal to the port it dials).
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }
}

const random = (min: number, max: number) => min + Math.random() * (max - min);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Both signature schemes, checked with the secret alone, as a receiver would. */
function signedBoth(request: Received, secret: string): boolean {
  try {
    new Webhook(secret).verify(request.raw, request.headers as Record<string, string>);
  } catch {
    return false;
  }
  const expected = Buffer.from(createHmac('sha256', secret).update(request.raw).digest('hex'));
  const sent = Buffer.from(String(request.headers['x-getbill-signature']));
  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

describe('reliability: kill -9 of the API and the worker under load', () => {
  test('every acknowledged write is kept and its events delivered at least once, signed; none for refused writes', { timeout: 300_000 }, async (t) => {
    // The Procfile runs the build, as a deployment would.
    execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const commands = procfile();
    assert.ok(commands.web && commands.worker, 'the Procfile names a web and a worker process');

    const databaseUrl = await freshDatabase();
    const secretKey = randomBytes(32).toString('hex');
    const dataDir = await box.dataDir();
    const hook = await receiver();
    const port = await freePort();
    const env = relanceEnv(dataDir, {
      DATABASE_URL: databaseUrl, RELANCE_SECRET_KEY: secretKey, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info',
      WEBHOOK_ALLOW_HTTP: 'true', OUTBOUND_ALLOW: '127.0.0.1', WEBHOOK_RETRY_BASE_MS: '200',
      RATE_LIMIT_READS: '1000000', RATE_LIMIT_WRITES: '1000000',
    });
    const cli = async (args: string[]) => printedObject(await runCli(box, dataDir, args, { DATABASE_URL: databaseUrl, RELANCE_SECRET_KEY: secretKey }));
    await cli(['migrate']);
    const company = await cli(['company', 'create', '--name', 'Crash test']);
    const client = await cli(['client', 'create', '--company', company.id, '--scopes', 'followups:read followups:write debts:write webhooks:write webhooks:read']);
    const debt = await cli(['debt', 'create', '--company', company.id, '--firstname', 'Jane', '--lastname', 'Doe', '--amount', '100', '--currency', 'EUR', '--email', 'jane@example.com']);

    const running: Record<'web' | 'worker', Child | undefined> = { web: undefined, worker: undefined };
    const start = (name: 'web' | 'worker') => {
      running[name] = box.spawn('sh', ['-c', commands[name]!], { env, label: name });
      return running[name]!;
    };
    const base = await waitForListening(start('web'));
    start('worker');
    const token = await tokenFor(base, client.client_id, client.client_secret);
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const subscribed = await fetch(`${base}/external-api/v1/webhooks`, {
      method: 'POST', headers: auth,
      body: JSON.stringify({ url: `${hook.url}/crash`, events: ['followup.created', 'followup.updated', 'followup.completed'] }),
    });
    assert.equal(subscribed.status, 201, await subscribed.clone().text());
    const secret: string = ((await subscribed.json()) as any).data.secret;

    // Writers: create, then complete, each followup; now and then a write the API refuses.
    const created = new Map<string, string>(); // id → summary, acknowledged with 201
    const completed = new Set<string>(); // ids whose update to deal_found got a 200
    let refused = 0;
    let unknown = 0; // no answer (the API was down, or killed mid-request: committed or not, nobody was told)
    let stop = false;
    const send = async (method: string, path: string, payload: unknown): Promise<Response | undefined> => {
      try {
        return await fetch(`${base}/external-api/v1${path}`, { method, headers: auth, body: JSON.stringify(payload), signal: AbortSignal.timeout(10_000) });
      } catch {
        unknown++;
        await sleep(50);
        return undefined;
      }
    };
    const writer = async (w: number) => {
      for (let n = 0; !stop; n++) {
        if (n % 5 === 4) {
          const bad = await send('POST', '/followups', { debt_id: debt.id, status: 'not-a-status', summary: `refused ${w}-${n}` });
          if (bad?.status === 400) refused++;
          await bad?.body?.cancel();
          continue;
        }
        const summary = `crash ${w}-${n}`;
        const response = await send('POST', '/followups', { debt_id: debt.id, type: 'call', summary });
        if (response?.status !== 201) {
          await response?.body?.cancel();
          continue;
        }
        let id: string;
        try {
          id = ((await response.json()) as any).data.id;
        } catch {
          unknown++;
          continue;
        }
        created.set(id, summary);
        const update = await send('PATCH', `/followups/${id}`, { status: 'deal_found' });
        if (update?.status === 200) completed.add(id);
        await update?.body?.cancel();
      }
    };

    // Chaos: kill one of the two (or both) at random moments, restart at once.
    const kills = { web: 0, worker: 0 };
    const chaos = async () => {
      for (let i = 0; i < KILLS; i++) {
        await sleep(random(LOAD_MS / KILLS / 2, LOAD_MS / KILLS));
        const victims: ('web' | 'worker')[] = i === KILLS - 1 ? ['web', 'worker'] : [Math.random() < 0.5 ? 'web' : 'worker'];
        for (const name of victims) {
          const child = running[name]!;
          child.kill('SIGKILL');
          await child.waitForExit();
          kills[name]++;
        }
        for (const name of victims) {
          const child = start(name);
          if (name === 'web') await waitForListening(child);
        }
      }
    };
    await within(Promise.all([chaos().finally(() => { stop = true; }), ...Array.from({ length: WRITERS }, (_, w) => writer(w))]), 120_000, 'the load');

    // Every acknowledged write is there.
    const lostWrites: string[] = [];
    for (const [id, summary] of created) {
      const response = await fetch(`${base}/external-api/v1/followups/${id}`, { headers: auth });
      const data = response.status === 200 ? ((await response.json()) as any).data : undefined;
      if (data?.summary !== summary || (completed.has(id) && data.status !== 'deal_found')) lostWrites.push(id);
    }
    assert.deepEqual(lostWrites, [], 'acknowledged writes lost');

    // Every event of an acknowledged write arrives, at least once.
    const expected = new Set<string>();
    for (const id of created.keys()) expected.add(`followup.created ${id}`);
    for (const id of completed) expected.add(`followup.updated ${id}`).add(`followup.completed ${id}`);
    const ofHook = () => hook.received.filter((r) => r.path === '/hook/crash');
    const missing = () => {
      const seen = new Set(ofHook().map((r) => `${r.json?.type} ${r.json?.data?.id}`));
      return [...expected].filter((key) => !seen.has(key));
    };
    await waitFor('every event of an acknowledged write', () => (missing().length === 0 ? true : undefined), 150_000, () => `missing: ${missing().slice(0, 20).join(', ')} (${missing().length})`);

    const received = ofHook();
    const badSignatures = received.filter((r) => !signedBoth(r, secret)).length;
    const byEventId = new Map<string, number>();
    for (const r of received) byEventId.set(r.json.id, (byEventId.get(r.json.id) ?? 0) + 1);
    const duplicates = [...byEventId.values()].reduce((sum, n) => sum + n - 1, 0);
    // No event is about a write that was refused, or about a followup that does not exist.
    const refusedEvents = received.filter((r) => String(r.json.data.summary ?? '').startsWith('refused')).length;
    const phantom = new Set(received.map((r) => r.json.data.id).filter((id: string) => !created.has(id)));
    for (const id of phantom) {
      // A write cut off by a kill may have committed: its followup exists, with its own events.
      const response = await fetch(`${base}/external-api/v1/followups/${id}`, { headers: auth });
      if (response.status === 200) phantom.delete(id);
      await response.body?.cancel();
    }

    t.diagnostic(
      `kills: web ${kills.web}, worker ${kills.worker}; writes acknowledged: ${created.size} creates, ${completed.size} updates, ` +
      `all present; refused: ${refused}; requests without an answer: ${unknown}; events expected: ${expected.size}, lost: ${missing().length}; ` +
      `requests received: ${received.length}, distinct events: ${byEventId.size}, duplicates: ${duplicates}; bad signatures: ${badSignatures}`,
    );
    assert.equal(badSignatures, 0, 'every delivery verifies under both schemes');
    assert.equal(refusedEvents, 0, 'no event for a refused write');
    assert.deepEqual([...phantom], [], 'no event for a followup that does not exist');
    assert.ok(created.size >= 20 && kills.web > 0 && kills.worker > 0, `the load ran and both processes were killed (${created.size} creates, ${JSON.stringify(kills)})`);
    assert.ok(refused > 0, 'refused writes were sent');

    for (const child of Object.values(running)) child?.kill('SIGTERM');
    for (const child of Object.values(running)) await child?.waitForExit();
  });
});
