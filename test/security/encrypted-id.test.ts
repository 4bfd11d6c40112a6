import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ID_TYPES, IdCodec, type IdType } from '../../src/security/encrypted-id.js';

const codec = new IdCodec(randomBytes(16));
const TYPES = Object.keys(ID_TYPES) as IdType[];
const anyId = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const anyType = fc.constantFrom(...TYPES);

describe('IdCodec', () => {
  test('encodes every id of every type to 22 URL-safe characters and back', () => {
    fc.assert(
      fc.property(anyType, anyId, (type, id) => {
        const encoded = codec.encode(type, id);
        assert.match(encoded, /^[A-Za-z0-9_-]{22}$/);
        assert.equal(codec.decode(type, encoded), id);
      }),
      { numRuns: 2000 },
    );
  });

  test('the smallest and largest ids round trip', () => {
    for (const type of TYPES) {
      for (const id of [1, 2, 2 ** 32, Number.MAX_SAFE_INTEGER]) assert.equal(codec.decode(type, codec.encode(type, id)), id);
    }
  });

  test('an id of one type is never valid as another type', () => {
    fc.assert(
      fc.property(anyType, anyType, anyId, (encodedAs, decodedAs, id) => {
        fc.pre(encodedAs !== decodedAs);
        assert.equal(codec.decode(decodedAs, codec.encode(encodedAs, id)), undefined);
      }),
      { numRuns: 1000 },
    );
  });

  test('an id made with another key does not decode', () => {
    const other = new IdCodec(randomBytes(16));
    fc.assert(
      fc.property(anyType, anyId, (type, id) => {
        assert.equal(codec.decode(type, other.encode(type, id)), undefined);
      }),
      { numRuns: 500 },
    );
  });

  test('the same id always gets the same public id, distinct ids get distinct ones', () => {
    assert.equal(codec.encode('followup', 42), codec.encode('followup', 42));
    assert.notEqual(codec.encode('followup', 42), codec.encode('followup', 43));
    assert.notEqual(codec.encode('followup', 42), codec.encode('debt', 42));
  });

  test('changing any one character of an id makes it invalid', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    fc.assert(
      fc.property(anyType, anyId, fc.nat({ max: 21 }), fc.constantFrom(...alphabet), (type, id, position, replacement) => {
        const encoded = codec.encode(type, id);
        fc.pre(encoded[position] !== replacement);
        const tampered = encoded.slice(0, position) + replacement + encoded.slice(position + 1);
        assert.equal(codec.decode(type, tampered), undefined);
      }),
      { numRuns: 2000 },
    );
  });

  test('non-canonical spellings of the same bytes are refused', () => {
    // 16 bytes are 128 bits; 22 base64url characters carry 132, so the last character has sixteen
    // spellings that decode to the same bytes. Only the canonical one is valid.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let id = 1; id <= 50; id++) {
      const encoded = codec.encode('followup', id);
      const index = alphabet.indexOf(encoded[21]!);
      assert.equal(index % 16, 0, 'the canonical last character has its low bits at zero');
      for (let extra = 1; extra < 16; extra++) {
        const spelling = encoded.slice(0, 21) + alphabet[index + extra];
        assert.deepEqual(Buffer.from(spelling, 'base64url'), Buffer.from(encoded, 'base64url'));
        assert.equal(codec.decode('followup', spelling), undefined, spelling);
      }
    }
  });

  test('strings that are not 22 base64url characters are refused', () => {
    const encoded = codec.encode('debt', 7);
    for (const text of ['', encoded.slice(1), `${encoded}A`, `${encoded}=`, `${encoded.slice(0, 21)}+`, `${encoded.slice(0, 21)}/`,
      ` ${encoded.slice(1)}`, `${encoded.slice(0, 21)}\u0000`, 'é'.repeat(22), '7'.repeat(22)]) {
      assert.equal(codec.decode('debt', text), undefined, JSON.stringify(text));
    }
  });

  test('arbitrary strings decode to nothing and never throw', () => {
    fc.assert(
      fc.property(anyType, fc.oneof(fc.string(), fc.string({ minLength: 22, maxLength: 22, unit: 'binary' }), fc.stringMatching(/^[A-Za-z0-9_-]{22}$/)), (type, text) => {
        const decoded = codec.decode(type, text);
        // A random 22-character string decodes with probability 2^-64: never in practice.
        assert.equal(decoded, undefined);
      }),
      { numRuns: 1000 },
    );
  });

  test('id 0 and ids beyond 2^53 - 1 are never produced by decoding', () => {
    // encode() is only ever given database ids; these blocks are valid ciphertexts with bad ids.
    assert.equal(codec.decode('followup', codec.encode('followup', 0)), undefined);
    assert.equal(codec.decode('followup', codec.encode('followup', Number.MAX_SAFE_INTEGER + 1)), undefined);
  });

  test('the key must be 16 bytes', () => {
    assert.throws(() => new IdCodec(randomBytes(32)), /16 bytes/);
    assert.throws(() => new IdCodec(Buffer.alloc(0)), /16 bytes/);
  });
});
