// A type-checked use of the declarations (scripts/check-ts.sh runs tsc --strict on it).
/// <reference path="./rectus-extension.d.ts" />
import { readItems } from 'rectus:extension/items@0.1.0';
import { log } from 'rectus:extension/log@0.1.0';
import * as cache from 'rectus:extension/cache@0.1.0';
import type { Context, Request, Response } from 'rectus:extension/types@0.1.0';

const endpoint: RectusWorlds.Endpoint = {
  handle(ctx: Context, request: Request): Response {
    log('info', `${ctx.user ?? 'anonymous'} ${request.method}`);
    const page = readItems('orders', { tag: 'text', val: 'limit=1' });
    cache.set('k', page.data, 60);
    cache.delete('k');
    return { status: 200, contentType: 'application/json', headers: [], body: new Uint8Array() };
  },
};
export const handle = endpoint.handle;
