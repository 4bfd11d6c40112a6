import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_DATABASE_LIMITS, DEFAULT_MEDIA, DEFAULT_RATE_LIMITS, DEFAULT_WEBHOOKS, decodeKey, defaultHttpLimits, loadConfig } from '../../src/config.js';
import { problemsOf } from '../helpers/config.js';
import { AllowList } from '../../src/net/allow-list.js';

const HEX_KEY = randomBytes(32).toString('hex');
const URL = 'postgres://relance:secret@db.internal:5432/relance';

describe('loadConfig', () => {
  test('an empty environment gives the embedded defaults', () => {
    assert.deepEqual(loadConfig({}), {
      host: '127.0.0.1',
      port: 3000,
      dataDir: resolve('./data'),
      databaseUrl: undefined,
      databasePoolSize: 10,
      secretKey: undefined,
      logLevel: 'info',
      publicUrl: undefined,
      http: defaultHttpLimits(),
      database: DEFAULT_DATABASE_LIMITS,
      clientStateTtlMs: 5_000,
      paymentAttributionDays: 7,
      worker: { enabled: true, concurrency: 2, purgeSchedule: '*/10 * * * *' },
      outbound: { allow: AllowList.EMPTY },
      storage: { driver: 'local', dir: resolve('./data/media') },
      media: DEFAULT_MEDIA,
      webhooks: DEFAULT_WEBHOOKS,
      metrics: { token: undefined, port: undefined, host: '127.0.0.1' },
      rateLimits: DEFAULT_RATE_LIMITS,
      trustProxy: [],
    });
  });

  test('every setting is read from its variable', () => {
    const config = loadConfig({
      HOST: '0.0.0.0', PORT: '8080', DATA_DIR: '/var/lib/relance', DATABASE_URL: URL, DATABASE_POOL_SIZE: '25',
      RELANCE_SECRET_KEY: HEX_KEY, LOG_LEVEL: 'warn', PUBLIC_URL: 'https://relance.example.com/', PAYMENT_ATTRIBUTION_DAYS: '30',
    });
    assert.deepEqual(config, {
      host: '0.0.0.0', port: 8080, dataDir: '/var/lib/relance', databaseUrl: URL, databasePoolSize: 25,
      secretKey: HEX_KEY, logLevel: 'warn', publicUrl: 'https://relance.example.com',
      http: defaultHttpLimits(), database: DEFAULT_DATABASE_LIMITS, clientStateTtlMs: 5_000, paymentAttributionDays: 30,
      worker: { enabled: true, concurrency: 2, purgeSchedule: '*/10 * * * *' },
      outbound: { allow: AllowList.EMPTY },
      storage: { driver: 'local', dir: '/var/lib/relance/media' }, media: DEFAULT_MEDIA, webhooks: DEFAULT_WEBHOOKS,
      metrics: { token: undefined, port: undefined, host: '127.0.0.1' }, rateLimits: DEFAULT_RATE_LIMITS, trustProxy: [],
    });

  test('the background worker can be turned off for API-only processes, and sized', () => {
    assert.deepEqual(loadConfig({ WORKER: 'off', WORKER_CONCURRENCY: '4', PURGE_SCHEDULE: '0 * * * *' }).worker, { enabled: false, concurrency: 4, purgeSchedule: '0 * * * *' });
    assert.deepEqual(problemsOf({ WORKER: 'maybe' }), ['WORKER must be on or off']);
  });

  });

  test('the WEBHOOK_* settings are read, in hours and days where so named, and checked', () => {
    assert.deepEqual(loadConfig({}).webhooks, DEFAULT_WEBHOOKS);
    assert.deepEqual(loadConfig({
      WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_TIMEOUT_MS: '2500', WEBHOOK_RETRY_BASE_MS: '1000', WEBHOOK_RETRY_WINDOW_HOURS: '2', WEBHOOK_DISABLE_AFTER_DAYS: '7',
    }).webhooks, { allowHttp: true, timeoutMs: 2_500, retryBaseMs: 1_000, retryWindowMs: 2 * 3_600_000, disableAfterMs: 7 * 86_400_000 });
    assert.deepEqual(problemsOf({
      WEBHOOK_ALLOW_HTTP: 'yes', WEBHOOK_TIMEOUT_MS: '0', WEBHOOK_RETRY_BASE_MS: '10', WEBHOOK_RETRY_WINDOW_HOURS: '0', WEBHOOK_DISABLE_AFTER_DAYS: '1.5',
    }), [
      'WEBHOOK_ALLOW_HTTP must be true or false',
      'WEBHOOK_TIMEOUT_MS must be an integer from 100 to 60000 (got "0")',
      'WEBHOOK_RETRY_BASE_MS must be an integer from 100 to 3600000 (got "10")',
      'WEBHOOK_RETRY_WINDOW_HOURS must be an integer from 1 to 720 (got "0")',
      'WEBHOOK_DISABLE_AFTER_DAYS must be an integer from 1 to 365 (got "1.5")',
    ]);
  });

  test('/metrics: METRICS_TOKEN, METRICS_PORT and METRICS_HOST are read and checked, never echoing the token', () => {
    const token = randomBytes(32).toString('hex');
    assert.deepEqual(loadConfig({ METRICS_TOKEN: token, METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' }).metrics, { token, port: 9464, host: '0.0.0.0' });
    assert.deepEqual(loadConfig({ METRICS_PORT: '0' }).metrics, { token: undefined, port: 0, host: '127.0.0.1' });
    assert.deepEqual(loadConfig({ METRICS_TOKEN: '', METRICS_PORT: '', METRICS_HOST: '' }).metrics, loadConfig({}).metrics);
    for (const host of ['::1', 'localhost', 'metrics.internal', '10.0.0.7']) assert.equal(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: host }).metrics.host, host);
    const tokenProblem = 'METRICS_TOKEN must be 32 to 512 letters, digits or -._~+/ characters (generate one with `openssl rand -hex 32`)';
    for (const bad of ['short', 'x'.repeat(31), `${token} x`, `${token}"`, 'é'.repeat(40), 'x'.repeat(513)]) {
      assert.deepEqual(problemsOf({ METRICS_TOKEN: bad }), [tokenProblem], bad);
      assert.ok(!tokenProblem.includes(bad));
    }
    assert.equal(loadConfig({ METRICS_TOKEN: `${'A'.repeat(42)}==` }).metrics.token, `${'A'.repeat(42)}==`);
    for (const port of ['-1', '65536', 'http', '9464.5']) {
      assert.deepEqual(problemsOf({ METRICS_PORT: port }), [`METRICS_PORT must be an integer from 0 to 65535 (got "${port}")`], port);
    }
    assert.deepEqual(problemsOf({ METRICS_PORT: '3000' }), ['METRICS_PORT must differ from PORT (both are 3000)']);
    assert.deepEqual(problemsOf({ METRICS_HOST: '0.0.0.0' }), [
      'METRICS_HOST is set but METRICS_PORT is not: set METRICS_PORT to serve /metrics on a listener of its own',
    ]);
    for (const host of ['a b', 'http://x', '[::1]', 'x'.repeat(254)]) {
      assert.deepEqual(problemsOf({ METRICS_PORT: '9464', METRICS_HOST: host }), [
        'METRICS_HOST must be an IP address or a host name (127.0.0.1, 0.0.0.0, ::1, localhost)',
      ], host);
    }
  });

  test('PAYMENT_ATTRIBUTION_DAYS is a number of days from 0 to 365', () => {
    assert.deepEqual(problemsOf({ PAYMENT_ATTRIBUTION_DAYS: '400' }), ['PAYMENT_ATTRIBUTION_DAYS must be an integer from 0 to 365 (got "400")']);
  });

  test('every timeout and cap is read from its variable, and checked', () => {
    const config = loadConfig({
      REQUEST_TIMEOUT_MS: '20000', HEADERS_TIMEOUT_MS: '5000', KEEP_ALIVE_TIMEOUT_MS: '2000', SOCKET_TIMEOUT_MS: '30000',
      MAX_CONNECTIONS: '300', SHUTDOWN_GRACE_MS: '0', DATABASE_STATEMENT_TIMEOUT_MS: '2500', DATABASE_CONNECT_TIMEOUT_MS: '1500',
      DATABASE_QUEUE_LIMIT: '40', CLIENT_CONCURRENCY_LIMIT: '7', MAX_REQUESTS_PER_SOCKET: '0',
    });
    assert.deepEqual(config.http, {
      requestTimeoutMs: 20_000, headersTimeoutMs: 5_000, keepAliveTimeoutMs: 2_000, socketTimeoutMs: 30_000, maxConnections: 300, shutdownGraceMs: 0,
      clientConcurrency: 7, maxRequestsPerSocket: 0,
    });
    assert.deepEqual(config.database, { statementTimeoutMs: 2_500, connectTimeoutMs: 1_500, queueLimit: 40, idleInTransactionTimeoutMs: 60_000 });
    assert.deepEqual(problemsOf({ REQUEST_TIMEOUT_MS: '0', DATABASE_QUEUE_LIMIT: '0' }), [
      'REQUEST_TIMEOUT_MS must be an integer from 1000 to 3600000 (got "0")',
      'DATABASE_QUEUE_LIMIT must be an integer from 1 to 100000 (got "0")',
    ]);
    assert.deepEqual(problemsOf({ REQUEST_TIMEOUT_MS: '5000', HEADERS_TIMEOUT_MS: '6000' }), ['HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS']);
  });

  test('the connection cap stays below the open-file limit by default', () => {
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    const max = defaultHttpLimits().maxConnections;
    if (limit) assert.ok(max >= 64 && max < Number(limit[1]), `${max} connections against ${limit[1]} open files`);
    else assert.equal(max, 1_000);
  });

  test('empty variables count as unset', () => {
    assert.deepEqual(loadConfig({ PORT: '', DATABASE_URL: '', RELANCE_SECRET_KEY: '', LOG_LEVEL: '', PUBLIC_URL: '', HOST: '' }), loadConfig({}));
  });

  test('DATABASE_URL without RELANCE_SECRET_KEY is refused: every process must share the key', () => {
    const problems = problemsOf({ DATABASE_URL: URL });
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^RELANCE_SECRET_KEY is required with DATABASE_URL/);
    assert.match(problems[0]!, /openssl rand -hex 32/);
  });

  test('DATABASE_URL must be a PostgreSQL URL', () => {
    for (const url of ['mysql://x@y/z', 'localhost:5432', 'sqlite:./db', 'POSTGRES://x']) {
      assert.deepEqual(problemsOf({ DATABASE_URL: url, RELANCE_SECRET_KEY: HEX_KEY }), [
        'DATABASE_URL must be a postgres:// or postgresql:// connection URL',
      ], url);
    }
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql://u@h/d', RELANCE_SECRET_KEY: HEX_KEY }).databaseUrl, 'postgresql://u@h/d');
  });

  test('PORT and DATABASE_POOL_SIZE must be integers in range, and the message says which and why', () => {
    for (const port of ['abc', '-1', '65536', '80.5', '1e3', ' 80', '0x50', '99999999999999999999']) {
      assert.deepEqual(problemsOf({ PORT: port }), [`PORT must be an integer from 0 to 65535 (got "${port}")`], port);
    }
    for (const size of ['0', '501', 'ten']) {
      assert.deepEqual(problemsOf({ DATABASE_POOL_SIZE: size }), [`DATABASE_POOL_SIZE must be an integer from 1 to 500 (got "${size}")`], size);
    }
    assert.equal(loadConfig({ PORT: '0' }).port, 0);
    assert.equal(loadConfig({ PORT: '65535' }).port, 65535);
    assert.equal(loadConfig({ DATABASE_POOL_SIZE: '500' }).databasePoolSize, 500);
  });

  test('RELANCE_SECRET_KEY must hold at least 32 bytes, hex or base64', () => {
    for (const key of ['short', randomBytes(31).toString('hex'), randomBytes(31).toString('base64'), 'z'.repeat(20), `${HEX_KEY}!`]) {
      assert.deepEqual(problemsOf({ RELANCE_SECRET_KEY: key }), ['RELANCE_SECRET_KEY must be at least 32 bytes, hex- or base64-encoded'], key);
    }
    for (const key of [HEX_KEY, randomBytes(32).toString('base64'), randomBytes(48).toString('base64url'), `  ${HEX_KEY}\n`]) {
      assert.equal(loadConfig({ RELANCE_SECRET_KEY: key }).secretKey, key, key);
    }
  });

  test('LOG_LEVEL must be a pino level', () => {
    assert.deepEqual(problemsOf({ LOG_LEVEL: 'verbose' }), ['LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent']);
    assert.equal(loadConfig({ LOG_LEVEL: 'silent' }).logLevel, 'silent');
  });

  test('PUBLIC_URL must be an http(s) URL; trailing slashes are dropped', () => {
    for (const url of ['relance.example.com', 'ftp://relance.example.com', 'https://', 'https:///path']) {
      assert.deepEqual(problemsOf({ PUBLIC_URL: url }), ['PUBLIC_URL must be an http(s) URL'], url);
    }
    assert.equal(loadConfig({ PUBLIC_URL: 'http://localhost:3000//' }).publicUrl, 'http://localhost:3000');
    assert.equal(loadConfig({ PUBLIC_URL: 'https://example.com/relance/' }).publicUrl, 'https://example.com/relance');
  });

  test('every problem is reported at once', () => {
    const problems = problemsOf({ PORT: 'x', DATABASE_URL: 'mysql://a', LOG_LEVEL: 'loud', PUBLIC_URL: 'nope', DATABASE_POOL_SIZE: '0' });
    assert.equal(problems.length, 6, problems.join('\n'));
    for (const name of ['PORT', 'DATABASE_URL', 'RELANCE_SECRET_KEY', 'LOG_LEVEL', 'PUBLIC_URL', 'DATABASE_POOL_SIZE']) {
      assert.ok(problems.some((p) => p.startsWith(name)), name);
    }
  });

  test('OUTBOUND_ALLOW reads hosts, addresses and CIDR ranges, and names every entry it cannot read', () => {
    const { allow } = loadConfig({ OUTBOUND_ALLOW: ' 127.0.0.0/8, ::1,minio.internal ,' }).outbound;
    assert.equal(allow.permits('example.com', '127.9.9.9'), true);
    assert.equal(allow.permits('example.com', '::1'), true);
    assert.equal(allow.permits('minio.internal', '10.1.2.3'), true);
    assert.equal(allow.permits('example.com', '10.1.2.3'), false);
    assert.equal(loadConfig({ OUTBOUND_ALLOW: '' }).outbound.allow.isEmpty, true);
    assert.deepEqual(problemsOf({ OUTBOUND_ALLOW: '127.1,10.0.0.0/33,::1/129,[::1],minio:9000,a b,127.0.0.1' }), [
      'OUTBOUND_ALLOW: "127.1" is not a host name, an IP address or a CIDR range',
      'OUTBOUND_ALLOW: "10.0.0.0/33" is not a host name, an IP address or a CIDR range',
      'OUTBOUND_ALLOW: "::1/129" is not a host name, an IP address or a CIDR range',
      'OUTBOUND_ALLOW: "[::1]" is not a host name, an IP address or a CIDR range',
      'OUTBOUND_ALLOW: "minio:9000" is not a host name, an IP address or a CIDR range',
      'OUTBOUND_ALLOW: "a b" is not a host name, an IP address or a CIDR range',
    ]);
  });

  test('DATA_DIR is resolved to an absolute path', () => {
    assert.equal(loadConfig({ DATA_DIR: 'relative/dir' }).dataDir, resolve('relative/dir'));
  });
});

describe('decodeKey', () => {
  test('decodes hex and base64 (standard or URL-safe) keys of 32 bytes or more', () => {
    const key = randomBytes(32);
    assert.deepEqual(decodeKey(key.toString('hex')), key);
    assert.deepEqual(decodeKey(key.toString('hex').toUpperCase()), key);
    assert.deepEqual(decodeKey(key.toString('base64')), key);
    assert.deepEqual(decodeKey(key.toString('base64url')), key);
    assert.deepEqual(decodeKey(`\n${key.toString('hex')}\n`), key);
    const long = randomBytes(64);
    assert.deepEqual(decodeKey(long.toString('hex')), long);
  });

  test('refuses short keys and text that is neither hex nor base64', () => {
    for (const text of ['', randomBytes(31).toString('hex'), randomBytes(16).toString('base64'), 'ç'.repeat(64), 'a b'.repeat(30), `${'g'.repeat(40)}===`]) {
      assert.equal(decodeKey(text), undefined, text);
    }
  });
});
