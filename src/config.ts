import { resolve } from 'node:path';

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
  /** Base URL printed in examples (e.g. behind a proxy); defaults to http://HOST:PORT. */
  publicUrl: string | undefined;
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

  const config: Config = {
    host: env.HOST || '127.0.0.1',
    port: integer('PORT', 3000, 0, 65535),
    dataDir: resolve(env.DATA_DIR || './data'),
    databaseUrl,
    databasePoolSize: integer('DATABASE_POOL_SIZE', 10, 1, 500),
    secretKey,
    logLevel,
    publicUrl: publicUrl?.replace(/\/+$/, ''),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Accepts a hex or base64 key of at least 32 bytes. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]+$/.test(trimmed) && trimmed.length % 2 === 0
    ? Buffer.from(trimmed, 'hex')
    : /^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) ? Buffer.from(trimmed, 'base64') : undefined;
  return key && key.length >= 32 ? key : undefined;
}
