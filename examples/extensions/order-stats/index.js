// GET /order-stats/summary: the number of orders and their total amount, read through the
// `items` capability (`items:read:orders`, granted by an admin) under the caller's own
// rights — a caller who may not read orders gets the host's FORBIDDEN.
//
// Built into a WebAssembly component by componentize-qjs (QuickJS):
//   npx componentize-qjs --wit ../../../wit --world endpoint --js index.js --sync --stub-wasi -o order-stats.wasm
import { readItems } from 'rectus:extension/items@0.1.0';

function utf8(text) {
  const binary = unescape(encodeURIComponent(text));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function json(status, body) {
  return {
    status,
    contentType: 'application/json; charset=utf-8',
    headers: [],
    body: utf8(JSON.stringify(body)),
  };
}

function error(status, code, message, extensions) {
  return json(status, { errors: [{ message, extensions: { ...extensions, code } }] });
}

export function handle(ctx, request) {
  const path = request.segments.join('/');
  if (request.method !== 'GET' || path !== 'summary') {
    return error(404, 'ROUTE_NOT_FOUND', `Route /${request.mount}/${path} doesn't exist.`, {});
  }
  let page;
  try {
    page = readItems('orders', { tag: 'text', val: 'aggregate[count]=*&aggregate[sum]=amount' });
  } catch (e) {
    const err = e && e.payload !== undefined ? e.payload : e;
    let extensions = {};
    try { extensions = JSON.parse(err.extensionsJson); } catch (_) { /* none */ }
    return error(err.status, err.code, err.message, extensions);
  }
  const [row] = JSON.parse(page.data);
  const total = row && row.sum ? Number(row.sum.amount ?? 0) : 0;
  return json(200, { data: { orders: Number(row ? row.count : 0), total } });
}
