import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { deriveKeys } from '../../src/security/keys.js';
import { isObjectKey, newObjectKey, OBJECT_KINDS } from '../../src/storage/object-key.js';

test('object keys: the kind, a slash and 128 random bits in base64url, never twice the same', () => {
  const keys = new Set<string>();
  for (const kind of OBJECT_KINDS) {
    for (let i = 0; i < 5_000; i++) {
      const key = newObjectKey(kind);
      assert.ok(key.startsWith(`${kind}/`));
      assert.equal(key.length, kind.length + 1 + 22);
      assert.equal(Buffer.from(key.slice(kind.length + 1), 'base64url').length, 16);
      assert.ok(isObjectKey(key), key);
      keys.add(key);
    }
  }
  assert.equal(keys.size, 10_000);
});

test('anything else is not a key', () => {
  const id = newObjectKey('audio').slice('audio/'.length);
  for (const key of [
    '', 'audio', 'audio/', `audio/${id}/`, `/audio/${id}`, `audio//${id}`, `audio/${id.slice(1)}`, `audio/${id}A`, `video/${id}`, `Audio/${id}`,
    `audio/${id.slice(0, 21)}.`, `audio/${id.slice(0, 20)}..`, `audio\\${id}`, `audio%2F${id}`, `../${id}`, `audio/${id.slice(0, 21)}\u0000`,
    `audio/${id.slice(0, 21)}é`, `audio/${id.slice(0, 21)}=`, `audio/${id.slice(0, 21)}+`,
  ]) {
    assert.equal(isObjectKey(key), false, JSON.stringify(key));
  }
});

test('the media signing key is a key of its own, derived from the master key', () => {
  const master = randomBytes(32);
  const keys = deriveKeys(master);
  assert.equal(keys.media.length, 32);
  assert.ok(deriveKeys(master).media.equals(keys.media), 'the same master key gives the same media key');
  for (const other of [keys.ids, keys.tokens, keys.secrets, keys.fingerprint, master]) assert.ok(!other.equals(keys.media));
  assert.ok(!deriveKeys(randomBytes(32)).media.equals(keys.media));
});
