'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const os = require('os');
const path = require('path');
const io = require('./io.js');

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'io-'));

test('readConfig: parses', async () => {
  const f = path.join(tmp(), 'a.cfg');
  fs.writeFileSync(f, '# c\nname = demo\n\nurl=a=b\n');
  assert.deepEqual(await io.readConfig(f), { name: 'demo', url: 'a=b' });
});
test('readConfig: missing file rejects or throws', async () => {
  await assert.rejects(async () => io.readConfig('/nonexistent/cfg'), /ENOENT/);
});
test('readConfig: through its async caller', async () => {
  const d = tmp();
  fs.writeFileSync(path.join(d, 'a'), 'x=1\ny=2\n');
  fs.writeFileSync(path.join(d, 'b'), 'y=3\n');
  assert.deepEqual(await io.mergedConfig([path.join(d, 'a'), path.join(d, 'b')]), { x: '1', y: '3' });
});
test('writeReport: writes rows', async () => {
  const f = path.join(tmp(), 'r.tsv');
  assert.equal(await io.writeReport(f, [['a', 1], ['b', 2]]), 2);
  assert.equal(fs.readFileSync(f, 'utf8'), 'a\t1\nb\t2\n');
});
test('listJsonFiles: sorted json names', async () => {
  const d = tmp();
  for (const n of ['b.json', 'a.json', 'c.txt']) fs.writeFileSync(path.join(d, n), '{}');
  assert.deepEqual(await io.listJsonFiles(d), ['a.json', 'b.json']);
  assert.deepEqual(await io.listJsonFiles(tmp()), []);
});
test('totalSize: sums sizes', async () => {
  const d = tmp();
  fs.writeFileSync(path.join(d, 'x'), 'abc');
  fs.writeFileSync(path.join(d, 'y'), 'hello');
  assert.equal(await io.totalSize([path.join(d, 'x'), path.join(d, 'y')]), 8);
  assert.equal(await io.totalSize([]), 0);
});
test('runNode: stdout', async () => {
  assert.equal(await io.runNode('console.log(6 * 7)'), '42');
  await assert.rejects(async () => io.runNode('process.exit(3)'));
});
test('runNode: through its async caller', async () => {
  assert.equal(await io.nodeSum(2, 3), 5);
});
test('appendLine: counts lines', async () => {
  const f = path.join(tmp(), 'log');
  assert.equal(await io.appendLine(f, 'one'), 1);
  assert.equal(await io.appendLine(f, 'two'), 2);
  assert.equal(fs.readFileSync(f, 'utf8'), 'one\ntwo\n');
});
test('configKeys: sorted', async () => {
  const f = path.join(tmp(), 'k.cfg');
  fs.writeFileSync(f, 'b=1\na=2\n');
  assert.deepEqual(await io.configKeys(f), ['a', 'b']);
});
