'use strict';

function delay(ms, value) {
  return new Promise(function (resolve) {
    setTimeout(function () { resolve(value); }, ms);
  });
}

/** Resolve with the promise's value, or reject with 'timeout' after ms. */
function timeoutAfter(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).then(
    (value) => { clearTimeout(timer); return value; },
    (err) => { clearTimeout(timer); throw err; },
  );
}

/** Call check() every `interval` ms until it returns true; false after `tries` tries. */
function pollUntil(check, interval, tries) {
  return Promise.resolve(check()).then(function (ok) {
    if (ok) return true;
    if (tries <= 1) return false;
    return delay(interval).then(function () {
      return pollUntil(check, interval, tries - 1);
    });
  });
}

function mapWithDelay(items, fn, ms) {
  return items.reduce(function (chain, item) {
    return chain.then(function (results) {
      return delay(ms).then(function () {
        results.push(fn(item));
        return results;
      });
    });
  }, Promise.resolve([]));
}

function sumSquares(values) {
  let total = 0;
  for (const v of values) {
    total += v * v;
  }
  return total;
}

function titleCase(text) {
  return text.split(' ').map(function (w) {
    return w ? w[0].toUpperCase() + w.slice(1).toLowerCase() : w;
  }).join(' ');
}

/** Split one CSV line; quoted fields may hold commas and doubled quotes. */
function parseCsvLine(line) {
  const fields = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { field += '"'; i++; }
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { fields.push(field); field = ''; }
    else field += ch;
  }
  fields.push(field);
  return fields;
}

async function slowTitles(texts) {
  const out = [];
  for (const t of texts) {
    await delay(1);
    out.push(titleCase(t));
  }
  return out;
}

module.exports = {
  delay, timeoutAfter, pollUntil, mapWithDelay, sumSquares, titleCase, parseCsvLine, slowTitles,
};
