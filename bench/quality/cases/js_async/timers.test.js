'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const t = require('./timers.js');

test('delay: resolves with the value later', async () => {
  const start = Date.now();
  assert.equal(await t.delay(20, 'v'), 'v');
  assert.ok(Date.now() - start >= 15);
});
test('timeoutAfter: value in time, timeout otherwise', async () => {
  assert.equal(await t.timeoutAfter(t.delay(1, 'fast'), 200), 'fast');
  await assert.rejects(t.timeoutAfter(t.delay(200, 'slow'), 10), /timeout/);
  await assert.rejects(t.timeoutAfter(Promise.reject(new Error('own')), 50), /own/);
});
test('pollUntil: becomes true, or gives up', async () => {
  let n = 0;
  assert.equal(await t.pollUntil(() => ++n >= 3, 1, 10), true);
  assert.equal(n, 3);
  let m = 0;
  assert.equal(await t.pollUntil(() => { m++; return false; }, 1, 4), false);
  assert.equal(m, 4);
  assert.equal(await t.pollUntil(() => Promise.resolve(true), 1, 1), true);
});
test('mapWithDelay: mapped in order', async () => {
  assert.deepEqual(await t.mapWithDelay([1, 2, 3], (x) => x * 10, 1), [10, 20, 30]);
  assert.deepEqual(await t.mapWithDelay([], (x) => x, 1), []);
});
test('sumSquares: values', async () => {
  assert.equal(await t.sumSquares([1, 2, 3]), 14);
  assert.equal(await t.sumSquares([]), 0);
});
test('titleCase: words', async () => {
  assert.equal(await t.titleCase('hello WORLD  x'), 'Hello World  X');
  assert.equal(await t.titleCase(''), '');
});
test('titleCase: through its async caller', async () => {
  assert.deepEqual(await t.slowTitles(['a b', 'cD']), ['A B', 'Cd']);
});
test('parseCsvLine: quotes and commas', async () => {
  assert.deepEqual(await t.parseCsvLine('a,"b,c","d ""q"" e",'), ['a', 'b,c', 'd "q" e', '']);
  assert.deepEqual(await t.parseCsvLine(''), ['']);
});
