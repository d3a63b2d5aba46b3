'use strict';

function chunk(items, size) {
  if (size <= 0) {
    throw new RangeError('size must be positive');
  }
  const out = [];
  for (let i = 0; i < items.length; i += size) {
    out.push(items.slice(i, i + size));
  }
  return out;
}

/** Flatten nested arrays up to `depth` levels (Infinity = all). */
function flatten(items, depth = Infinity) {
  const result = [];
  for (const item of items) {
    if (Array.isArray(item) && depth > 0) {
      const inner = flatten(item, depth - 1);
      for (const x of inner) {
        result.push(x);
      }
    } else {
      result.push(item);
    }
  }
  return result;
}

function uniqueBy(items, keyFn) {
  const seen = new Set();
  const out = [];
  items.forEach(function (item) {
    const key = keyFn(item);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  });
  return out;
}

function groupBy(items, keyFn) {
  var groups = {};
  for (var i = 0; i < items.length; i++) {
    var key = keyFn(items[i]);
    if (groups[key] === undefined) {
      groups[key] = [];
    }
    groups[key].push(items[i]);
  }
  return groups;
}

/** Pairs of items at the same index; stops at the shorter array. */
function zip(a, b) {
  const n = Math.min(a.length, b.length);
  const pairs = [];
  for (let i = 0; i < n; i++) {
    pairs.push([a[i], b[i]]);
  }
  return pairs;
}

function range(start, stop, step = 1) {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0) throw new RangeError('step must not be 0');
  const out = [];
  if (step > 0) {
    for (let x = start; x < stop; x += step) out.push(x);
  } else {
    for (let x = start; x > stop; x += step) out.push(x);
  }
  return out;
}

function partition(items, predicate) {
  const yes = [];
  const no = [];
  for (const item of items) {
    if (predicate(item)) {
      yes.push(item);
    } else {
      no.push(item);
    }
  }
  return [yes, no];
}

/** Rotate left by k (negative k rotates right). */
function rotate(items, k) {
  if (items.length === 0) return [];
  const n = items.length;
  const shift = ((k % n) + n) % n;
  return items.slice(shift).concat(items.slice(0, shift));
}

function intersection(a, b) {
  const inB = new Set(b);
  const out = [];
  for (const x of a) {
    if (inB.has(x) && out.indexOf(x) === -1) {
      out.push(x);
    }
  }
  return out;
}

function sumBy(items, fn) {
  let total = 0;
  for (let i = 0; i < items.length; i++) {
    total = total + fn(items[i]);
  }
  return total;
}

/** The item with the largest fn(item); the first one on ties; undefined when empty. */
function maxBy(items, fn) {
  let best;
  let bestValue = -Infinity;
  for (const item of items) {
    const value = fn(item);
    if (value > bestValue) {
      best = item;
      bestValue = value;
    }
  }
  return best;
}

module.exports = {
  chunk, flatten, uniqueBy, groupBy, zip, range, partition, rotate, intersection, sumBy,
  maxBy,
};
