'use strict';

const fs = require('fs');

/** Read a JSON file and call back (err, value). */
function readJson(path, callback) {
  fs.readFile(path, 'utf8', function (err, text) {
    if (err) {
      callback(err);
      return;
    }
    let value;
    try {
      value = JSON.parse(text);
    } catch (parseError) {
      callback(parseError);
      return;
    }
    callback(null, value);
  });
}

/** Map items through iterator(item, cb) one at a time; done(err, results). */
function mapSeries(items, iterator, done) {
  const results = [];
  let index = 0;
  function next() {
    if (index >= items.length) {
      done(null, results);
      return;
    }
    iterator(items[index], function (err, value) {
      if (err) {
        done(err);
        return;
      }
      results.push(value);
      index++;
      next();
    });
  }
  next();
}

function parallel(tasks, done) {
  const results = new Array(tasks.length);
  let pending = tasks.length;
  let finished = false;
  if (pending === 0) {
    done(null, results);
    return;
  }
  tasks.forEach(function (task, i) {
    task(function (err, value) {
      if (finished) return;
      if (err) {
        finished = true;
        done(err);
        return;
      }
      results[i] = value;
      pending--;
      if (pending === 0) {
        finished = true;
        done(null, results);
      }
    });
  });
}

/** A function that runs fn only on its first call, then returns that result. */
function once(fn) {
  let called = false;
  let result;
  return function () {
    if (!called) {
      called = true;
      result = fn.apply(this, arguments);
    }
    return result;
  };
}

function delayed(value, ms, callback) {
  setTimeout(function () {
    callback(null, value);
  }, ms);
}

function countLines(path, callback) {
  fs.readFile(path, 'utf8', (err, text) => {
    if (err) return callback(err);
    if (text === '') return callback(null, 0);
    const lines = text.split('\n');
    callback(null, lines[lines.length - 1] === '' ? lines.length - 1 : lines.length);
  });
}

module.exports = { readJson, mapSeries, parallel, once, delayed, countLines };
