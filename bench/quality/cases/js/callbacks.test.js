'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const c = require('./callbacks.js');

function tmpFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cb-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}
const call = (fn, ...args) => new Promise((resolve) => fn(...args, (err, value) => resolve([err, value])));

test('readJson: parses a file', async () => {
  const [err, value] = await call(c.readJson, tmpFile('a.json', '{"a": [1, 2]}'));
  assert.equal(err, null);
  assert.deepEqual(value, { a: [1, 2] });
});
test('readJson: missing file and bad JSON are errors', async () => {
  const [e1] = await call(c.readJson, '/nonexistent/x.json');
  assert.equal(e1.code, 'ENOENT');
  const [e2, v2] = await call(c.readJson, tmpFile('b.json', '{nope'));
  assert.ok(e2 instanceof SyntaxError);
  assert.equal(v2, undefined);
});
test('mapSeries: in order, one at a time', async () => {
  const seen = [];
  const it = (x, cb) => { seen.push(x); setTimeout(() => cb(null, x * 2), 5 - x); };
  const [err, res] = await call(c.mapSeries, [1, 2, 3], it);
  assert.equal(err, null);
  assert.deepEqual(res, [2, 4, 6]);
  assert.deepEqual(seen, [1, 2, 3]);
});
test('mapSeries: stops at the first error', async () => {
  let calls = 0;
  const it = (x, cb) => { calls++; cb(x === 2 ? new Error('two') : null, x); };
  const [err] = await call(c.mapSeries, [1, 2, 3], it);
  assert.equal(err.message, 'two');
  assert.equal(calls, 2);
  const [e0, r0] = await call(c.mapSeries, [], it);
  assert.equal(e0, null);
  assert.deepEqual(r0, []);
});
test('parallel: results by index, errors once', async () => {
  const t = (v, ms) => (cb) => setTimeout(() => cb(null, v), ms);
  const [err, res] = await call(c.parallel, [t('a', 10), t('b', 1)]);
  assert.equal(err, null);
  assert.deepEqual(res, ['a', 'b']);
  let doneCalls = 0;
  await new Promise((resolve) => {
    c.parallel([(cb) => cb(new Error('x')), (cb) => cb(new Error('y'))], (e) => {
      doneCalls++;
      assert.equal(e.message, 'x');
      setTimeout(resolve, 5);
    });
  });
  assert.equal(doneCalls, 1);
  const [e0, r0] = await call(c.parallel, []);
  assert.equal(e0, null);
  assert.deepEqual(r0, []);
});
test('once: calls fn a single time', () => {
  let n = 0;
  const f = c.once((x) => { n++; return x * 3; });
  assert.equal(f(2), 6);
  assert.equal(f(5), 6);
  assert.equal(n, 1);
  const obj = { k: 4, get: c.once(function () { return this.k; }) };
  assert.equal(obj.get(), 4);
});
test('delayed: calls back with the value later', async () => {
  let sync = true;
  const p = call(c.delayed, 'v', 5).then((r) => [r, sync]);
  sync = false;
  const [[err, value], wasSync] = await p;
  assert.equal(err, null);
  assert.equal(value, 'v');
  assert.equal(wasSync, false);
});
test('countLines: counts lines', async () => {
  assert.deepEqual(await call(c.countLines, tmpFile('l.txt', 'a\nb\nc\n')), [null, 3]);
  assert.deepEqual(await call(c.countLines, tmpFile('m.txt', 'a\nb')), [null, 2]);
  assert.deepEqual(await call(c.countLines, tmpFile('e.txt', '')), [null, 0]);
  const [err] = await call(c.countLines, '/nonexistent/file');
  assert.equal(err.code, 'ENOENT');
});
