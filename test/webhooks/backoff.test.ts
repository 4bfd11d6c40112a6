/** The retry delays: doubling from the base, capped at an hour, with equal jitter (between half and all of the step). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoff } from '../../src/webhooks/deliver-task.js';

test('each failure doubles the step, up to an hour; the jitter keeps each delay within its step and above half of it', () => {
  const base = 30_000;
  assert.deepEqual([0, 1, 2, 3].map((n) => backoff(base, n, () => 1)), [30_000, 60_000, 120_000, 240_000]);
  assert.deepEqual([0, 1, 2, 3].map((n) => backoff(base, n, () => 0)), [15_000, 30_000, 60_000, 120_000]);
  assert.equal(backoff(base, 7, () => 1), 3_600_000);
  assert.equal(backoff(base, 1_000, () => 0.5), 2_700_000);
  for (let n = 0; n < 40; n++) {
    const delay = backoff(base, n);
    const step = Math.min(3_600_000, base * 2 ** n);
    assert.ok(delay >= step / 2 && delay <= step, `${n}: ${delay}`);
  }
});
