import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The problems the ConfigError of `env` lists, one per line; fails when loadConfig accepts `env`. */
export function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, /^Invalid configuration:\n {2}- /);
    return error.message.split('\n').slice(1).map((line) => line.replace(/^ {2}- /, ''));
  }
  assert.fail(`loadConfig accepted ${JSON.stringify(env)}`);
}
