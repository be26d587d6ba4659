// "Hỏi thuốc" / "Check a product": may this product or substance be used on an organic farm? The answers are the
// Python advisor's own (`leafscout advise --check-substance NAME`): webapp/phone.py writes substances.json with
// Advisor.check_substance + substance_conditions for every name the knowledge base knows, in vi and en. This file
// words no verdict; it only finds which of those answers the advisor gives for what the farmer typed, by the
// advisor's own rules (advisor/substances.py, ported below function by function), and says so.
//
// What the phone answers, and its limits (everything else is "hỏi cán bộ", never a guess):
// - a name the knowledge base knows, typed in any case, with or without its Vietnamese marks (đ = d), with other
//   separators ("thiovit-jet"): the advisor's answer for that name, as built ("exact"). Marks typed must be the
//   name's (the advisor's rule: "với" is not "vôi").
// - that name with a strength or formulation code after it ("Karate 2.5EC", "Thiovit Jet 80WG", "Spinosad 25SC"):
//   the advisor's answer built for the name with a code of that use ("coded"), used only when the typed text
//   names exactly the same knowledge-base names as the name alone.
// - any text that names a prohibited substance or a banned product anywhere ("Regent 800WG", "Karate + Dipel"):
//   not allowed, worded as the advisor words it (the entry's built verdict, after "Karate = lambda-cyhalothrin; ..."
//   for the trade names in the text: the build checks that wording against the advisor for every banned product).
// - a text that names nothing the knowledge base knows: the advisor's "not in the knowledge base: treat it as not
//   allowed until your certifier confirms" (its template, read back from the advisor at build time), with its
//   "did you mean" (difflib.get_close_matches, ported: SequenceMatcher's ratio).
// - a mixture (split as advisor.substances.mixture_parts splits: "+", "&", ";", ",", "/", "và", "với", "and",
//   "with"): a part the knowledge base does not know makes it unknown (the advisor's words for that part); when
//   every part is exactly a known name, the most restrictive part answers, or the two treatments' clash ("do not
//   mix") as the advisor has it, listing the conditions of every allowed part after its name ("COC 85: ...", the
//   advisor's engine.PART_LINE from the bundle); a part with a coded product the knowledge base lacks makes the
//   whole unknown; any other mixture (a part with a code or more words) -> "hỏi cán bộ".
// - a known name beside a product it does not know, found by its formulation code ("Thiovit Jet 80WG Bassa 50EC",
//   "Bt Oshin 20WP"): the advisor's "not in the knowledge base" for that product (SubstanceIndex.unnamed_product,
//   ported), never "allowed" on the known name.
// - anything else that names a known treatment among other words ("thuốc dipel loại mới") -> "hỏi cán bộ".
// Known differences from Python that make the phone ask rather than answer wrongly are none by design; the text
// functions differ from Python's only on characters a product name does not have: JS \s vs Python's (U+001C-1F),
// String.trim vs str.strip (U+FEFF), code-unit vs code-point order for characters beyond U+FFFF, and the Unicode
// version of Chromium's normalisation tables.

const SEP_CHARS = /^[\s_\-/+,;()]$/u;
const TONES = new Set(['\u0300', '\u0301', '\u0303', '\u0309', '\u0323']);  // huyền, sắc, ngã, hỏi, nặng
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
const isDigit = (ch) => /^\p{Nd}$/u.test(ch);
const WORD = '[\\p{L}\\p{N}_]';  // Python's \w on str
const PY_B = `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`;  // Python's \b on str

// substances._base: one lower-case character without its accents (NFD, combining marks dropped, đ -> d)
function base(ch) {
  return ch.normalize('NFD').replace(/\p{Mn}/gu, '').replace(/đ/g, 'd');
}

// substances._pair: [with accents, without accents], lower case, separators to single spaces
export function pair(text) {
  const soft = [], flat = [];
  for (const ch of Array.from(String(text).normalize('NFC').toLowerCase())) {
    const b = base(ch);
    if (SEP_CHARS.test(b || ' ')) {
      if (flat.length && flat[flat.length - 1] !== ' ') { soft.push(' '); flat.push(' '); }
      continue;
    }
    if (Array.from(b).length !== 1) { soft.push(b); flat.push(b); } else { soft.push(ch); flat.push(b); }
  }
  return [soft.join('').trim(), flat.join('').trim()];
}

export const fold = (text) => pair(text)[1];

// substances._starts: where `needle` stands as whole words of `haystack` (a code may be glued after a letter)
const startsCache = new Map();
function starts(haystack, needle) {
  if (!needle) return [];
  let re = startsCache.get(needle);
  if (!re) {
    re = new RegExp(`(?<![a-z0-9])${reEscape(needle)}(?![a-z]|(?<=[0-9])[0-9])`, 'g');
    startsCache.set(needle, re);
  }
  re.lastIndex = 0;
  return Array.from(haystack.matchAll(re), (m) => m.index);
}

// substances._letter: [the letter with its vowel marks but no tone, its tone marks]
function letter(ch) {
  const d = Array.from(ch.normalize('NFD'));
  return [d.filter((c) => !TONES.has(c)).join('').normalize('NFC'), new Set(d.filter((c) => TONES.has(c)))];
}

const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));

// substances._accents_agree: every accent the query typed is the name's
function accentsAgree(qSoft, start, nameSoft) {
  const part = qSoft.slice(start, start + nameSoft.length);
  if (part.length !== nameSoft.length) return false;
  const qws = part.split(' '), nws = nameSoft.split(' ');
  for (let w = 0; w < Math.min(qws.length, nws.length); w++) {
    const qw = Array.from(qws[w]), nw = Array.from(nws[w]);
    const qt = new Set(), nt = new Set();
    for (let i = 0; i < Math.min(qw.length, nw.length); i++) {
      const [q, qtones] = letter(qw[i]), [n, ntones] = letter(nw[i]);
      qtones.forEach((x) => qt.add(x));
      ntones.forEach((x) => nt.add(x));
      if (q !== base(q) && q !== n) return false;
    }
    if (qt.size && !sameSet(qt, nt)) return false;
  }
  return true;
}

// substances.formulation: [application, CODE] of the first known formulation code in `query`, else null
function formulation(query, byCode) {
  const text = String(query).normalize('NFC'), hits = [];
  for (const m of text.matchAll(/\p{Nd}+(?:[.,]\p{Nd}+)?\s*([A-Za-z]{2,3})(?![A-Za-z])/gu)) {
    hits.push([m.index + m[0].length - m[1].length, m[1].toUpperCase()]);
  }
  for (const m of text.matchAll(/(?<![A-Za-z0-9])([A-Z]{2,3})(?![A-Za-z])/g)) hits.push([m.index, m[1]]);
  hits.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  for (const [, code] of hits) if (byCode.has(code)) return [byCode.get(code), code];
  return null;
}

// substances._strength_only: a part that is only a strength ("16000 IU/mg", "1.5%")
function strengthOnly(part, units, codes) {
  const words = fold(part).replace(/\^/g, ' ').split(/\s+/).filter(Boolean);
  return words.length > 0 && words.every((w) => /^\p{Nd}+(?:[.,]\p{Nd}+)*%?[a-z]{0,3}$/u.test(w) || units.has(w) || codes.has(w));
}

// substances.mixture_parts: the parts of a mixture, outside parentheses; [query] when it names one thing
function mixtureParts(query, wordSeps, units, codes) {
  const text = Array.from(String(query).normalize('NFC'));
  const parts = [];
  let depth = 0, cur = '', i = 0;
  while (i < text.length) {
    const ch = text[i];
    depth += (ch === '(') - (ch === ')');
    let cut = 0;
    if (depth <= 0) {
      if ('+&;'.includes(ch)) cut = 1;
      else if (ch === ',' && !(i > 0 && isDigit(text[i - 1]) && i + 1 < text.length && isDigit(text[i + 1]))) cut = 1;
      else if (ch === '/') {
        const before = /(\S*)\s*$/u.exec(text.slice(0, i).join(''))[1];
        const after = /^\s*(\S*)/u.exec(text.slice(i + 1).join(''))[1];
        const unit = Array.from(before + after).some(isDigit) || (Array.from(before).length <= 2 && Array.from(after).length <= 2);
        cut = unit ? 0 : 1;
      } else if (/^\s$/u.test(ch)) {
        const rest = text.slice(i).join('');
        const m = /^\s+(\S+)\s+/u.exec(rest);
        if (m && wordSeps.has(m[1].toLowerCase())) cut = Array.from(m[0]).length;
      }
    }
    if (cut) { parts.push(cur); cur = ''; i += cut; continue; }
    cur += ch;
    i += 1;
  }
  const kept = [...parts, cur].filter((x) => fold(x) && !strengthOnly(x, units, codes)).map((x) => x.trim());
  return kept.length > 1 ? kept : [String(query).trim()];
}

// difflib.SequenceMatcher(None, a, b).ratio() (autojunk as Python: only for b of 200+ characters)
function ratio(a, b) {
  const b2j = new Map();
  b.forEach((c, j) => { if (!b2j.has(c)) b2j.set(c, []); b2j.get(c).push(j); });
  if (b.length >= 200) {
    const ntest = Math.floor(b.length / 100) + 1;
    for (const [c, idx] of [...b2j]) if (idx.length > ntest) b2j.delete(c);
  }
  const longest = (alo, ahi, blo, bhi) => {
    let besti = alo, bestj = blo, bestsize = 0, j2len = new Map();
    for (let i = alo; i < ahi; i++) {
      const newj2len = new Map();
      for (const j of b2j.get(a[i]) || []) {
        if (j < blo) continue;
        if (j >= bhi) break;
        const k = (j2len.get(j - 1) || 0) + 1;
        newj2len.set(j, k);
        if (k > bestsize) { besti = i - k + 1; bestj = j - k + 1; bestsize = k; }
      }
      j2len = newj2len;
    }
    while (besti > alo && bestj > blo && a[besti - 1] === b[bestj - 1]) { besti--; bestj--; bestsize++; }
    while (besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] === b[bestj + bestsize]) bestsize++;
    return [besti, bestj, bestsize];
  };
  let matches = 0;
  const queue = [[0, a.length, 0, b.length]];
  while (queue.length) {
    const [alo, ahi, blo, bhi] = queue.pop();
    const [i, j, k] = longest(alo, ahi, blo, bhi);
    if (k) {
      matches += k;
      if (alo < i && blo < j) queue.push([alo, i, blo, j]);
      if (i + k < ahi && j + k < bhi) queue.push([i + k, ahi, j + k, bhi]);
    }
  }
  const length = a.length + b.length;
  return length ? 2.0 * matches / length : 1.0;
}

// Fill {name} slots of an advisor template in one pass (a typed name with "{near}" in it stays as typed).
const fill = (tmpl, vals) => tmpl.replace(/\{(\w+)\}/g, (m, k) => (k in vals ? vals[k] : m));

export function makeChecker(bundle) {
  const B = bundle;
  const keys = new Map(B.keys.map(([key, kind, id, written, accented]) => [key, {key, kind, id, written, accented}]));
  const order = B.keys.map((k) => k[0]);
  const byCode = new Map();
  for (const [app, codes] of Object.entries(B.codes)) for (const c of codes) byCode.set(String(c).toUpperCase(), app);
  const codeWords = new Set(Object.values(B.codes).flat().map((c) => String(c).toLowerCase()));
  const wordSeps = new Set(B.word_separators), units = new Set(B.unit_words);
  const ingredientOf = B.ingredient_of || {};

  // SubstanceIndex._in: the name `key` is in the query, with every accent typed matching the name's
  const isIn = (soft, flat, key) => starts(flat, key).some((at) => keys.get(key).accented.some((s) => accentsAgree(soft, at, s)));
  const foundIn = (soft, flat) => order.filter((k) => isIn(soft, flat, k));
  const exactKey = (text) => {
    const [soft, flat] = pair(text);
    return keys.has(flat) && isIn(soft, flat, flat) ? flat : null;
  };

  // SubstanceIndex.lookup on the names found: the longest prohibited name (not an ingredient named with the
  // product it makes), else the longest treatment name; ties to the larger id, as Python's reverse sort
  function lookup(found) {
    const rows = found.map((k) => [k.length, keys.get(k).kind, keys.get(k).id]);
    const cmp = (x, y) => (y[0] - x[0]) || (y[2] > x[2] ? 1 : y[2] < x[2] ? -1 : 0);
    const treatments = rows.filter((r) => r[1] === 't').sort(cmp);
    const prohibited = rows.filter((r) => r[1] === 'p').sort(cmp)
      .filter((p) => !treatments.some((t) => (ingredientOf[p[2]] || []).includes(t[2])));
    if (prohibited.length) return ['prohibited', prohibited[0][2]];
    if (treatments.length) return ['treatment', treatments[0][2]];
    return null;
  }

  // SubstanceIndex.unnamed_product: a product in the query that no known name covers, found by its formulation code
  // ("Thiovit Jet 80WG Bassa 50EC" -> "Bassa 50EC"), as typed; null when every coded product is a known name
  const closing = new Set([...codeWords, ...(B.product_codes || [])]);
  const codeAlt = [...closing].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0)).map(reEscape).join('|');
  const glue = new RegExp(`^([a-z][a-z0-9]*?)?\\p{Nd}+(?:[.,]\\p{Nd}+)*(?:${codeAlt})$`, 'u');
  const figure = /^\p{Nd}+(?:[.,]\p{Nd}+)*%?$/u;
  function unnamedProduct(query) {
    const text = Array.from(String(query).normalize('NFC'));
    const spans = [];  // the query's words, as pair() splits them: [start, end] in code points of `text`
    let cur = null;
    text.forEach((ch, i) => {
      const sep = SEP_CHARS.test(base(ch.toLowerCase()) || ' ');
      if (!sep && cur === null) cur = i;
      else if (sep && cur !== null) { spans.push([cur, i]); cur = null; }
    });
    if (cur !== null) spans.push([cur, text.length]);
    const words = spans.map(([a, b]) => [a, b, fold(text.slice(a, b).join(''))]).filter((w) => w[2]);
    const [soft, flat] = pair(query);
    if (words.map((w) => w[2]).join(' ') !== flat) return null;  // the two splits disagree: say nothing
    const offsets = [];
    let at = 0;
    for (const [, , w] of words) { offsets.push([at, at + w.length]); at += w.length + 1; }
    const covered = [];
    for (const k of order) {
      for (const s of starts(flat, k)) if (keys.get(k).accented.some((a) => accentsAgree(soft, s, a))) covered.push([s, s + k.length]);
    }
    for (let i = 0; i < words.length; i++) {
      const w = words[i][2];
      const glued = glue.exec(w);
      const apart = closing.has(w) && i > 0 && figure.test(words[i - 1][2]);
      if (!(glued || apart)) continue;
      let n;
      if (glued && glued[1]) n = i;  // the name glued to its code: "padan95sp"
      else {
        n = glued ? i - 1 : i - 2;
        while (n >= 0 && figure.test(words[n][2])) n -= 1;  // "1,8EC" is read as "1" "8ec"
        if (n < 0 || units.has(words[n][2]) || closing.has(words[n][2])) continue;
      }
      const [a, b] = offsets[n];
      if (!covered.some(([s, e]) => s < b && a < e)) return text.slice(words[n][0], words[i][1]).join('').trim();
    }
    return null;
  }

  // SubstanceIndex.products_in: the trade names in the query, longest first, each product once
  function productsIn(soft, flat) {
    const hits = B.products.filter(([k]) => isIn(soft, flat, k)).sort((x, y) => y[0].length - x[0].length);
    const out = [], seen = new Set(), taken = [];
    for (const [key, written, subs, pid] of hits) {
      if (seen.has(pid) || taken.some((longer) => longer.includes(key))) continue;
      seen.add(pid);
      taken.push(key);
      out.push([written, subs]);
    }
    return out;
  }

  // SubstanceIndex.nearest: the known name closest to an unknown one, compared without accents or codes
  function nearest(name) {
    const q = fold(name).replace(new RegExp(`\\s*\\p{Nd}+(?:[.,]\\p{Nd}+)?\\s*[a-z]{0,3}${PY_B}`, 'gu'), ' ').trim();
    if (!q) return null;
    const qa = Array.from(q);
    let best = null, bestScore = -1;
    for (const k of order) {
      const s = ratio(Array.from(k), qa);
      if (s >= B.nearest_cutoff && (s > bestScore || (s === bestScore && k > best))) { best = k; bestScore = s; }
    }
    return best === null ? null : keys.get(best).written;
  }

  const verdict = (i, how, extra = {}) => {
    const v = B.verdicts[i], code = extra.code;
    const text = (n) => (v.code && code ? B.lines[n].split('{code}').join(code) : B.lines[n]);
    return {how, kind: v.k, x: v.x, t: v.t, reason: {vi: text(v.r.vi), en: text(v.r.en)},
      conditions: {vi: v.c.vi.map((n) => B.lines[n]), en: v.c.en.map((n) => B.lines[n])}};
  };
  const unknown = (name) => {
    const near = nearest(name);
    const reason = {};
    for (const lang of ['vi', 'en']) {
      reason[lang] = fill(B.unknown[lang], {name, hint: near ? fill(B.hint[lang], {near}) : ''});
    }
    return {how: 'unknown', kind: 'unknown', x: 0, t: null, reason, conditions: {vi: [], en: []}};
  };
  // Advisor._part_name: the longest name of the entry `tid` in a mixture's part, as the knowledge base writes it
  const partName = (part, tid) => {
    const [ps, pf] = pair(part);
    const own = foundIn(ps, pf).filter((k) => keys.get(k).kind === 't' && keys.get(k).id === tid)
      .sort((x, y) => y.length - x.length || (y > x ? 1 : y < x ? -1 : 0));
    return own.length ? keys.get(own[0]).written : null;
  };
  // Advisor.substance_conditions of a mixture of allowed parts: every part's entry once, each line after its name
  const ALLOWED = ['allowed', 'unverified', 'restricted'];
  const mixtureConditions = (verdictOf, parts, checks) => {
    if (!ALLOWED.includes(verdictOf.kind)) return verdictOf.conditions;  // not allowed: no conditions to read
    const groups = new Map();  // tid -> {names, c}
    checks.forEach((c, i) => {
      if (!c.t || !ALLOWED.includes(c.kind)) return;
      if (!groups.has(c.t)) groups.set(c.t, {names: [], c: c.conditions});
      const name = partName(parts[i], c.t);
      if (name !== null && !groups.get(c.t).names.includes(name)) groups.get(c.t).names.push(name);
    });
    const tids = [...groups.keys()];
    if (!tids.length || (tids.length === 1 && tids[0] === verdictOf.t)) return verdictOf.conditions;
    if ([...groups.values()].some((g) => !g.names.length)) return null;  // a name the phone cannot give: ask
    const out = {};
    for (const lang of ['vi', 'en']) {
      out[lang] = [];
      for (const g of groups.values()) {
        for (const line of g.c[lang]) out[lang].push(fill(B.part_line, {name: g.names.join(', '), line}));
      }
    }
    return out;
  };
  const ask = () => ({how: 'ask', kind: 'ask', x: null, t: null, reason: null, conditions: {vi: [], en: []}});
  const fromTable = (table, text, how) => {
    if (!table) return null;
    const f = formulation(text, byCode), key = f ? `${f[0]}:${f[1]}` : '';
    const i = table[key] ?? (f ? table[`${f[0]}:*`] : undefined);
    return i === undefined ? null : verdict(i, how, {code: f && f[1]});
  };
  // engine: "Karate = lambda-cyhalothrin; Regent = fipronil: " before the entry's own verdict (checked at build)
  const bannedReason = (sid, named) => {
    const v = verdict(B.banned[sid], 'banned');
    if (named.length) {
      const said = named.map(([n, subs]) => `${n} = ${subs.join(' + ')}`).join('; ');
      for (const lang of ['vi', 'en']) v.reason[lang] = `${said}: ${v.reason[lang]}`;
    }
    return v;
  };

  // Advisor.check_substance, answered from the bundle; {how: 'ask'} where the phone cannot be sure of Python's words
  function check(name) {
    const q = String(name ?? '').trim();
    const [soft, flat] = pair(q);
    if (!flat) return null;
    if (keys.has(flat) && isIn(soft, flat, flat)) return fromTable(B.exact[flat], q, 'exact') || ask();
    const found = foundIn(soft, flat);
    if (!found.length) return unknown(q);
    const hit = lookup(found);
    if (hit[0] === 'prohibited') return hit[1] in B.banned ? bannedReason(hit[1], productsIn(soft, flat)) : ask();
    const parts = mixtureParts(q, wordSeps, units, codeWords);
    if (parts.length > 1) {
      const unknownPart = parts.find((p) => { const [s, f] = pair(p); return !foundIn(s, f).length; });
      if (unknownPart !== undefined) return {...unknown(unknownPart), how: 'mixture'};
      // "Dipel + Kocide Padan 95SP": the first part that names a coded product the knowledge base lacks (the parts
      // before it are known, exact names or names without such a product) makes the whole unknown
      for (const p of parts) {
        if (exactKey(p)) continue;
        const [ps, pf] = pair(p);
        const other = lookup(foundIn(ps, pf))[0] === 'treatment' ? unnamedProduct(p) : null;
        if (other !== null) return {...unknown(other), how: 'mixture'};
      }
      const checks = parts.map((p) => { const k = exactKey(p); return k ? fromTable(B.exact[k], p, 'exact') : null; });
      if (checks.some((c) => !c)) return ask();
      const tids = checks.map((c) => c.t).filter(Boolean);
      for (const tid of tids) {  // engine._incompatible: the first treatment with a clash in the mixture
        for (const [other, i] of B.clash[tid] || []) if (tids.includes(other) && other !== tid) return verdict(i, 'mixture');
      }
      let worst = checks[0];
      for (const c of checks) if (c.x > worst.x) worst = c;  // max(): the first of the most restrictive parts
      const conditions = mixtureConditions(worst, parts, checks);
      return conditions ? {...worst, conditions, how: 'mixture'} : ask();
    }
    // "Thiovit Jet 80WG Bassa 50EC" (two bottles, no "+"): the coded product no known name covers is not known
    const other = unnamedProduct(q);
    if (other !== null) return unknown(other);
    const own = found.join('\n');
    for (const k of found) {  // the name and a code: the same names found as in the name alone
      if (B.coded[k] && foundIn(...pair(keys.get(k).written)).join('\n') === own) {
        const v = fromTable(B.coded[k], q, 'coded');
        if (v) return v;
      }
    }
    return ask();
  }

  // Names to offer as the farmer types: every typed word starts a word of the name (folded: case, marks, đ),
  // strengths and formulation codes ("2.5EC", "WP") left out; names that start with the text first, then shorter.
  function suggest(text, n = 8) {
    const words = fold(text).replace(/\p{Nd}+(?:[.,]\p{Nd}+)*\s*[a-z]{0,3}/gu, ' ').split(/\s+/)
      .filter((w) => w && !codeWords.has(w));
    if (!words.length) return [];
    const whole = words.join(' ');
    const hits = [];
    for (const key of order) {
      const kw = key.split(' ');
      if (!words.every((w) => kw.some((x) => x.startsWith(w)))) continue;
      hits.push([key.startsWith(whole) ? 0 : 1, key.length, key]);
    }
    hits.sort((x, y) => x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : 1));
    return hits.slice(0, n).map((h) => keys.get(h[2]).written);
  }

  return {check, suggest};
}
