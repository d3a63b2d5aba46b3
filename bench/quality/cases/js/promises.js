'use strict';

/** The user's name in upper case, or 'unknown' when the lookup fails. */
function userName(api, id) {
  return api.getUser(id)
    .then(function (user) {
      return user.name.toUpperCase();
    })
    .catch(function () {
      return 'unknown';
    });
}

function totalPrice(api, ids) {
  return Promise.all(ids.map(function (id) { return api.getPrice(id); }))
    .then(function (prices) {
      return prices.reduce(function (sum, p) { return sum + p; }, 0);
    });
}

/** Call fn() until its promise resolves, at most `attempts` times. */
function retry(fn, attempts) {
  return fn().catch(function (err) {
    if (attempts <= 1) {
      throw err;
    }
    return retry(fn, attempts - 1);
  });
}

function withDefault(promise, fallback) {
  return promise.then(
    (value) => (value === undefined || value === null ? fallback : value),
    () => fallback,
  );
}

/** Run promise-returning tasks one after another; their results in order. */
function sequential(tasks) {
  const results = [];
  return tasks.reduce(function (chain, task) {
    return chain.then(function () {
      return task().then(function (value) {
        results.push(value);
      });
    });
  }, Promise.resolve()).then(function () {
    return results;
  });
}

function firstOk(tasks) {
  if (tasks.length === 0) {
    return Promise.reject(new Error('no tasks'));
  }
  return tasks[0]().catch(function (err) {
    if (tasks.length === 1) throw err;
    return firstOk(tasks.slice(1));
  });
}

function loadProfile(api, id) {
  let user;
  return api.getUser(id)
    .then((u) => {
      user = u;
      return api.getPosts(u.id);
    })
    .then((posts) => ({ name: user.name, posts: posts.length }))
    .catch((err) => ({ name: null, error: err.message }));
}

module.exports = { userName, totalPrice, retry, withDefault, sequential, firstOk, loadProfile };
