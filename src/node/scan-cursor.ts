// SCAN-family cursors over JS Maps/Sets. A Map iterator survives inserts and deletes (deleted entries are
// skipped, new ones visited), which gives Redis's guarantee: an element present for the whole scan is
// returned. Live iterators are cached by cursor; an unknown cursor (evicted, or from before a restart)
// falls back to skipping as many entries as its position says.

const POSITION_SPAN = 2 ** 32;
const MAX_CURSORS = 4096;

interface Live {
  iter: Iterator<string>;
  position: number;
}

export class ScanCursors {
  private live = new Map<number, Live>();

  /**
   * Advances the scan of `source` from `cursor` by up to `count` elements.
   * Returns the next cursor (0 when the scan is complete) and the elements visited.
   */
  scan(source: { keys(): Iterator<string>; size: number }, cursor: number, count: number): [number, string[]] {
    let state = this.live.get(cursor);
    if (state) this.live.delete(cursor);
    else {
      const iter = source.keys();
      const position = cursor % POSITION_SPAN;
      for (let i = 0; i < position; i++) if (iter.next().done) break;
      state = { iter, position };
    }
    const out: string[] = [];
    for (;;) {
      if (out.length >= count) break;
      const n = state.iter.next();
      if (n.done) return [0, out];
      out.push(n.value);
      state.position++;
    }
    // peek would consume; instead a finished iterator is detected on the next call and returns cursor 0
    let next: number;
    do next = Math.floor(Math.random() * 2 ** 20) * POSITION_SPAN + (state.position % POSITION_SPAN);
    while (next === 0 || this.live.has(next));
    if (this.live.size >= MAX_CURSORS) this.live.delete(this.live.keys().next().value!);
    this.live.set(next, state);
    return [next, out];
  }
}

const owners = new WeakMap<object, ScanCursors>();

/** The live cursors of a database / hash / set / zset, created on first use. */
export function cursorsFor(owner: object): ScanCursors {
  let cur = owners.get(owner);
  if (!cur) owners.set(owner, (cur = new ScanCursors()));
  return cur;
}

/**
 * Forgets an owner's live cursors (FLUSHDB / FLUSHALL). A Map iterator keeps the table it started on, and
 * Map.clear() leaves the old table (with every key and value) to such iterators: an abandoned SCAN cursor would
 * otherwise hold a whole flushed keyspace (found by bench/fuzz.mjs). Their cursors then restart by position.
 */
export function dropCursors(owner: object): void {
  owners.delete(owner);
}

/** Parses a SCAN cursor; null when invalid (Redis: "ERR invalid cursor"). */
export function parseCursor(s: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
