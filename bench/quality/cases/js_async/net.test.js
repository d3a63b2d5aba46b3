'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('http');
const net = require('./net.js');

let server;
let base;
test.before(async () => {
  server = http.createServer((req, res) => {
    const send = (status, body, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(body);
    };
    if (req.url === '/hello') return send(200, 'héllo', 'text/plain; charset=utf-8');
    if (req.url === '/users') return send(200, JSON.stringify([{ name: 'ada' }, { name: 'alan' }]));
    if (req.url.startsWith('/items/')) {
      const id = Number(req.url.split('/')[2]);
      return send(200, JSON.stringify({ id, price: id * 1.5 }));
    }
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => send(201, JSON.stringify({ received: JSON.parse(body), type: req.headers['content-type'] })));
      return undefined;
    }
    return send(404, '{"error": "not found"}');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
test.after(() => server.close());

test('fetchText: body', async () => {
  assert.equal(await net.fetchText(base + '/hello'), 'héllo');
});
test('fetchJson: document and error status', async () => {
  assert.deepEqual(await net.fetchJson(base + '/items/2'), { id: 2, price: 3 });
  await assert.rejects(net.fetchJson(base + '/nope'), /HTTP 404/);
});
test('statusOf: codes and failure', async () => {
  assert.equal(await net.statusOf(base + '/hello'), 200);
  assert.equal(await net.statusOf(base + '/nope'), 404);
  assert.equal(await net.statusOf('http://127.0.0.1:1/'), 0);
});
test('statusOf: through its async caller', async () => {
  assert.deepEqual(await net.statuses(base, ['/hello', '/x']), [200, 404]);
});
test('postJson: round trip', async () => {
  assert.deepEqual(await net.postJson(base + '/p', { a: [1, 'ü'] }),
    { received: { a: [1, 'ü'] }, type: 'application/json' });
});
test('userNames: names, or [] on failure', async () => {
  assert.deepEqual(await net.userNames(base), ['ada', 'alan']);
  assert.deepEqual(await net.userNames(base + '/nothing'), []);
});
test('totalPrice: sums in parallel', async () => {
  assert.equal(await net.totalPrice(base, [1, 2, 3]), 9);
  assert.equal(await net.totalPrice(base, []), 0);
});
