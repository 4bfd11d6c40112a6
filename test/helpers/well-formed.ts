import assert from 'node:assert/strict';
import { body, type Response } from './setup.js';

/**
 * Never a 5xx; always JSON with a request id; the API's envelopes (a list has `data` as an array),
 * the probes' `{"status"}`, or on POST /token an RFC 6749 answer. `where` starts with "METHOD /path".
 */
export function assertWellFormed(response: Response, where: string): void {
  const context = `${where} -> ${response.statusCode} ${response.body.slice(0, 300)}`;
  assert.ok(response.statusCode < 500, context);
  assert.match(String(response.headers['content-type']), /^application\/json; charset=utf-8$/, context);
  assert.ok(response.headers['x-request-id'], context);
  const json = body(response);
  const path = where.split(' ')[1]!.split('?')[0]!;
  if (where.startsWith('POST /token')) {
    if (response.statusCode === 200) {
      assert.deepEqual(Object.keys(json), ['access_token', 'token_type', 'expires_in', 'scope'], context);
    } else {
      assert.deepEqual(Object.keys(json), ['error', 'error_description'], context);
      assert.ok(['invalid_request', 'invalid_client', 'invalid_scope', 'unsupported_grant_type'].includes(json.error), context);
    }
  } else if (response.statusCode >= 400) {
    assert.equal(json.error, true, context);
    assert.equal(json.code, response.statusCode, context);
    assert.equal(typeof json.message, 'string', context);
    const keys = Object.keys(json);
    assert.deepEqual(keys, json.details === undefined ? ['error', 'message', 'code'] : ['error', 'message', 'code', 'details'], context);
    if (json.details !== undefined) {
      assert.equal(response.statusCode, 400, context);
      assert.ok(Object.keys(json.details).length > 0, context);
      for (const message of Object.values(json.details)) assert.equal(typeof message, 'string', context);
    }
  } else if (path === '/health' || path === '/ready') {
    assert.deepEqual(Object.keys(json), ['status'], context);
  } else {
    assert.equal(json.error, false, context);
    if (Array.isArray(json.data)) assert.equal(typeof json.pagination, 'object', context);
    else assert.equal(typeof json.message, 'string', context);
    assert.equal(typeof json.data, 'object', context);
  }
}

