import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { AllowList, isAddressOrRange } from './net/allow-list.js';

/** Every socket and request is timed out, and connections are capped (README, "Production"). */
export interface HttpLimits {
  /** Whole request, headers and body, must arrive within this (else 408). */
  requestTimeoutMs: number;
  /** The headers must arrive within this (else 408). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic either way (a client that stops reading) is closed after this. */
  socketTimeoutMs: number;
  /** Connections beyond this are refused at once, so file descriptors cannot run out. */
  maxConnections: number;
  /** On SIGTERM, in-flight requests get this long to finish before their sockets are closed. */
  shutdownGraceMs: number;
  /** Requests one API client may have in progress at once in a process; more are a 429. */
  clientConcurrency: number;
  /**
   * Requests served on one connection before the client is asked to reconnect (`Connection:
   * close`; Node answers 503 to any sent past it): a client that pipelines and never reads
   * cannot make the server queue more answers than that. 0: no limit.
   */
  maxRequestsPerSocket: number;
}

export interface DatabaseLimits {
  /** Every statement is cancelled by PostgreSQL after this (the request answers 503). */
  statementTimeoutMs: number;
  /** A request that cannot get a pooled connection within this answers 503. */
  connectTimeoutMs: number;
  /** Requests waiting for a pooled connection beyond this many are shed with 503 at once. */
  queueLimit: number;
  /** A session idle inside a transaction this long is ended by PostgreSQL, releasing its locks. */
  idleInTransactionTimeoutMs: number;
}

/** How long an API process may use what it read of a client's state if no change is announced. */
export const DEFAULT_CLIENT_STATE_TTL_MS = 5_000;

/** Days before a payment in which a human click on the debt's payment link attributes the payment to its followup. */
export const DEFAULT_PAYMENT_ATTRIBUTION_DAYS = 7;

// A queue of 500 waiting queries drains in well under the connect timeout at a few ms a query;
// a list request waits for two connections at once, so a much shorter queue would shed ordinary
// bursts (64 concurrent list requests on a pool of 10 had 70% shed at 100).
export const DEFAULT_DATABASE_LIMITS: DatabaseLimits = { statementTimeoutMs: 10_000, connectTimeoutMs: 5_000, queueLimit: 500, idleInTransactionTimeoutMs: 60_000 };

export function defaultHttpLimits(): HttpLimits {
  return {
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    socketTimeoutMs: 60_000,
    maxConnections: defaultMaxConnections(),
    shutdownGraceMs: 10_000,
    clientConcurrency: 50,
    maxRequestsPerSocket: 100,
  };
}

/**
 * Below the process's open-file limit, with room left for the database pool, logs and files:
 * past the limit every accept() fails, /health included.
 */
export function defaultMaxConnections(): number {
  try {
    const line = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (line) return Math.max(64, Math.min(10_000, Number(line[1]) - 128));
  } catch {
    // not Linux: fall through
  }
  return 1_000;
}

/** An S3-compatible bucket (STORAGE_DRIVER=s3). */
export interface S3Settings {
  bucket: string;
  region: string;
  /** An S3-compatible server's URL; AWS's endpoint for the region when absent. */
  endpoint: string | undefined;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key`: most S3-compatible servers want it. */
  forcePathStyle: boolean;
  /** Static credentials; when absent, the AWS SDK's default chain (environment, profile, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/** Where recordings and PDFs are kept. */
export type StorageSettings = { driver: 'local'; dir: string } | ({ driver: 's3' } & S3Settings);

export interface MediaSettings {
  /** Uploads and fetched files larger than this are refused. */
  maxBytes: number;
  /** How long a signed media URL stays valid. */
  urlTtlSeconds: number;
}

/** GET /metrics: on the API's port behind a bearer token, and/or on a listener of its own. */
export interface MetricsSettings {
  /** METRICS_TOKEN: when set, the API's port serves /metrics to `Authorization: Bearer <token>`; else it answers 404 there. */
  token: string | undefined;
  /** METRICS_PORT: when set, /metrics is also served, without a token, on METRICS_HOST:METRICS_PORT (`relance worker` too). */
  port: number | undefined;
  host: string;
}

/**
 * Per-client budgets of the API (SPEC §10) and of the token endpoints, in fixed windows aligned
 * on the clock (a window of 3600 s runs from one full hour to the next).
 */
export interface RateLimitSettings {
  /** GET and HEAD requests one API client may make per window, unless the client has its own. */
  reads: number;
  /** Every other request, counted apart from the reads. */
  writes: number;
  windowSeconds: number;
  /** POST /token, /token/revoke and /token/introspect: attempts per client id and per remote address. */
  token: { perClient: number; perAddress: number; windowSeconds: number };
  /** Shared counters for several processes; in this process's memory when absent. */
  redisUrl: string | undefined;
  /** Every Redis command (and connecting) gives up after this; the request is then counted in memory. */
  redisTimeoutMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  reads: 1_000,
  writes: 500,
  windowSeconds: 3_600,
  token: { perClient: 20, perAddress: 60, windowSeconds: 60 },
  redisUrl: undefined,
  redisTimeoutMs: 500,
};

export const MEBIBYTE = 1024 * 1024;

/** Webhook subscriptions and their delivery (SPEC §9). */
export interface WebhookSettings {
  /** Plain http subscription URLs are accepted (tests and local receivers only). */
  allowHttp: boolean;
  /** One delivery attempt, DNS to response headers. */
  timeoutMs: number;
  /** Backoff after the first failed attempt; it doubles with each one, up to an hour. */
  retryBaseMs: number;
  /** A delivery still failing this long after its event is marked failed. */
  retryWindowMs: number;
  /** A subscription failing for this long is disabled. */
  disableAfterMs: number;
}

const HOUR_MS = 3_600_000;
export const DEFAULT_WEBHOOKS: WebhookSettings = {
  allowHttp: false, timeoutMs: 10_000, retryBaseMs: 30_000, retryWindowMs: 24 * HOUR_MS, disableAfterMs: 3 * 24 * HOUR_MS,
};
export const DEFAULT_MEDIA: MediaSettings = { maxBytes: 100 * MEBIBYTE, urlTtlSeconds: 3600 };

/** Every setting Relance reads from the environment, validated once at start. */
export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** External PostgreSQL; when absent Relance runs its own embedded server in `dataDir/pg`. */
  databaseUrl: string | undefined;
  databasePoolSize: number;
  /** Master key (hex or base64, ≥ 32 bytes); required with DATABASE_URL, else kept in DATA_DIR. */
  secretKey: string | undefined;
  logLevel: string;
  /** Base URL printed in examples and of the tracking URLs (e.g. behind a proxy); defaults to http://HOST:PORT. */
  publicUrl: string | undefined;
  http: HttpLimits;
  database: DatabaseLimits;
  clientStateTtlMs: number;
  /** Attribution window of payments (SPEC §7), in days. */
  paymentAttributionDays: number;
  /** Background jobs: run by `serve` unless off, and by `relance worker`. */
  worker: { enabled: boolean; concurrency: number; purgeSchedule: string };
  /** Outbound requests (recording downloads, webhooks): the private destinations let through. */
  outbound: { allow: AllowList };
  storage: StorageSettings;
  media: MediaSettings;
  webhooks: WebhookSettings;
  metrics: MetricsSettings;
  rateLimits: RateLimitSettings;
  /** Addresses and CIDR ranges of the proxies whose X-Forwarded-For names the client's address; none by default. */
  trustProxy: string[];
}

export class ConfigError extends Error {
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return value;
  };

  if (env.WORKER && !['on', 'off'].includes(env.WORKER)) problems.push('WORKER must be on or off');
  if (env.WEBHOOK_ALLOW_HTTP && !['true', 'false'].includes(env.WEBHOOK_ALLOW_HTTP)) problems.push('WEBHOOK_ALLOW_HTTP must be true or false');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL must be a postgres:// or postgresql:// connection URL');
  }
  const secretKey = env.RELANCE_SECRET_KEY || undefined;
  if (databaseUrl && !secretKey) {
    problems.push(
      'RELANCE_SECRET_KEY is required with DATABASE_URL: every process must share it (generate one with `openssl rand -hex 32`)',
    );
  }
  if (secretKey && decodeKey(secretKey) === undefined) {
    problems.push('RELANCE_SECRET_KEY must be at least 32 bytes, hex- or base64-encoded');
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const publicUrl = env.PUBLIC_URL || undefined;
  if (publicUrl && !/^https?:\/\/[^/]+/.test(publicUrl)) problems.push('PUBLIC_URL must be an http(s) URL');
  const outboundAllow = AllowList.parse(env.OUTBOUND_ALLOW ?? '');
  problems.push(...outboundAllow.problems.map((problem) => `OUTBOUND_ALLOW: ${problem}`));

  const http = defaultHttpLimits();
  const limits: HttpLimits = {
    requestTimeoutMs: integer('REQUEST_TIMEOUT_MS', http.requestTimeoutMs, 1_000, 3_600_000),
    headersTimeoutMs: integer('HEADERS_TIMEOUT_MS', http.headersTimeoutMs, 1_000, 600_000),
    keepAliveTimeoutMs: integer('KEEP_ALIVE_TIMEOUT_MS', http.keepAliveTimeoutMs, 1_000, 600_000),
    socketTimeoutMs: integer('SOCKET_TIMEOUT_MS', http.socketTimeoutMs, 1_000, 3_600_000),
    maxConnections: integer('MAX_CONNECTIONS', http.maxConnections, 1, 1_000_000),
    shutdownGraceMs: integer('SHUTDOWN_GRACE_MS', http.shutdownGraceMs, 0, 600_000),
    clientConcurrency: integer('CLIENT_CONCURRENCY_LIMIT', http.clientConcurrency, 1, 100_000),
    maxRequestsPerSocket: integer('MAX_REQUESTS_PER_SOCKET', http.maxRequestsPerSocket, 0, 1_000_000),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) problems.push('HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS');
  const database: DatabaseLimits = {
    statementTimeoutMs: integer('DATABASE_STATEMENT_TIMEOUT_MS', DEFAULT_DATABASE_LIMITS.statementTimeoutMs, 100, 3_600_000),
    connectTimeoutMs: integer('DATABASE_CONNECT_TIMEOUT_MS', DEFAULT_DATABASE_LIMITS.connectTimeoutMs, 100, 600_000),
    queueLimit: integer('DATABASE_QUEUE_LIMIT', DEFAULT_DATABASE_LIMITS.queueLimit, 1, 100_000),
    idleInTransactionTimeoutMs: DEFAULT_DATABASE_LIMITS.idleInTransactionTimeoutMs,
  };

  const dataDir = resolve(env.DATA_DIR || './data');
  const config: Config = {
    host: env.HOST || '127.0.0.1',
    port: integer('PORT', 3000, 0, 65535),
    dataDir,
    databaseUrl,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10, 1, 500),
    secretKey,
    logLevel,
    publicUrl: publicUrl && withoutTrailingSlashes(publicUrl),
    http: limits,
    database,
    clientStateTtlMs: integer('CLIENT_STATE_TTL_MS', DEFAULT_CLIENT_STATE_TTL_MS, 0, 600_000),
    paymentAttributionDays: integer('PAYMENT_ATTRIBUTION_DAYS', DEFAULT_PAYMENT_ATTRIBUTION_DAYS, 0, 365),
    worker: {
      enabled: (env.WORKER || 'on') === 'on',
      concurrency: integer('WORKER_CONCURRENCY', 2, 1, 100),
      // Checked by graphile-worker's own parser when the worker starts.
      purgeSchedule: env.PURGE_SCHEDULE || '*/10 * * * *',
    },
    outbound: { allow: outboundAllow.allow },
    storage: storageSettings(env, dataDir, problems),
    media: {
      // Up to 5 GiB: well within what S3 takes from a stream in 5 MiB parts (10,000 of them).
      maxBytes: integer('MEDIA_MAX_BYTES', DEFAULT_MEDIA.maxBytes, 1, 5 * 1024 * MEBIBYTE),
      // An S3 presigned URL lives at most 7 days.
      urlTtlSeconds: integer('MEDIA_URL_TTL_SECONDS', DEFAULT_MEDIA.urlTtlSeconds, 1, 7 * 24 * 3600),
    },
    webhooks: {
      allowHttp: env.WEBHOOK_ALLOW_HTTP === 'true',
      timeoutMs: integer('WEBHOOK_TIMEOUT_MS', DEFAULT_WEBHOOKS.timeoutMs, 100, 60_000),
      retryBaseMs: integer('WEBHOOK_RETRY_BASE_MS', DEFAULT_WEBHOOKS.retryBaseMs, 100, HOUR_MS),
      retryWindowMs: integer('WEBHOOK_RETRY_WINDOW_HOURS', 24, 1, 30 * 24) * HOUR_MS,
      disableAfterMs: integer('WEBHOOK_DISABLE_AFTER_DAYS', 3, 1, 365) * 24 * HOUR_MS,
    },
    metrics: {
      token: env.METRICS_TOKEN || undefined,
      port: env.METRICS_PORT ? integer('METRICS_PORT', 0, 0, 65535) : undefined,
      host: env.METRICS_HOST || '127.0.0.1',
    },
    rateLimits: rateLimitSettings(env, integer, problems),
    trustProxy: proxyAddresses(env.TRUST_PROXY ?? '', problems),
  };
  problems.push(...metricsProblems(env, config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

// A bearer token's characters (RFC 6750 b64token), long enough not to be guessed.
const METRICS_TOKEN = /^[A-Za-z0-9._~+/-]{32,512}={0,2}$/;
const HOST_NAME = /^[A-Za-z0-9.-]{1,253}$/;

function metricsProblems(env: NodeJS.ProcessEnv, config: Config): string[] {
  const problems: string[] = [];
  const { token, port, host } = config.metrics;
  if (token !== undefined && !METRICS_TOKEN.test(token)) {
    problems.push('METRICS_TOKEN must be 32 to 512 letters, digits or -._~+/ characters (generate one with `openssl rand -hex 32`)');
  }
  if (env.METRICS_HOST && port === undefined) problems.push('METRICS_HOST is set but METRICS_PORT is not: set METRICS_PORT to serve /metrics on a listener of its own');
  if (env.METRICS_HOST && isIP(host) === 0 && !HOST_NAME.test(host)) problems.push('METRICS_HOST must be an IP address or a host name (127.0.0.1, 0.0.0.0, ::1, localhost)');
  if (port !== undefined && port !== 0 && port === config.port) problems.push(`METRICS_PORT must differ from PORT (both are ${port})`);
  return problems;
}

type IntegerReader = (name: string, fallback: number, min: number, max: number) => number;

const MAX_BUDGET = 1_000_000_000;

function rateLimitSettings(env: NodeJS.ProcessEnv, integer: IntegerReader, problems: string[]): RateLimitSettings {
  const defaults = DEFAULT_RATE_LIMITS;
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\/[^/]/.test(redisUrl)) problems.push('REDIS_URL must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379');
  return {
    reads: integer('RATE_LIMIT_READS', defaults.reads, 1, MAX_BUDGET),
    writes: integer('RATE_LIMIT_WRITES', defaults.writes, 1, MAX_BUDGET),
    windowSeconds: integer('RATE_LIMIT_WINDOW_SECONDS', defaults.windowSeconds, 1, 86_400),
    token: {
      perClient: integer('RATE_LIMIT_TOKEN_PER_CLIENT', defaults.token.perClient, 1, MAX_BUDGET),
      perAddress: integer('RATE_LIMIT_TOKEN_PER_ADDRESS', defaults.token.perAddress, 1, MAX_BUDGET),
      windowSeconds: integer('RATE_LIMIT_TOKEN_WINDOW_SECONDS', defaults.token.windowSeconds, 1, 86_400),
    },
    redisUrl,
    redisTimeoutMs: integer('REDIS_TIMEOUT_MS', defaults.redisTimeoutMs, 10, 60_000),
  };
}

/** TRUST_PROXY: `10.0.0.0/8, 127.0.0.1` (no host names: they would be resolved on every request). */
function proxyAddresses(text: string, problems: string[]): string[] {
  const entries = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const bad = entries.filter((entry) => !isAddressOrRange(entry));
  for (const entry of bad) problems.push(`TRUST_PROXY: "${entry.slice(0, 60)}" is not an IP address or a CIDR range`);
  return bad.length > 0 ? [] : entries;
}

const S3_VARIABLES = ['S3_BUCKET', 'S3_REGION', 'S3_ENDPOINT', 'S3_FORCE_PATH_STYLE', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];

function storageSettings(env: NodeJS.ProcessEnv, dataDir: string, problems: string[]): StorageSettings {
  const driver = env.STORAGE_DRIVER || 'local';
  if (driver !== 'local' && driver !== 's3') {
    problems.push(`STORAGE_DRIVER must be local or s3 (got "${driver.slice(0, 40)}")`);
    return { driver: 'local', dir: join(dataDir, 'media') };
  }
  if (driver === 'local') {
    // Bucket settings without the driver would silently keep every recording on this disk.
    const stray = S3_VARIABLES.filter((name) => env[name]);
    if (stray.length > 0) problems.push(`${stray.join(', ')} ${stray.length > 1 ? 'are' : 'is'} set but STORAGE_DRIVER is local: set STORAGE_DRIVER=s3 to use a bucket`);
    return { driver: 'local', dir: join(dataDir, 'media') };
  }
  const bucket = env.S3_BUCKET || '';
  if (!bucket) problems.push('S3_BUCKET is required with STORAGE_DRIVER=s3');
  else if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) problems.push('S3_BUCKET must be a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens');
  const region = env.S3_REGION || 'us-east-1';
  if (!/^[a-z0-9-]{1,40}$/.test(region)) problems.push('S3_REGION must be a region name such as eu-west-3 (lowercase letters, digits, hyphens)');
  const endpoint = env.S3_ENDPOINT || undefined;
  if (endpoint && !isHttpUrl(endpoint)) problems.push('S3_ENDPOINT must be an http(s) URL such as https://s3.example.com');
  const pathStyle = env.S3_FORCE_PATH_STYLE || 'off';
  if (pathStyle !== 'on' && pathStyle !== 'off') problems.push('S3_FORCE_PATH_STYLE must be on or off');
  const accessKeyId = env.S3_ACCESS_KEY_ID || undefined;
  const secretAccessKey = env.S3_SECRET_ACCESS_KEY || undefined;
  if (Boolean(accessKeyId) !== Boolean(secretAccessKey)) {
    problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY go together: set both, or neither to use the AWS SDK\'s default credentials');
  }
  return {
    driver: 's3',
    bucket,
    region,
    endpoint: endpoint && withoutTrailingSlashes(endpoint),
    forcePathStyle: pathStyle === 'on',
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
  };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function withoutTrailingSlashes(url: string): string {
  let end = url.length;
  while (end > 0 && url[end - 1] === '/') end--;
  return url.slice(0, end);
}

/** Accepts a hex or base64 key of at least 32 bytes. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  return key && key.length >= 32 ? key : undefined;
}
