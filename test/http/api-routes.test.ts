/**
 * The path parameters of a feature's routes are described once (apiRoutes' `pathParams`): a
 * route gets the schema of each parameter its URL names, and a URL naming one the feature does
 * not describe is refused when the route is declared, not discovered in a request.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { apiRoutes, type ApiRoutes } from '../../src/http/api-routes.js';
import type { TokenVerifier } from '../../src/auth/token-verifier.js';

// Declaring routes never calls the verifier: requests are not sent here.
const tokens = {} as TokenVerifier;
const PATH = { id: Type.String({ description: 'Encrypted thing ID', minLength: 2 }) };
const response = { 200: Type.Object({}) };

test('a route gets the schema of each parameter its URL names, and only those', async () => {
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  const schemas: Record<string, unknown> = {};
  app.addHook('onRoute', (route) => {
    schemas[route.url] = route.schema?.params;
  });
  const route = apiRoutes(app, tokens, 'things', PATH);
  route.get('/things/:id', 'debts:read', { operationId: 'getThing', summary: 'Get a thing', response }, async () => ({}));
  route.get('/things', 'debts:read', { operationId: 'listThings', summary: 'List things', response }, async () => ({}));
  await app.ready();
  assert.deepEqual(schemas['/things/:id'], Type.Object({ id: PATH.id }));
  assert.equal(schemas['/things'], undefined);
  await app.close();
});

test('a URL naming a parameter the feature does not describe is refused at declaration', () => {
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  // The types refuse it too: the cast stands for a caller without them.
  const route = apiRoutes(app, tokens, 'things', PATH) as unknown as ApiRoutes<string>;
  assert.throws(
    () => route.get('/things/:id/parts/:part_id', 'debts:read', { operationId: 'getPart', summary: 'Get a part', response }, async () => ({})),
    /\/things\/:id\/parts\/:part_id: no schema for the path parameter part_id/,
  );
});
