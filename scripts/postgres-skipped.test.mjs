import { test } from 'node:test';

test('the whole suite on PostgreSQL', {
  skip: 'TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)',
}, () => {});
