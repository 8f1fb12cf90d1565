// The server's change feed (server-sent events, `GET /api/v1/events`): what a phone changes
// reaches every open page, which refetches what it shows. EventSource reconnects by itself and
// sends the session cookie; after a reconnect every view refetches (it may have missed events).
import { useEffect, useRef, useState } from 'preact/hooks';

const subscribers = new Set();
const statusSubscribers = new Set();
let source = null;
let status = 'offline';

function setStatus(next) {
  status = next;
  statusSubscribers.forEach((callback) => callback(next));
}

function emit(event) {
  subscribers.forEach((subscriber) => subscriber(event));
}

export function startLive() {
  if (source) return;
  source = new EventSource('/api/v1/events');
  source.addEventListener('ready', () => { setStatus('live'); emit(null); });
  source.addEventListener('resync', () => emit(null));
  source.addEventListener('change', (message) => {
    try {
      emit(JSON.parse(message.data));
    } catch {
      emit(null);
    }
  });
  source.onerror = () => setStatus('offline');
}

export function stopLive() {
  source?.close();
  source = null;
  setStatus('offline');
}

/** `live` or `offline`, as it changes. */
export function useLiveStatus() {
  const [current, setCurrent] = useState(status);
  useEffect(() => {
    statusSubscribers.add(setCurrent);
    // The feed may have said `ready` between the first render and this subscription: without
    // this, the page showed `offline` for as long as it stayed open.
    setCurrent(status);
    return () => statusSubscribers.delete(setCurrent);
  }, []);
  return current;
}

/**
 * Calls `refetch` (at most every 150 ms) when an event matches: `matches(event)` gets
 * `{id, kind}`, or `null` when everything should be fetched again.
 */
export function useLive(matches, refetch) {
  const latest = useRef({ matches, refetch });
  latest.current = { matches, refetch };
  useEffect(() => {
    let timer = null;
    const subscriber = (event) => {
      if (!latest.current.matches(event)) return;
      clearTimeout(timer);
      timer = setTimeout(() => latest.current.refetch(), 150);
    };
    subscribers.add(subscriber);
    return () => {
      clearTimeout(timer);
      subscribers.delete(subscriber);
    };
  }, []);
}
