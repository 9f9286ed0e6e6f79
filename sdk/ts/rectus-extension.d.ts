// TypeScript declarations for the WIT package rectus:extension@0.1.0 (wit/), as
// JavaScript guests see it when built with componentize-qjs (or jco / componentize-js):
// kebab-case names become camelCase, records are plain objects, variants are
// `{ tag, val }`, `option<T>` is `T | undefined`, `list<u8>` is a `Uint8Array`, `s64` a
// `bigint`, and an import returning `result<T, E>` returns `T` or throws an error whose
// `payload` is the `E` (see examples/extensions/order-stats/index.js).
//
// Written by hand from wit/types.wit and wit/worlds.wit; keep them in step.

declare module 'rectus:extension/types@0.1.0' {
  /** Who the call acts for (informational: the host decides, not the guest). */
  export interface Context {
    user?: string;
    role?: string;
    admin: boolean;
    ip?: string;
    userAgent?: string;
  }
  /** An error in Directus's terms; `extensionsJson` is a JSON object's text. */
  export interface HostError {
    status: number;
    code: string;
    message: string;
    extensionsJson: string;
  }
  export type QueryInput = { tag: 'text'; val: string } | { tag: 'json'; val: string };
  export type Target = { tag: 'keys-json'; val: string } | { tag: 'query'; val: QueryInput };
  export interface ItemsPage {
    /** The JSON array of items, as text. */
    data: string;
    totalCount?: bigint;
    filterCount?: bigint;
  }
  export interface Request {
    mount: string;
    method: string;
    segments: string[];
    query: string;
    headers: [string, string][];
    body: Uint8Array;
  }
  export interface Response {
    status: number;
    contentType: string;
    headers: [string, string][];
    body: Uint8Array;
  }
}

/** What a failing import throws: `payload` is the WIT error value. */
interface RectusComponentError<E> extends Error {
  payload: E;
}

declare module 'rectus:extension/items@0.1.0' {
  import type { ItemsPage, QueryInput, Target } from 'rectus:extension/types@0.1.0';
  /** Needs `items:read:<collection>`; throws a `HostError` payload (403 `FORBIDDEN` …). */
  export function readItems(collection: string, query: QueryInput): ItemsPage;
  export function readItem(collection: string, key: string, query: QueryInput): string;
  /** Needs `items:write:<collection>`; returns the new keys as a JSON array's text. */
  export function createItems(collection: string, payloadJson: string): string;
  export function updateItems(collection: string, target: Target, dataJson: string): string;
  export function updateBatch(collection: string, itemsJson: string): string;
  export function deleteItems(collection: string, target: Target): void;
}

declare module 'rectus:extension/schema@0.1.0' {
  export interface CollectionInfo {
    primaryKey?: string;
    singleton: boolean;
  }
  export interface SchemaView {
    hash: string;
    snapshotJson: string;
    permissionsJson: string;
  }
  export function collection(name: string): CollectionInfo | undefined;
  export function read(): SchemaView;
}

declare module 'rectus:extension/log@0.1.0' {
  export type Level = 'debug' | 'info' | 'warn' | 'error';
  export function log(level: Level, message: string): void;
}

declare module 'rectus:extension/http@0.1.0' {
  export interface HttpRequest {
    method: string;
    url: string;
    headers: [string, string][];
    body: Uint8Array;
  }
  export interface HttpResponse {
    status: number;
    headers: [string, string][];
    body: Uint8Array;
  }
  /** Needs `http:<host>`. */
  export function send(request: HttpRequest): HttpResponse;
}

declare module 'rectus:extension/cache@0.1.0' {
  /** Needs `cache`. */
  export function get(key: string): string | undefined;
  export function set(key: string, value: string, ttlSeconds: number | undefined): void;
  function _delete(key: string): void;
  export { _delete as delete };
}

declare module 'rectus:extension/env@0.1.0' {
  /** Needs `env:<KEY>`. */
  export function get(key: string): string | undefined;
}

/** The exports of each world, for a guest's own module to satisfy. */
declare namespace RectusWorlds {
  type Context = import('rectus:extension/types@0.1.0').Context;
  type Request = import('rectus:extension/types@0.1.0').Request;
  type Response = import('rectus:extension/types@0.1.0').Response;
  type HostError = import('rectus:extension/types@0.1.0').HostError;

  /** world endpoint: serves `/<extension-id>/…`. */
  interface Endpoint {
    handle(ctx: Context, request: Request): Response;
  }

  interface Subscription {
    kind: 'filter' | 'action';
    event: string;
  }
  interface Event {
    name: string;
    collection: string;
    payloadJson: string;
    keysJson: string;
  }
  /** world hook: a filter returns the payload's JSON text or throws the rejection message. */
  interface Hook {
    subscriptions(): Subscription[];
    filter(ctx: Context, event: Event): string;
    action(ctx: Context, event: Event): void;
  }

  interface OperationInfo {
    id: string;
    name: string;
    description: string;
    optionsJson: string;
  }
  /** world operation: `run` returns the result's JSON text or throws a `HostError`. */
  interface Operation {
    info(): OperationInfo;
    run(ctx: Context, optionsJson: string, dataJson: string): string;
  }
}

/** Convenience for `catch (e)`: the WIT error of a failing import. */
type RectusError<E = import('rectus:extension/types@0.1.0').HostError> = RectusComponentError<E>;
