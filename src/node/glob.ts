// Redis's glob-style pattern matching (stringmatchlen): * ? [abc] [^a-z] and \ escapes.
// Used by KEYS, SCAN MATCH, PSUBSCRIBE and CONFIG GET. Works on binary (latin1) strings.

export function globMatch(pattern: string, str: string, nocase = false): boolean {
  if (nocase) {
    pattern = pattern.toLowerCase();
    str = str.toLowerCase();
  }
  if (pattern === '*') return true;
  return match(pattern, 0, str, 0, 0);
}

function match(p: string, pi: number, s: string, si: number, depth: number): boolean {
  if (depth > 1000) return false; // bound the recursion on pathological patterns, as Redis does
  while (pi < p.length && si <= s.length) {
    const c = p[pi];
    if (c === '*') {
      while (pi + 1 < p.length && p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (match(p, pi + 1, s, k, depth + 1)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      si++;
      pi++;
      continue;
    }
    if (c === '[') {
      pi++;
      const not = p[pi] === '^';
      if (not) pi++;
      let found = false;
      for (;;) {
        if (pi >= p.length) {
          pi--; // unterminated class: Redis treats the end as the class end
          break;
        }
        if (p[pi] === '\\' && pi + 1 < p.length) {
          pi++;
          if (p[pi] === s[si]) found = true;
        } else if (p[pi] === ']') {
          break;
        } else if (pi + 2 < p.length && p[pi + 1] === '-') {
          let a = p.charCodeAt(pi);
          let b = p.charCodeAt(pi + 2);
          if (a > b) [a, b] = [b, a];
          const x = s.charCodeAt(si);
          if (x >= a && x <= b) found = true;
          pi += 2;
        } else if (p[pi] === s[si]) {
          found = true;
        }
        pi++;
      }
      if (not) found = !found;
      if (!found) return false;
      si++;
      pi++;
      continue;
    }
    if (c === '\\' && pi + 1 < p.length) pi++;
    if (p[pi] !== s[si]) return false;
    pi++;
    si++;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length && si === s.length;
}
