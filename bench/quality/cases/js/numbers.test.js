'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const n = require('./numbers.js');

test('clamp: inside, below, above, bad bounds', () => {
  assert.equal(n.clamp(5, 0, 10), 5);
  assert.equal(n.clamp(-1, 0, 10), 0);
  assert.equal(n.clamp(11, 0, 10), 10);
  assert.throws(() => n.clamp(1, 2, 1), RangeError);
});
test('roundTo: digits and halves', () => {
  assert.equal(n.roundTo(1.005, 2), 1.01);
  assert.equal(n.roundTo(2.5), 3);
  assert.equal(n.roundTo(-2.5), -3);
  assert.equal(n.roundTo(1234.5678, 1), 1234.6);
});
test('gcd: values', () => {
  assert.equal(n.gcd(12, 18), 6);
  assert.equal(n.gcd(-4, 6), 2);
  assert.equal(n.gcd(7, 0), 7);
  assert.equal(n.gcd(0, 0), 0);
});
test('isPrime: small numbers', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 9, 11, 25, 29].map(n.isPrime),
    [false, false, true, true, false, false, true, false, true]);
  assert.equal(n.isPrime(7.5), false);
  assert.equal(n.isPrime(7919), true);
});
test('fibonacci: first numbers', () => {
  assert.deepEqual(n.fibonacci(7), [0, 1, 1, 2, 3, 5, 8]);
  assert.deepEqual(n.fibonacci(0), []);
  assert.deepEqual(n.fibonacci(1), [0]);
});
test('formatBytes: units', () => {
  assert.equal(n.formatBytes(512), '512 B');
  assert.equal(n.formatBytes(2048), '2.0 KB');
  assert.equal(n.formatBytes(1536 * 1024), '1.5 MB');
  assert.equal(n.formatBytes(0), '0 B');
  assert.equal(n.formatBytes(Math.pow(1024, 5)), '1024.0 TB');
});
test('median: odd, even, empty, input kept', () => {
  const input = [3, 1, 2];
  assert.equal(n.median(input), 2);
  assert.deepEqual(input, [3, 1, 2]);
  assert.equal(n.median([4, 1, 3, 2]), 2.5);
  assert.equal(n.median([]), undefined);
  assert.equal(n.median([10, 9]), 9.5);
});
test('percentile: interpolation', () => {
  assert.equal(n.percentile([1, 2, 3, 4, 5], 50), 3);
  assert.equal(n.percentile([1, 2, 3, 4], 50), 2.5);
  assert.equal(n.percentile([10, 20], 0), 10);
  assert.equal(n.percentile([10, 20], 100), 20);
  assert.equal(n.percentile([5], 90), 5);
  assert.throws(() => n.percentile([], 50), RangeError);
});
test('toRoman: numerals', () => {
  assert.equal(n.toRoman(1994), 'MCMXCIV');
  assert.equal(n.toRoman(4), 'IV');
  assert.equal(n.toRoman(3888), 'MMMDCCCLXXXVIII');
  assert.equal(n.toRoman(0), '');
});
