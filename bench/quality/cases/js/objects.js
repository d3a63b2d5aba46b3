'use strict';

function pick(obj, keys) {
  const out = {};
  for (const key of keys) {
    if (key in obj) {
      out[key] = obj[key];
    }
  }
  return out;
}

function omit(obj, keys) {
  const drop = new Set(keys);
  const out = {};
  Object.keys(obj).forEach(function (key) {
    if (!drop.has(key)) {
      out[key] = obj[key];
    }
  });
  return out;
}

/** obj.a.b.c for the path 'a.b.c'; `fallback` when a step is missing. */
function deepGet(obj, path, fallback) {
  const parts = path.split('.');
  let current = obj;
  for (let i = 0; i < parts.length; i++) {
    if (current === null || current === undefined || !(parts[i] in Object(current))) {
      return fallback;
    }
    current = current[parts[i]];
  }
  return current;
}

function isPlainObject(value) {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Merge b into a copy of a, recursing into plain objects; arrays are replaced. */
function deepMerge(a, b) {
  const out = Object.assign({}, a);
  for (const key of Object.keys(b)) {
    if (isPlainObject(out[key]) && isPlainObject(b[key])) {
      out[key] = deepMerge(out[key], b[key]);
    } else {
      out[key] = b[key];
    }
  }
  return out;
}

function invert(obj) {
  var result = {};
  var keys = Object.keys(obj);
  for (var i = 0; i < keys.length; i++) {
    result[String(obj[keys[i]])] = keys[i];
  }
  return result;
}

function mapValues(obj, fn) {
  const out = {};
  for (const [key, value] of Object.entries(obj)) {
    out[key] = fn(value, key);
  }
  return out;
}

function isEmpty(value) {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
  if (value instanceof Map || value instanceof Set) return value.size === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/** {a: 1, b: [2, 3]} -> 'a=1&b=2&b=3' (keys sorted, values URI-encoded). */
function toQueryString(params) {
  const parts = [];
  Object.keys(params).sort().forEach(function (key) {
    const value = params[key];
    if (value === undefined) return;
    const values = Array.isArray(value) ? value : [value];
    values.forEach(function (v) {
      parts.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(v)));
    });
  });
  return parts.join('&');
}

function parseQueryString(query) {
  const result = {};
  const text = query.charAt(0) === '?' ? query.slice(1) : query;
  if (!text) return result;
  for (const pair of text.split('&')) {
    const index = pair.indexOf('=');
    const key = decodeURIComponent(index >= 0 ? pair.slice(0, index) : pair);
    const value = index >= 0 ? decodeURIComponent(pair.slice(index + 1).replace(/\+/g, ' ')) : '';
    if (key in result) {
      result[key] = [].concat(result[key], value);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(b, k) || !deepEqual(a[k], b[k])) return false;
  }
  return true;
}

module.exports = {
  pick, omit, deepGet, isPlainObject, deepMerge, invert, mapValues, isEmpty, toQueryString,
  parseQueryString, deepEqual,
};
