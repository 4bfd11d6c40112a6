import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRange } from '../../src/media/byte-range.js';

// Against a 1,000-byte object: `expected` is the bytes a header selects, 'unsatisfiable' or undefined (ignored).
const against1000 = (headers: (string | undefined)[], expected: ReturnType<typeof parseRange>) => {
  for (const header of headers) assert.deepEqual(parseRange(header, 1_000), expected, JSON.stringify(header));
};

test('a first-last range selects those bytes; a last byte past the end stops at the end', () => {
  against1000(['bytes=0-499'], { start: 0, end: 499 });
  against1000(['bytes=500-999'], { start: 500, end: 999 });
  against1000(['bytes=0-0'], { start: 0, end: 0 });
  against1000(['bytes=999-999'], { start: 999, end: 999 });
  against1000(['bytes=990-123456789012345678901234567890'], { start: 990, end: 999 });
});

test('an open range runs to the end; a suffix range takes the last bytes, at most all of them', () => {
  against1000(['bytes=500-'], { start: 500, end: 999 });
  against1000(['bytes=-100'], { start: 900, end: 999 });
  against1000(['bytes=-1000', 'bytes=-5000'], { start: 0, end: 999 });
});

test('the unit is case-insensitive; spaces and tabs around the parts and empty list elements are allowed', () => {
  against1000(['BYTES=1-2', 'bytes =\t1-2\t', ' bytes=1-2', 'bytes=, 1-2 ,'], { start: 1, end: 2 });
});

test('a range that starts past the end, or an empty suffix, is unsatisfiable', () => {
  against1000(['bytes=1000-', 'bytes=1000-2000', 'bytes=123456789012345678901234567890-', 'bytes=-0'], 'unsatisfiable');
});

test('no header, a malformed one, another unit or several ranges: ignored', () => {
  against1000([
    undefined, 'bytes=5-4', 'bytes=-', 'bytes=', 'bytes', '', 'bytes=a-b', 'bytes=1 -2', 'bytes=+1-2', 'bytes=1-2-3',
    'bytes=0x1-2', 'bytes=１-２', 'bytes=0-1,5-6', 'bytes=0-1,x', 'items=0-1', 'bytes:0-1',
  ], undefined);
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
