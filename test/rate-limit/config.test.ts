/** The rate-limit settings (RATE_LIMIT_*, REDIS_URL, REDIS_TIMEOUT_MS, TRUST_PROXY): read, defaulted, and refused with a message naming them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RATE_LIMITS, loadConfig } from '../../src/config.js';
import { problemsOf } from '../helpers/config.js';

describe('rate-limit settings', () => {
  test('by default: 1,000 reads and 500 writes an hour per client, 20 token attempts a minute per client id and 60 per address, in memory', () => {
    assert.deepEqual(loadConfig({}).rateLimits, {
      reads: 1_000, writes: 500, windowSeconds: 3_600, token: { perClient: 20, perAddress: 60, windowSeconds: 60 }, redisUrl: undefined, redisTimeoutMs: 500,
    });
    assert.deepEqual(loadConfig({}).rateLimits, DEFAULT_RATE_LIMITS);
    assert.deepEqual(loadConfig({}).trustProxy, []);
  });

  test('every setting is read from its variable', () => {
    const config = loadConfig({
      RATE_LIMIT_READS: '5000', RATE_LIMIT_WRITES: '200', RATE_LIMIT_WINDOW_SECONDS: '60', RATE_LIMIT_TOKEN_PER_CLIENT: '5',
      RATE_LIMIT_TOKEN_PER_ADDRESS: '100', RATE_LIMIT_TOKEN_WINDOW_SECONDS: '300', REDIS_URL: 'rediss://:secret@redis.internal:6380/2', REDIS_TIMEOUT_MS: '250',
      TRUST_PROXY: ' 10.0.0.0/8, 127.0.0.1 ,::1,',
    });
    assert.deepEqual(config.rateLimits, {
      reads: 5_000, writes: 200, windowSeconds: 60, token: { perClient: 5, perAddress: 100, windowSeconds: 300 },
      redisUrl: 'rediss://:secret@redis.internal:6380/2', redisTimeoutMs: 250,
    });
    assert.deepEqual(config.trustProxy, ['10.0.0.0/8', '127.0.0.1', '::1']);
  });

  test('empty variables count as unset', () => {
    const names = ['RATE_LIMIT_READS', 'RATE_LIMIT_WRITES', 'RATE_LIMIT_WINDOW_SECONDS', 'RATE_LIMIT_TOKEN_PER_CLIENT', 'RATE_LIMIT_TOKEN_PER_ADDRESS',
      'RATE_LIMIT_TOKEN_WINDOW_SECONDS', 'REDIS_URL', 'REDIS_TIMEOUT_MS', 'TRUST_PROXY'];
    assert.deepEqual(loadConfig(Object.fromEntries(names.map((name) => [name, '']))), loadConfig({}));
  });

  test('budgets and windows are integers in range, and each bad one is named', () => {
    assert.deepEqual(problemsOf({
      RATE_LIMIT_READS: '0', RATE_LIMIT_WRITES: '1000000001', RATE_LIMIT_WINDOW_SECONDS: '86401', RATE_LIMIT_TOKEN_PER_CLIENT: 'twenty',
      RATE_LIMIT_TOKEN_PER_ADDRESS: '-1', RATE_LIMIT_TOKEN_WINDOW_SECONDS: '1.5', REDIS_TIMEOUT_MS: '5',
    }), [
      'RATE_LIMIT_READS must be an integer from 1 to 1000000000 (got "0")',
      'RATE_LIMIT_WRITES must be an integer from 1 to 1000000000 (got "1000000001")',
      'RATE_LIMIT_WINDOW_SECONDS must be an integer from 1 to 86400 (got "86401")',
      'RATE_LIMIT_TOKEN_PER_CLIENT must be an integer from 1 to 1000000000 (got "twenty")',
      'RATE_LIMIT_TOKEN_PER_ADDRESS must be an integer from 1 to 1000000000 (got "-1")',
      'RATE_LIMIT_TOKEN_WINDOW_SECONDS must be an integer from 1 to 86400 (got "1.5")',
      'REDIS_TIMEOUT_MS must be an integer from 10 to 60000 (got "5")',
    ]);
    assert.equal(loadConfig({ RATE_LIMIT_READS: '1000000000' }).rateLimits.reads, 1_000_000_000);
  });

  test('REDIS_URL must be a redis:// or rediss:// URL', () => {
    for (const url of ['localhost:6379', 'http://redis:6379', 'redis:/x', 'redis://', 'REDIS://x']) {
      assert.deepEqual(problemsOf({ REDIS_URL: url }), ['REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379'], url);
    }
    assert.equal(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).rateLimits.redisUrl, 'redis://127.0.0.1:6379');
  });

  test('TRUST_PROXY takes addresses and CIDR ranges only, and names every entry it cannot read', () => {
    assert.deepEqual(problemsOf({ TRUST_PROXY: '10.0.0.0/33,proxy.internal,127.0.0.1,*' }), [
      'TRUST_PROXY: "10.0.0.0/33" is not an IP address or a CIDR range',
      'TRUST_PROXY: "proxy.internal" is not an IP address or a CIDR range',
      'TRUST_PROXY: "*" is not an IP address or a CIDR range',
    ]);
  });
});
