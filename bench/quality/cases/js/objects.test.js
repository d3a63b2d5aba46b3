'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const o = require('./objects.js');

test('pick: present keys only', () => {
  assert.deepEqual(o.pick({ a: 1, b: 2, c: 3 }, ['a', 'c', 'z']), { a: 1, c: 3 });
  assert.deepEqual(o.pick({ a: undefined }, ['a']), { a: undefined });
  assert.deepEqual(o.pick({}, []), {});
});
test('omit: drops keys, copies', () => {
  const src = { a: 1, b: 2 };
  const out = o.omit(src, ['b', 'x']);
  assert.deepEqual(out, { a: 1 });
  assert.deepEqual(src, { a: 1, b: 2 });
  assert.notEqual(o.omit(src, []), src);
});
test('deepGet: paths and fallbacks', () => {
  const obj = { a: { b: { c: 0 } }, s: 'str', n: null };
  assert.equal(o.deepGet(obj, 'a.b.c'), 0);
  assert.equal(o.deepGet(obj, 'a.x.c', 'fb'), 'fb');
  assert.equal(o.deepGet(obj, 'n.x', 7), 7);
  assert.equal(o.deepGet(obj, 's.length'), 3);
  assert.deepEqual(o.deepGet(obj, 'a.b'), { c: 0 });
});
test('isPlainObject: kinds', () => {
  assert.equal(o.isPlainObject({}), true);
  assert.equal(o.isPlainObject([]), false);
  assert.equal(o.isPlainObject(null), false);
  assert.equal(o.isPlainObject('x'), false);
});
test('deepMerge: recursive, arrays replaced, inputs kept', () => {
  const a = { x: { y: 1, z: [1] }, k: 1 };
  const b = { x: { z: [2], w: 3 }, k: { n: 1 } };
  assert.deepEqual(o.deepMerge(a, b), { x: { y: 1, z: [2], w: 3 }, k: { n: 1 } });
  assert.deepEqual(a, { x: { y: 1, z: [1] }, k: 1 });
  assert.deepEqual(o.deepMerge({}, {}), {});
});
test('invert: values become keys', () => {
  assert.deepEqual(o.invert({ a: 'x', b: 'y' }), { x: 'a', y: 'b' });
  assert.deepEqual(o.invert({ a: 1, b: 1 }), { 1: 'b' });
});
test('mapValues: value and key', () => {
  assert.deepEqual(o.mapValues({ a: 1, b: 2 }, (v) => v * 10), { a: 10, b: 20 });
  assert.deepEqual(o.mapValues({ a: 1 }, (v, k) => k + v), { a: 'a1' });
});
test('isEmpty: kinds', () => {
  assert.equal(o.isEmpty(null), true);
  assert.equal(o.isEmpty(''), true);
  assert.equal(o.isEmpty([0]), false);
  assert.equal(o.isEmpty(new Map()), true);
  assert.equal(o.isEmpty(new Set([1])), false);
  assert.equal(o.isEmpty({}), true);
  assert.equal(o.isEmpty(0), false);
});
test('toQueryString: sorted, arrays, encoding', () => {
  assert.equal(o.toQueryString({ b: [2, 3], a: 1 }), 'a=1&b=2&b=3');
  assert.equal(o.toQueryString({ q: 'a b&c', skip: undefined }), 'q=a%20b%26c');
  assert.equal(o.toQueryString({}), '');
});
test('parseQueryString: pairs, repeats, plus', () => {
  assert.deepEqual(o.parseQueryString('?a=1&b=x+y&a=2&flag'), { a: ['1', '2'], b: 'x y', flag: '' });
  assert.deepEqual(o.parseQueryString(''), {});
  assert.deepEqual(o.parseQueryString('k=%C3%BC'), { k: 'ü' });
});
test('deepEqual: structures', () => {
  assert.equal(o.deepEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), true);
  assert.equal(o.deepEqual({ a: 1 }, { a: 1, b: undefined }), false);
  assert.equal(o.deepEqual([1, 2], { 0: 1, 1: 2 }), false);
  assert.equal(o.deepEqual(NaN, NaN), true);
  assert.equal(o.deepEqual(null, {}), false);
});
