// Waiting for a condition in multi-process tests: poll, never a fixed sleep (the 2-core CI machine is slow).

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `f` until `ok` holds for its value; fails naming `what` and the last value seen. */
export async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await f();
    if (ok(last)) return last;
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
}
