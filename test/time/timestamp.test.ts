import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { formatNullableTimestamp, formatStoredTimestamp, formatTimestamp, parseTimestamp } from '../../src/time/timestamp.js';

const OUTPUT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;

/** parseTimestamp then formatTimestamp, or undefined when the input is refused. */
function normalise(text: string): string | undefined {
  const date = parseTimestamp(text);
  return date && formatTimestamp(date);
}

/** Asserts what each input normalises to (undefined: refused), with the message given for a case, if any. */
function assertNormalised(cases: [input: string, expected: string | undefined, message?: string][]): void {
  for (const [input, expected, message] of cases) assert.equal(normalise(input), expected, message);
}

describe('parseTimestamp', () => {
  test('Z, offsets with and without a colon, and hour-only offsets are converted to UTC', () => {
    const TEN_UTC = '2024-01-25T10:00:00+00:00';
    const spellings = [
      '2024-01-25T10:00:00Z', '2024-01-25t10:00:00z', '2024-01-25T10:00:00+00:00', '2024-01-25T10:00:00-00:00', '2024-01-25T12:00:00+02:00',
      '2024-01-25T12:00:00+0200', '2024-01-25T12:00:00+02', '2024-01-25T05:30:00-04:30', '2024-01-25T15:45:00+05:45',
    ];
    const cases: [string, string][] = [
      ...spellings.map((input): [string, string] => [input, TEN_UTC]),
      ['2024-01-25T23:59:00+23:59', '2024-01-25T00:00:00+00:00'],
      ['2024-01-01T00:30:00+01:00', '2023-12-31T23:30:00+00:00'],
      ['2024-12-31T23:30:00-01:00', '2025-01-01T00:30:00+00:00'],
      ['2024-03-01T00:30:00+01:00', '2024-02-29T23:30:00+00:00'],
    ];
    for (const [input, expected] of cases) assert.equal(normalise(input), expected, input);
  });

  test('without a zone the time is UTC; a date alone is midnight UTC; seconds are optional', () => {
    assertNormalised([
      ['2024-01-25T10:00:00', '2024-01-25T10:00:00+00:00'],
      ['2024-01-25T10:00', '2024-01-25T10:00:00+00:00'],
      ['2024-01-25T10:00+01:00', '2024-01-25T09:00:00+00:00'],
      ['2024-01-25', '2024-01-25T00:00:00+00:00'],
    ]);
  });

  test('fractions of a second (dot or comma, 1 to 9 digits) are kept to the millisecond in the Date', () => {
    assert.equal(parseTimestamp('2024-01-25T10:00:00.5Z')?.getTime(), Date.UTC(2024, 0, 25, 10, 0, 0, 500));
    assert.equal(parseTimestamp('2024-01-25T10:00:00,25Z')?.getTime(), Date.UTC(2024, 0, 25, 10, 0, 0, 250));
    assert.equal(parseTimestamp('2024-01-25T10:00:00.987654321+01:00')?.getTime(), Date.UTC(2024, 0, 25, 9, 0, 0, 987));
    assert.equal(parseTimestamp('2024-01-25T10:00:00.000000001Z')?.getTime(), Date.UTC(2024, 0, 25, 10, 0, 0, 0));
    assert.equal(parseTimestamp('2024-01-25T10:00:00.1234567890Z'), undefined, 'ten digits');
    assert.equal(parseTimestamp('2024-01-25T10:00:00.Z'), undefined, 'a dot without digits');
  });

  test('the output is truncated to the second, never rounded up', () => {
    assertNormalised([
      ['2024-01-25T10:00:59.999Z', '2024-01-25T10:00:59+00:00'],
      ['2024-12-31T23:59:59.999999Z', '2024-12-31T23:59:59+00:00'],
    ]);
  });

  test('leap years: 29 February exists in 2024 and 2000, not in 2023 or 1900', () => {
    assertNormalised([
      ['2024-02-29', '2024-02-29T00:00:00+00:00'],
      ['2000-02-29T12:00:00Z', '2000-02-29T12:00:00+00:00'],
      ['2023-02-29', undefined],
      ['1900-02-29T12:00:00Z', undefined],
      ['2100-02-29', undefined],
    ]);
  });

  test('dates and times that do not exist are refused, not rolled over', () => {
    for (const text of [
      '2024-02-30', '2024-02-30T10:00:00Z', '2024-04-31', '2024-06-31T00:00:00Z', '2024-00-10', '2024-13-01', '2024-01-00',
      '2024-01-32', '2024-01-25T24:00:00Z', '2024-01-25T23:60:00Z', '2024-01-25T23:59:60Z', '0000-01-01',
      '2024-01-25T10:00:00+24:00', '2024-01-25T10:00:00+01:60', '2024-01-25T10:00:00+25:00',
    ]) {
      assert.equal(parseTimestamp(text), undefined, text);
    }
  });

  test('anything that is not an ISO 8601 date or date-time is refused', () => {
    for (const text of [
      '', ' ', 'tomorrow', 'now', '1706176800', '25/01/2024', '01/25/2024', '2024/01/25', '2024-1-25', '24-01-25',
      '20240125', '2024-01-25 10:00:00', '2024-01-25T10', '2024-01-25T10:0', '2024-01-25T10:00:0', '2024-01-25T',
      ' 2024-01-25', '2024-01-25 ', '2024-01-25T10:00:00ZZ', '2024-01-25T10:00:00+1', '2024-01-25T10:00:00+01:0',
      '2024-01-25T10:00:00 +01:00', '+002024-01-25', '2024-W04-4', '2024-025', 'Thu, 25 Jan 2024 10:00:00 GMT',
      '２０２４-01-25', '2024-01-25\n', '2024-01-25T10:00:00\u0000', `2024-01-25T10:00:00.${'1'.repeat(40)}Z`,
    ]) {
      assert.equal(parseTimestamp(text), undefined, JSON.stringify(text));
    }
  });

  test('an offset may not carry a date out of the years 0001 to 9999', () => {
    assertNormalised([
      ['9999-12-31T23:00:00Z', '9999-12-31T23:00:00+00:00'],
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00+00:00'],
      ['9999-12-31T23:00:00-05:00', undefined, 'would be year 10000'],
      ['0001-01-01T00:00:00+01:00', undefined, 'would be year 0'],
    ]);
  });

  test('years below 100 are not read as 19xx', () => {
    assertNormalised([
      ['0050-06-15T08:00:00Z', '0050-06-15T08:00:00+00:00'],
      ['0099-12-31', '0099-12-31T00:00:00+00:00'],
    ]);
  });

  test('every accepted value formats to the contract shape and parses back to the same second', () => {
    const digits = (length: number, max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(length, '0'));
    const zone = fc.oneof(
      fc.constant(''),
      fc.constantFrom('Z', 'z'),
      fc.tuple(fc.constantFrom('+', '-'), digits(2, 23), fc.constantFrom(':', ''), digits(2, 59)).map((p) => p.join('')),
    );
    const text = fc
      .tuple(digits(4, 9999), digits(2, 13), digits(2, 31), digits(2, 24), digits(2, 60), digits(2, 60), fc.option(digits(3, 999)), zone)
      .map(([y, mo, d, h, mi, s, fraction, z]) => `${y}-${mo}-${d}T${h}:${mi}:${s}${fraction === null ? '' : `.${fraction}`}${z}`);
    fc.assert(
      fc.property(text, (input) => {
        const date = parseTimestamp(input);
        if (date === undefined) return;
        const output = formatTimestamp(date);
        assert.match(output, OUTPUT, input);
        assert.equal(parseTimestamp(output)?.getTime(), Math.floor(date.getTime() / 1000) * 1000, input);
      }),
      { numRuns: 3000 },
    );
  });

  test('a local time with its offset gives back the exact UTC instant', () => {
    const instant = fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9998-12-31T00:00:00Z'), noInvalidDate: true });
    fc.assert(
      fc.property(instant, fc.integer({ min: -14 * 60, max: 14 * 60 }), (date, offsetMinutes) => {
        const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
        const sign = offsetMinutes < 0 ? '-' : '+';
        const abs = Math.abs(offsetMinutes);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        assert.equal(parseTimestamp(`${local}${zone}`)?.getTime(), date.getTime());
      }),
      { numRuns: 2000 },
    );
  });

  test('arbitrary text never throws', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (input) => {
        const date = parseTimestamp(input);
        if (date !== undefined) assert.match(formatTimestamp(date), OUTPUT);
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatTimestamp', () => {
  test('UTC, seconds precision, +00:00', () => {
    assert.equal(formatTimestamp(new Date(Date.UTC(2024, 0, 25, 10, 0, 0, 999))), '2024-01-25T10:00:00+00:00');
    assert.equal(formatTimestamp(new Date(0)), '1970-01-01T00:00:00+00:00');
  });

  test('null stays null', () => {
    assert.equal(formatNullableTimestamp(null), null);
    assert.equal(formatNullableTimestamp(new Date(Date.UTC(2024, 1, 29))), '2024-02-29T00:00:00+00:00');
  });
});

describe('formatStoredTimestamp (history values as PostgreSQL writes them in JSON)', () => {
  test('any offset, seconds included, becomes UTC in the API format', () => {
    assert.equal(formatStoredTimestamp('2024-01-25T10:00:00+00:00'), '2024-01-25T10:00:00+00:00');
    assert.equal(formatStoredTimestamp('2024-01-25T11:00:00.123456+01:00'), '2024-01-25T10:00:00+00:00');
    // Paris before 1911 was at local mean time, +00:09:21.
    assert.equal(formatStoredTimestamp('1900-01-01T00:09:21+00:09:21'), '1900-01-01T00:00:00+00:00');
    assert.equal(formatStoredTimestamp('0001-01-01T00:00:00-05'), '0001-01-01T05:00:00+00:00');
  });

  test('total: a value it cannot read comes back as it is instead of failing the response', () => {
    for (const text of ['infinity', '12025-01-01T00:00:00+00:00', '0001-01-01T00:00:00+00:00 BC', '', 'garbage']) {
      assert.equal(formatStoredTimestamp(text), text);
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => typeof formatStoredTimestamp(text) === 'string'), { numRuns: 500 });
  });
});
