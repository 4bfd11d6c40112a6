import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { isRunning, postmastersOf, sandbox, waitFor, within, type Child } from '../helpers/processes.js';
import { announcedDemo, startServe, tokenFor, waitForDemo, waitForListening, type Demo } from '../helpers/relance-cli.js';

const box = sandbox();
const TIMEOUT = { timeout: 180_000 };
const WRITERS = 8;
const ACKNOWLEDGED_BEFORE_KILL = 60;

interface Acknowledged {
  id: string;
  summary: string;
}

/**
 * Creates followups from several concurrent writers until `count` have been acknowledged, then
 * calls `kill` while the writers keep sending, and returns every followup acknowledged with 201.
 */
async function writeUntilKilled(baseUrl: string, token: string, debtId: string, count: number, kill: () => void): Promise<Acknowledged[]> {
  const acknowledged: Acknowledged[] = [];
  let attempts = 0;
  let killed = false;
  const writer = async (writerId: number) => {
    for (let n = 0; ; n++) {
      const summary = `durability ${writerId}-${n}`;
      attempts++;
      let response: Response;
      try {
        response = await fetch(`${baseUrl}/external-api/v1/followups`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ debt_id: debtId, type: 'call', status: 'scheduled', scheduled_at: '2024-01-25T10:00:00Z', summary }),
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        if (killed) return; // the server is gone: this request was never acknowledged
        throw error;
      }
      if (response.status === 201) {
        let id: string;
        try {
          id = ((await response.json()) as { data: { id: string } }).data.id;
        } catch (error) {
          if (killed) return; // cut off before the client could read which followup it was
          throw error;
        }
        acknowledged.push({ id, summary });
      } else {
        await response.body?.cancel();
      }
      if (!killed && (acknowledged.length >= count || attempts >= count * 10)) {
        killed = true;
        kill();
      }
    }
  };
  await within(Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(i))), 90_000, 'the writers');
  return acknowledged;
}

async function getFollowup(baseUrl: string, token: string, id: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/external-api/v1/followups/${id}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: await response.json() };
}

/** A first `serve` on a fresh DATA_DIR, with the demo client's token. */
/** A first `relance serve` on a new DATA_DIR, its demo credentials, a token and its postmaster. */
async function firstServe(): Promise<{ dir: string; serve: Child; demo: Demo; baseUrl: string; token: string; postmaster: number }> {
  const dir = await box.dataDir();
  const serve = startServe(box, dir);
  const demo = await waitForDemo(serve, dir);
  const baseUrl = await waitForListening(serve);
  const token = await tokenFor(baseUrl, demo.client_id, demo.client_secret);
  const [postmaster] = postmastersOf(join(dir, 'pg'));
  assert.ok(postmaster, 'the embedded server runs');
  return { dir, serve, demo, baseUrl, token, postmaster };
}

/** Restarts `serve` on the same DATA_DIR and checks every acknowledged followup is there. */
async function assertAllSurvive(dir: string, demo: Demo, acknowledged: Acknowledged[]): Promise<void> {
  const serve = startServe(box, dir);
  const baseUrl = await waitForListening(serve);
  assert.equal(announcedDemo(serve), false, 'no second demo on a database that has data');
  const token = await tokenFor(baseUrl, demo.client_id, demo.client_secret);
  const missing: string[] = [];
  for (let i = 0; i < acknowledged.length; i += 16) {
    await Promise.all(
      acknowledged.slice(i, i + 16).map(async ({ id, summary }) => {
        const { status, body } = await getFollowup(baseUrl, token, id);
        if (status !== 200 || body.data.summary !== summary || body.data.debt_id !== demo.debt_id) missing.push(`${id} (${status})`);
      }),
    );
  }
  assert.deepEqual(missing, [], `acknowledged followups lost: ${missing.length} of ${acknowledged.length}`);

  serve.kill('SIGTERM');
  assert.deepEqual(await serve.waitForExit(45_000), { code: 0, signal: null }, serve.describe());
  assert.deepEqual(postmastersOf(join(dir, 'pg')), []);
}

describe('durability: a write acknowledged with 2xx survives kill -9', { concurrency: true }, () => {
  test('of the API process (its PostgreSQL is left orphaned)', TIMEOUT, async () => {
    const { dir, serve, demo, baseUrl, token, postmaster } = await firstServe();

    const acknowledged = await writeUntilKilled(baseUrl, token, demo.debt_id, ACKNOWLEDGED_BEFORE_KILL, () => serve.kill('SIGKILL'));
    assert.ok(acknowledged.length >= ACKNOWLEDGED_BEFORE_KILL, `only ${acknowledged.length} creates acknowledged`);
    assert.equal((await serve.waitForExit()).signal, 'SIGKILL');
    assert.equal(isRunning(postmaster), true, 'precondition: the PostgreSQL of the killed API is still running');

    await assertAllSurvive(dir, demo, acknowledged);
    assert.equal(isRunning(postmaster), false, 'the restart stopped the orphaned server');
  });

  test('of the API process together with its PostgreSQL (crash recovery)', TIMEOUT, async () => {
    const { dir, serve, demo, baseUrl, token, postmaster } = await firstServe();

    // The whole process group: the API, the postmaster and its backends, as an OOM kill or a
    // container stop would; committed data is then only in the WAL.
    const acknowledged = await writeUntilKilled(baseUrl, token, demo.debt_id, ACKNOWLEDGED_BEFORE_KILL, () => serve.killGroup('SIGKILL'));
    assert.ok(acknowledged.length >= ACKNOWLEDGED_BEFORE_KILL, `only ${acknowledged.length} creates acknowledged`);
    await serve.waitForExit();
    await waitFor('the postmaster to die', () => (isRunning(postmaster) ? undefined : true), 10_000);

    await assertAllSurvive(dir, demo, acknowledged);
  });
});
