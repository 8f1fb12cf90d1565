// The REST API as the page uses it: the session cookie authenticates, and every request that
// changes something carries the session's CSRF token.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useLive } from './live.js';

let csrfToken = '';
let onSignedOut = () => {};

export const setCsrfToken = (token) => { csrfToken = token || ''; };
export const whenSignedOut = (callback) => { onSignedOut = callback; };

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** Calls `/api/v1{path}`; answers the JSON body, `null` for 204. */
export async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && path !== '/session') onSignedOut();
    throw new ApiError(response.status, data?.error || response.statusText);
  }
  return data;
}

/** A query string from the non-empty values of `params`. */
export const queryString = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== null && v !== undefined)).toString();

const randomHex = (bytes) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');

/** A key for a new entry of an append-only log: Unix ms in 16 hex digits, then random hex. */
export const logKey = () => `${Date.now().toString(16).padStart(16, '0')}-${randomHex(6)}`;
/** A key for a new sub-record (a contact, an opportunity). */
export const newKey = (prefix) => `${prefix}-${randomHex(6)}`;

/** A document id as the API prints it, without the `automerge:` prefix. */
export const bareId = (id) => String(id || '').replace(/^automerge:/, '');

/**
 * Fetches `path` and refetches it whenever the live feed names a document that `live`
 * matches (`{kinds: [...], ids: [...]}`), or when the feed reconnects.
 */
export function useApi(path, live = {}) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const current = useRef(path);
  current.current = path;
  const load = useCallback(async () => {
    if (!path) return;
    try {
      const data = await api(path);
      if (current.current === path) setState({ data, error: null, loading: false });
    } catch (error) {
      if (current.current === path) setState({ data: null, error, loading: false });
    }
  }, [path]);
  useEffect(() => {
    setState((s) => ({ ...s, loading: true }));
    load();
  }, [load]);
  useLive((event) => !event
    || (live.kinds || []).includes(event.kind)
    || (live.ids || []).map(bareId).includes(event.id), load);
  return { ...state, reload: load };
}
