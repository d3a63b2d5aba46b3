'use strict';

function clamp(value, low, high) {
  if (low > high) {
    throw new RangeError('low must not exceed high');
  }
  if (value < low) return low;
  if (value > high) return high;
  return value;
}

/** Round to `digits` decimals, halves away from zero. */
function roundTo(value, digits = 0) {
  const factor = Math.pow(10, digits);
  const scaled = Math.abs(value) * factor;
  const rounded = Math.round(Number(scaled.toPrecision(15))) / factor;
  return value < 0 ? -rounded : rounded;
}

function gcd(a, b) {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) {
    const t = b;
    b = a % b;
    a = t;
  }
  return a;
}

function isPrime(n) {
  if (!Number.isInteger(n) || n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) {
      return false;
    }
  }
  return true;
}

/** The first n Fibonacci numbers, starting 0, 1. */
function fibonacci(n) {
  const seq = [];
  let a = 0;
  let b = 1;
  for (let i = 0; i < n; i++) {
    seq.push(a);
    const next = a + b;
    a = b;
    b = next;
  }
  return seq;
}

function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value = value / 1024;
    unit++;
  }
  const text = unit === 0 ? String(value) : value.toFixed(1);
  return text + ' ' + units[unit];
}

function median(values) {
  if (values.length === 0) return undefined;
  const sorted = values.slice().sort(function (x, y) { return x - y; });
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) {
    return sorted[mid];
  }
  return (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The p-th percentile (0-100) by linear interpolation between closest ranks. */
function percentile(values, p) {
  if (values.length === 0) throw new RangeError('no values');
  const sorted = [...values].sort((x, y) => x - y);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

function toRoman(num) {
  const table = [[1000, 'M'], [900, 'CM'], [500, 'D'], [400, 'CD'], [100, 'C'], [90, 'XC'],
    [50, 'L'], [40, 'XL'], [10, 'X'], [9, 'IX'], [5, 'V'], [4, 'IV'], [1, 'I']];
  let out = '';
  for (const [value, letters] of table) {
    while (num >= value) {
      out += letters;
      num -= value;
    }
  }
  return out;
}

module.exports = {
  clamp, roundTo, gcd, isPrime, fibonacci, formatBytes, median, percentile, toRoman,
};
