'use strict';

/** The body of a GET as text. */
function fetchText(url) {
  return fetch(url).then(function (response) {
    return response.text();
  });
}

function fetchJson(url) {
  return fetch(url)
    .then((response) => {
      if (!response.ok) {
        throw new Error('HTTP ' + response.status);
      }
      return response.json();
    });
}

/** The HTTP status of a GET, or 0 when the request fails. */
function statusOf(url) {
  return fetch(url)
    .then((response) => response.status)
    .catch(() => 0);
}

function postJson(url, payload) {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(payload),
  }).then(function (response) {
    return response.json();
  });
}

function userNames(baseUrl) {
  return fetchJson(baseUrl + '/users')
    .then((users) => users.map((u) => u.name))
    .catch(() => []);
}

/** Sum of the prices of the items, fetched in parallel. */
function totalPrice(baseUrl, ids) {
  return Promise.all(ids.map((id) => fetchJson(baseUrl + '/items/' + id)))
    .then((items) => items.reduce((sum, item) => sum + item.price, 0));
}

async function statuses(baseUrl, paths) {
  const out = [];
  for (const p of paths) {
    out.push(await statusOf(baseUrl + p));
  }
  return out;
}

module.exports = { fetchText, fetchJson, statusOf, postJson, userNames, totalPrice, statuses };
