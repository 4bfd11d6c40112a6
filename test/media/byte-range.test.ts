import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from '../../src/media/byte-range.js';

test('Range headers against a 1,000-byte object', () => {
  const cases: [string | undefined, ReturnType<typeof parseRange>][] = [
    [undefined, undefined],
    ['bytes=0-499', { start: 0, end: 499 }],
    ['bytes=500-999', { start: 500, end: 999 }],
    ['bytes=500-', { start: 500, end: 999 }],
    ['bytes=-100', { start: 900, end: 999 }],
    ['bytes=-1000', { start: 0, end: 999 }],
    ['bytes=-5000', { start: 0, end: 999 }],
    ['bytes=0-0', { start: 0, end: 0 }],
    ['bytes=999-999', { start: 999, end: 999 }],
    ['bytes=990-123456789012345678901234567890', { start: 990, end: 999 }],
    ['BYTES=1-2', { start: 1, end: 2 }],
    ['bytes =\t1-2\t', { start: 1, end: 2 }],
    [' bytes=1-2', { start: 1, end: 2 }],
    ['bytes=, 1-2 ,', { start: 1, end: 2 }],
    ['bytes=1000-', 'unsatisfiable'],
    ['bytes=1000-2000', 'unsatisfiable'],
    ['bytes=123456789012345678901234567890-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-4', undefined],
    ['bytes=-', undefined],
    ['bytes=', undefined],
    ['bytes', undefined],
    ['', undefined],
    ['bytes=a-b', undefined],
    ['bytes=1 -2', undefined],
    ['bytes=+1-2', undefined],
    ['bytes=1-2-3', undefined],
    ['bytes=0x1-2', undefined],
    ['bytes=１-２', undefined],
    ['bytes=0-1,5-6', undefined],
    ['bytes=0-1,x', undefined],
    ['items=0-1', undefined],
    ['bytes:0-1', undefined],
  ];
  for (const [header, expected] of cases) assert.deepEqual(parseRange(header, 1_000), expected, JSON.stringify(header));
});

test('an empty object satisfies no range', () => {
  for (const header of ['bytes=0-', 'bytes=0-0', 'bytes=-1', 'bytes=-0']) assert.equal(parseRange(header, 0), 'unsatisfiable', header);
  assert.equal(parseRange('bytes=x', 0), undefined);
});

test('a header of 10,000 commas, digits or spaces is read in one pass', () => {
  assert.equal(parseRange(`bytes=${','.repeat(10_000)}`, 10), undefined);
  assert.deepEqual(parseRange(`bytes=0-${'9'.repeat(10_000)}`, 10), { start: 0, end: 9 });
  assert.deepEqual(parseRange(`bytes=${' '.repeat(10_000)}1-2`, 10), { start: 1, end: 2 });
});
