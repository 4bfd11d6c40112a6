import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TOKEN_TTL_SECONDS, TokenSigner, type TokenClaims } from '../../src/auth/access-token.js';
import { SCOPES, type Scope } from '../../src/auth/scopes.js';

const key = randomBytes(32);
const signer = new TokenSigner(key);
const NOW = Date.UTC(2024, 0, 25, 10, 0, 0);
const claims: Omit<TokenClaims, 'exp'> = { clientRowId: 7, clientId: 'rlc_0123456789abcdef01234567', companyId: 3, scopes: ['followups:read', 'debts:write'] };

/** A token with the given raw JSON payload, correctly signed with `key` (as TokenSigner signs). */
function signRaw(payload: unknown, signingKey = key): string {
  const encoded = Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)).toString('base64url');
  const signature = createHmac('sha256', signingKey).update('rl_at_').update(encoded).digest('base64url');
  return `rl_at_${encoded}.${signature}`;
}

function parts(token: string): { payload: string; signature: string } {
  const [payload, signature] = token.slice('rl_at_'.length).split('.') as [string, string];
  return { payload, signature };
}

describe('TokenSigner', () => {
  test('a token it issued verifies to the same claims, expiring one hour after issue', () => {
    const { token, exp } = signer.issue(claims, NOW);
    assert.match(token, /^rl_at_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(exp, NOW / 1000 + TOKEN_TTL_SECONDS);
    assert.deepEqual(signer.verify(token, NOW), { ...claims, exp });
  });

  test('two tokens for the same claims differ', () => {
    assert.notEqual(signer.issue(claims, NOW).token, signer.issue(claims, NOW).token);
  });

  test('a token is valid until its expiry second and not at or after it', () => {
    const { token, exp } = signer.issue(claims, NOW);
    assert.ok(signer.verify(token, NOW + 3599_999));
    assert.equal(signer.verify(token, exp * 1000), undefined);
    assert.equal(signer.verify(token, exp * 1000 + 1), undefined);
    assert.equal(signer.verify(signer.issue(claims, Date.now() - 3601_000).token), undefined, 'issued more than an hour ago');
    assert.ok(signer.verify(signer.issue(claims).token), 'issued now, checked now');
  });

  test('a token signed with another key is refused', () => {
    const { token } = new TokenSigner(randomBytes(32)).issue(claims, NOW);
    assert.equal(signer.verify(token, NOW), undefined);
  });

  test('a changed payload is refused even when it is valid JSON', () => {
    const { token } = signer.issue({ ...claims, scopes: ['followups:read'] }, NOW);
    const { payload, signature } = parts(token);
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    for (const change of [{ s: SCOPES.join(' ') }, { o: 4 }, { c: 8 }, { e: body.e + 86_400 }]) {
      const forged = Buffer.from(JSON.stringify({ ...body, ...change })).toString('base64url');
      assert.equal(signer.verify(`rl_at_${forged}.${signature}`, NOW), undefined, JSON.stringify(change));
    }
  });

  test('changing any one character of a token makes it invalid', () => {
    const { token } = signer.issue(claims, NOW);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
    fc.assert(
      fc.property(fc.nat({ max: token.length - 1 }), fc.constantFrom(...alphabet), (position, replacement) => {
        fc.pre(token[position] !== replacement);
        const tampered = token.slice(0, position) + replacement + token.slice(position + 1);
        assert.equal(signer.verify(tampered, NOW), undefined, tampered);
      }),
      { numRuns: 2000 },
    );
  });

  test('only the exact signature text is accepted, not other spellings of the same bytes', () => {
    const { token } = signer.issue(claims, NOW);
    const { signature } = parts(token);
    // 32 bytes in 43 base64url characters leave 2 spare bits in the last one: 3 other spellings.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(signature.at(-1)!);
    for (let extra = 1; extra < 4; extra++) {
      const spelling = token.slice(0, -1) + alphabet[last + extra];
      assert.deepEqual(Buffer.from(parts(spelling).signature, 'base64url'), Buffer.from(signature, 'base64url'));
      assert.equal(signer.verify(spelling, NOW), undefined, spelling);
    }
    for (const suffix of ['=', '==', '!', ' ', '\n', '.', '.x', 'A']) {
      assert.equal(signer.verify(token + suffix, NOW), undefined, JSON.stringify(suffix));
    }
    assert.equal(signer.verify(token.replace('.', '.='), NOW), undefined);
  });

  test('malformed tokens are refused without throwing', () => {
    const { token } = signer.issue(claims, NOW);
    for (const text of ['', 'rl_at_', 'rl_at_.', 'rl_at_abc', token.slice(6), `RL_AT_${token.slice(6)}`, token.replace('.', ''),
      `${token}${'A'.repeat(2048)}`, `Bearer ${token}`, token.toUpperCase()]) {
      assert.equal(signer.verify(text, NOW), undefined, text.slice(0, 40));
    }
  });

  test('arbitrary strings are refused without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 100 }), fc.string({ unit: 'binary', maxLength: 100 }).map((s) => `rl_at_${s}`)), (text) => {
        assert.equal(signer.verify(text, NOW), undefined);
      }),
      { numRuns: 500 },
    );
  });

  test('a correctly signed payload must still hold well-typed claims', () => {
    const exp = NOW / 1000 + 60;
    const good = { c: 1, i: 'rlc_x', o: 2, s: 'followups:read', e: exp, n: 'x' };
    assert.ok(signer.verify(signRaw(good), NOW), 'the reference payload is valid');
    const bad: unknown[] = [
      'not json', '[]', 'null', '"text"', {},
      { ...good, c: '1' }, { ...good, i: 1 }, { ...good, o: null }, { ...good, s: ['followups:read'] }, { ...good, e: String(exp) },
      { ...good, e: undefined }, { ...good, s: 'followups:read admin' }, { ...good, s: 'followups:read  followups:write' },
      { ...good, s: 'followups:*' },
    ];
    for (const payload of bad) assert.equal(signer.verify(signRaw(payload), NOW), undefined, JSON.stringify(payload));
  });

  test('scopes are read back exactly, including an empty list', () => {
    const exp = NOW / 1000 + 60;
    const read = (s: string) => signer.verify(signRaw({ c: 1, i: 'rlc_x', o: 2, s, e: exp }), NOW)?.scopes;
    assert.deepEqual(read(''), []);
    assert.deepEqual(read('webhooks:write'), ['webhooks:write']);
    assert.deepEqual(read(SCOPES.join(' ')), [...SCOPES]);
    fc.assert(
      fc.property(fc.subarray([...SCOPES]), (scopes: Scope[]) => {
        const { token } = signer.issue({ ...claims, scopes }, NOW);
        assert.deepEqual(signer.verify(token, NOW)?.scopes, scopes);
      }),
      { numRuns: 200 },
    );
  });

  test('tokens over 2048 characters are refused before any work', () => {
    const { token } = signer.issue({ ...claims, clientId: 'x'.repeat(2000) }, NOW);
    assert.ok(token.length > 2048);
    assert.equal(signer.verify(token, NOW), undefined);
  });
});
