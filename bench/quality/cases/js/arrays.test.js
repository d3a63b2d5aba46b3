'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const a = require('./arrays.js');

test('chunk: even, odd, empty', () => {
  assert.deepEqual(a.chunk([1, 2, 3, 4], 2), [[1, 2], [3, 4]]);
  assert.deepEqual(a.chunk([1, 2, 3], 2), [[1, 2], [3]]);
  assert.deepEqual(a.chunk([], 3), []);
  assert.throws(() => a.chunk([1], 0), RangeError);
});
test('flatten: depths', () => {
  assert.deepEqual(a.flatten([1, [2, [3, [4]]]]), [1, 2, 3, 4]);
  assert.deepEqual(a.flatten([1, [2, [3, [4]]]], 1), [1, 2, [3, [4]]]);
  assert.deepEqual(a.flatten([[], [[]]]), []);
  assert.deepEqual(a.flatten([1, [2]], 0), [1, [2]]);
});
test('uniqueBy: keeps first of each key', () => {
  assert.deepEqual(a.uniqueBy([1, 2, 3, 4, 5], (x) => x % 3), [1, 2, 3]);
  assert.deepEqual(a.uniqueBy(['a', 'A', 'b'], (x) => x.toLowerCase()), ['a', 'b']);
  assert.deepEqual(a.uniqueBy([], (x) => x), []);
});
test('groupBy: groups in order', () => {
  assert.deepEqual(a.groupBy([1, 2, 3, 4], (x) => (x % 2 ? 'odd' : 'even')),
    { odd: [1, 3], even: [2, 4] });
  assert.deepEqual(a.groupBy(['aa', 'b', 'cc'], (x) => x.length), { 1: ['b'], 2: ['aa', 'cc'] });
  assert.deepEqual(a.groupBy([], (x) => x), {});
});
test('zip: shorter wins', () => {
  assert.deepEqual(a.zip([1, 2, 3], ['a', 'b']), [[1, 'a'], [2, 'b']]);
  assert.deepEqual(a.zip([], [1]), []);
});
test('range: forms', () => {
  assert.deepEqual(a.range(4), [0, 1, 2, 3]);
  assert.deepEqual(a.range(2, 5), [2, 3, 4]);
  assert.deepEqual(a.range(0, 10, 3), [0, 3, 6, 9]);
  assert.deepEqual(a.range(5, 0, -2), [5, 3, 1]);
  assert.deepEqual(a.range(3, 3), []);
  assert.throws(() => a.range(0, 3, 0), RangeError);
});
test('partition: split by predicate', () => {
  assert.deepEqual(a.partition([1, 2, 3, 4, 5], (x) => x > 2), [[3, 4, 5], [1, 2]]);
  assert.deepEqual(a.partition([], () => true), [[], []]);
});
test('rotate: left, right, wrap', () => {
  assert.deepEqual(a.rotate([1, 2, 3, 4], 1), [2, 3, 4, 1]);
  assert.deepEqual(a.rotate([1, 2, 3, 4], -1), [4, 1, 2, 3]);
  assert.deepEqual(a.rotate([1, 2, 3], 5), [3, 1, 2]);
  assert.deepEqual(a.rotate([], 2), []);
});
test('intersection: unique, ordered by a', () => {
  assert.deepEqual(a.intersection([3, 1, 2, 3], [2, 3, 4]), [3, 2]);
  assert.deepEqual(a.intersection([1], []), []);
});
test('sumBy: sums mapped values', () => {
  assert.equal(a.sumBy([{ n: 2 }, { n: 5 }], (x) => x.n), 7);
  assert.equal(a.sumBy([], (x) => x), 0);
});
test('maxBy: largest, first on ties', () => {
  assert.deepEqual(a.maxBy([{ v: 1 }, { v: 3 }, { v: 3, second: true }], (x) => x.v), { v: 3 });
  assert.equal(a.maxBy([], (x) => x), undefined);
  assert.equal(a.maxBy(['bb', 'a', 'ccc'], (x) => x.length), 'ccc');
});
