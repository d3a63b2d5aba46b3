'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const p = require('./promises.js');

const api = {
  getUser: (id) => (id === 1 ? Promise.resolve({ id: 1, name: 'ada' })
    : Promise.reject(new Error('no user ' + id))),
  getPrice: (id) => Promise.resolve(id * 2),
  getPosts: (id) => Promise.resolve(id === 1 ? ['a', 'b', 'c'] : []),
};

test('userName: found and missing', async () => {
  assert.equal(await p.userName(api, 1), 'ADA');
  assert.equal(await p.userName(api, 2), 'unknown');
});
test('totalPrice: sums', async () => {
  assert.equal(await p.totalPrice(api, [1, 2, 3]), 12);
  assert.equal(await p.totalPrice(api, []), 0);
});
test('totalPrice: rejects when a price fails', async () => {
  const bad = { getPrice: (id) => (id > 1 ? Promise.reject(new Error('x')) : Promise.resolve(1)) };
  await assert.rejects(p.totalPrice(bad, [1, 2]), /x/);
});
test('retry: succeeds on the third try', async () => {
  let calls = 0;
  const fn = () => { calls++; return calls < 3 ? Promise.reject(new Error('e' + calls)) : Promise.resolve('ok'); };
  assert.equal(await p.retry(fn, 5), 'ok');
  assert.equal(calls, 3);
});
test('retry: gives up with the last error', async () => {
  let calls = 0;
  const fn = () => { calls++; return Promise.reject(new Error('e' + calls)); };
  await assert.rejects(p.retry(fn, 2), /e2/);
  assert.equal(calls, 2);
});
test('withDefault: value, null, rejection', async () => {
  assert.equal(await p.withDefault(Promise.resolve(0), 9), 0);
  assert.equal(await p.withDefault(Promise.resolve(null), 9), 9);
  assert.equal(await p.withDefault(Promise.reject(new Error('x')), 9), 9);
});
test('sequential: order and one at a time', async () => {
  const log = [];
  const task = (v, ms) => () => new Promise((r) => { log.push('start' + v); setTimeout(() => { log.push('end' + v); r(v); }, ms); });
  assert.deepEqual(await p.sequential([task(1, 20), task(2, 1)]), [1, 2]);
  assert.deepEqual(log, ['start1', 'end1', 'start2', 'end2']);
  assert.deepEqual(await p.sequential([]), []);
});
test('firstOk: first success, all fail, none', async () => {
  const ok = (v) => () => Promise.resolve(v);
  const bad = (m) => () => Promise.reject(new Error(m));
  assert.equal(await p.firstOk([bad('a'), ok(2), ok(3)]), 2);
  await assert.rejects(p.firstOk([bad('a'), bad('b')]), /b/);
  await assert.rejects(p.firstOk([]), /no tasks/);
});
test('loadProfile: name and post count, or the error', async () => {
  assert.deepEqual(await p.loadProfile(api, 1), { name: 'ada', posts: 3 });
  assert.deepEqual(await p.loadProfile(api, 7), { name: null, error: 'no user 7' });
});
