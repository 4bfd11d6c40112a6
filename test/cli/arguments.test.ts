import assert from 'node:assert/strict';
import { test } from 'node:test';
import { joinDashValues } from '../../src/cli/arguments.js';

const OPTIONS = new Set(['company', 'client', 'name', 'scopes']);

test('an id starting with "-" after its option is kept as that option\'s value', () => {
  assert.deepEqual(joinDashValues(['client', 'create', '--company', '-Xb3kq9', '--scopes', 'a'], OPTIONS), ['client', 'create', '--company=-Xb3kq9', '--scopes', 'a']);
  assert.deepEqual(joinDashValues(['--client', '--weird-but-a-value'], OPTIONS), ['--client=--weird-but-a-value']);
});

test('everything else is left to the argument parser', () => {
  const untouched = [
    ['--name', '--company', 'X'], // a missing value stays missing
    ['--company=-X'], ['--company', 'X'], ['--colour', '-red'], ['--name', '-h'], ['--company'],
  ];
  for (const argv of untouched) assert.deepEqual(joinDashValues(argv, OPTIONS), argv, JSON.stringify(argv));
});
