import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { seal, TOKEN_TTL_SECONDS, TokenSealer } from '../../src/auth/access-token.js';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';

const key = randomBytes(32);
const sealer = new TokenSealer(key);
const NOW = Date.UTC(2024, 0, 25, 10, 0, 0);
const claims: Parameters<TokenSealer['issue']>[0] = { clientRowId: 7, clientId: 'rlc_0123456789abcdef01234567', companyId: 3, scopes: ['followups:read', 'debts:write'] };

/** A token sealing the given raw payload with `key`, as TokenSealer seals its claims. */
function sealRaw(payload: unknown, sealingKey = key): string {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return `rl_at_${seal(sealingKey, Buffer.from(text)).toString('base64url')}`;
}

describe('TokenSealer', () => {
  test('a token it issued verifies to the same claims, expiring one hour after issue', () => {
    const { token, exp } = sealer.issue(claims, NOW);
    assert.match(token, /^rl_at_[A-Za-z0-9_-]+$/);
    assert.equal(exp, NOW / 1000 + TOKEN_TTL_SECONDS);
    const verified = sealer.verify(token, NOW);
    assert.match(String(verified?.tokenId), /^[A-Za-z0-9_-]{16}$/);
    assert.deepEqual(verified, { ...claims, exp, epoch: 0, tokenId: verified?.tokenId });
    assert.equal(sealer.verify(sealer.issue({ ...claims, epoch: 7 }, NOW).token, NOW)?.epoch, 7, 'the epoch is sealed in');
  });

  test('every token has its own id, by which it can be revoked', () => {
    const ids = new Set(Array.from({ length: 100 }, () => sealer.verify(sealer.issue(claims, NOW).token, NOW)?.tokenId));
    assert.equal(ids.size, 100);
  });

  test('a token of the previous format (no epoch, no id) is still read, as epoch 0', () => {
    const verified = sealer.verify(sealRaw({ c: 1, i: 'rlc_x', o: 2, s: 'debts:read', e: NOW / 1000 + 60 }), NOW);
    assert.deepEqual(verified, { clientRowId: 1, clientId: 'rlc_x', companyId: 2, scopes: ['debts:read'], exp: NOW / 1000 + 60, epoch: 0 });
    for (const bad of [{ v: 1.5 }, { v: '1' }, { j: 5 }]) {
      assert.equal(sealer.verify(sealRaw({ c: 1, i: 'rlc_x', o: 2, s: '', e: NOW / 1000 + 60, ...bad }), NOW), undefined, JSON.stringify(bad));
    }
  });

  test('two tokens for the same claims differ', () => {
    assert.notEqual(sealer.issue(claims, NOW).token, sealer.issue(claims, NOW).token);
  });

  test('a token is valid until its expiry second and not at or after it', () => {
    const { token, exp } = sealer.issue(claims, NOW);
    assert.ok(sealer.verify(token, NOW + 3599_999));
    assert.equal(sealer.verify(token, exp * 1000), undefined);
    assert.equal(sealer.verify(token, exp * 1000 + 1), undefined);
    assert.equal(sealer.verify(sealer.issue(claims, Date.now() - 3601_000).token), undefined, 'issued more than an hour ago');
    assert.ok(sealer.verify(sealer.issue(claims).token), 'issued now, checked now');
  });

  test('a token sealed with another key is refused', () => {
    const { token } = new TokenSealer(randomBytes(32)).issue(claims, NOW);
    assert.equal(sealer.verify(token, NOW), undefined);
    assert.ok(sealer.verify(sealRaw({ c: 1, i: 'rlc_x', o: 2, s: '', e: NOW / 1000 + 60 }), NOW), 'the same claims under this key are valid');
    assert.equal(sealer.verify(sealRaw({ c: 1, i: 'rlc_x', o: 2, s: '', e: NOW / 1000 + 60 }, randomBytes(32)), NOW), undefined);
  });

  test('a token reveals nothing of its claims: no client id, no internal number, no JSON', () => {
    const { token } = sealer.issue({ ...claims, clientRowId: 424242, companyId: 737373 }, NOW);
    const bytes = Buffer.from(token.slice('rl_at_'.length), 'base64url');
    for (const text of [token, bytes.toString('latin1')]) {
      for (const secret of [claims.clientId, '424242', '737373', 'followups:read', '"c":']) assert.ok(!text.includes(secret), secret);
    }
  });

  test('a changed ciphertext, IV or tag is refused, whatever byte changes', () => {
    const { token } = sealer.issue(claims, NOW);
    const bytes = Buffer.from(token.slice('rl_at_'.length), 'base64url');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (position, flip) => {
        const changed = Buffer.from(bytes);
        changed[position]! ^= flip;
        assert.equal(sealer.verify(`rl_at_${changed.toString('base64url')}`, NOW), undefined);
      }),
      { numRuns: 1000 },
    );
    assert.equal(sealer.verify(`rl_at_${bytes.subarray(0, -1).toString('base64url')}`, NOW), undefined, 'truncated');
  });

  test('changing any one character of a token makes it invalid', () => {
    const { token } = sealer.issue(claims, NOW);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), (position, replacement) => {
        fc.pre(token[position] !== replacement);
        const tampered = token.slice(0, position) + replacement + token.slice(position + 1);
        assert.equal(sealer.verify(tampered, NOW), undefined, tampered);
      }),
      { numRuns: 2000 },
    );
  });

  test('only the exact token text is accepted, not other spellings of the same bytes', () => {
    // A byte count that is not a multiple of 3 leaves spare bits in the last character.
    const { token } = [...Array(10)].map((_, n) => sealer.issue({ ...claims, clientId: `rlc_${'x'.repeat(n)}` }, NOW))
      .find(({ token }) => Buffer.from(token.slice(6), 'base64url').length % 3 !== 0)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(token.at(-1)!);
    let spellings = 0;
    for (let other = 0; other < alphabet.length; other++) {
      const spelling = token.slice(0, -1) + alphabet[other];
      if (other === last || !Buffer.from(spelling.slice(6), 'base64url').equals(Buffer.from(token.slice(6), 'base64url'))) continue;
      spellings++;
      assert.equal(sealer.verify(spelling, NOW), undefined, spelling);
    }
    assert.ok(spellings >= 3, `${spellings} other spellings`);
    for (const suffix of ['=', '==', '!', ' ', '\n', '.', '.x']) {
      assert.equal(sealer.verify(token + suffix, NOW), undefined, JSON.stringify(suffix));
    }
  });

  test('malformed tokens are refused without throwing', () => {
    const { token } = sealer.issue(claims, NOW);
    for (const text of ['', 'rl_at_', 'rl_at_.', 'rl_at_abc', token.slice(6), `RL_AT_${token.slice(6)}`, `${token.slice(0, 20)}.${token.slice(20)}`,
      `${token}${'A'.repeat(2048)}`, `Bearer ${token}`, token.toUpperCase()]) {
      assert.equal(sealer.verify(text, NOW), undefined, text.slice(0, 40));
    }
  });

  test('arbitrary strings are refused without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }).map((s) => `rl_at_${s}`)), (text) => {
        assert.equal(sealer.verify(text, NOW), undefined);
      }),
      { numRuns: 500 },
    );
  });

  test('a genuinely sealed payload must still hold well-typed claims', () => {
    const exp = NOW / 1000 + 60;
    const good = { c: 1, i: 'rlc_x', o: 2, s: 'followups:read', e: exp, n: 'x' };
    assert.ok(sealer.verify(sealRaw(good), NOW), 'the reference payload is valid');
    const bad: unknown[] = [
      'not json', '[]', 'null', '"text"', {},
      { ...good, c: '1' }, { ...good, i: 1 }, { ...good, o: null }, { ...good, s: ['followups:read'] }, { ...good, e: String(exp) },
      { ...good, e: undefined }, { ...good, s: 'followups:read admin' }, { ...good, s: 'followups:read  followups:write' },
      { ...good, s: 'followups:*' },
    ];
    for (const payload of bad) assert.equal(sealer.verify(sealRaw(payload), NOW), undefined, JSON.stringify(payload));
  });

  test('scopes are read back exactly, including an empty list', () => {
    const exp = NOW / 1000 + 60;
    const read = (s: string) => sealer.verify(sealRaw({ c: 1, i: 'rlc_x', o: 2, s, e: exp }), NOW)?.scopes;
    assert.deepEqual(read(''), []);
    assert.deepEqual(read('webhooks:write'), ['webhooks:write']);
    assert.deepEqual(read(SCOPES.join(' ')), [...SCOPES]);
    fc.assert(
      fc.property(fc.subarray([...SCOPES]), (scopes: Scope[]) => {
        const { token } = sealer.issue({ ...claims, scopes }, NOW);
        assert.deepEqual(sealer.verify(token, NOW)?.scopes, scopes);
      }),
      { numRuns: 200 },
    );
  });

  test('tokens over 2048 characters are refused before any work', () => {
    const { token } = sealer.issue({ ...claims, clientId: 'x'.repeat(2000) }, NOW);
    assert.ok(token.length > 2048);
    assert.equal(sealer.verify(token, NOW), undefined);
  });
});
