// The phone's own field log: IndexedDB, one store of observations. Exported as one JSON file
// ({format: "leafscout-phone-log", records: [...]}, photos base64) that `leafscout log import FILE` reads;
// each record keeps its id, so importing the same file twice adds nothing the second time.
// Version 2: photos are Blobs (see add); version 1 kept their bytes in the record, turned into Blobs on upgrade.
const NAME = 'leafscout', STORE = 'records', VERSION = 2;
export const FORMAT = 'leafscout-phone-log';

let stayOnOld = false;  // the upgrade failed in this page (the phone full): version 1 as it is, read both ways

function openAt(version) {
  return new Promise((resolve, reject) => {
    const req = version ? indexedDB.open(NAME, version) : indexedDB.open(NAME);
    req.onupgradeneeded = (event) => {
      if (event.oldVersion < 1) { req.result.createObjectStore(STORE, {keyPath: 'id'}); return; }
      // one record at a time (a cursor), in the upgrade's own transaction: all of it or nothing
      const cursor = req.transaction.objectStore(STORE).openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return;
        const r = c.value;
        try {
          if (r.photo && !(r.photo instanceof Blob)) c.update({...r, photo: new Blob([r.photo], {type: r.photo_type || ''})});
          c.continue();
        } catch (e) {  // refused (the phone full): the upgrade is undone, open() keeps version 1
          console.error(e);
          req.transaction.abort();
        }
      };
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function open() {
  if (stayOnOld) return openAt(null);
  try {
    return await openAt(VERSION);
  } catch (e) {  // the upgrade could not be written (no space for the photos' new copies): the records stay as they are
    if (e && e.name === 'VersionError') throw e;  // a newer app's log: not ours to read
    console.error(e);
    stayOnOld = true;
    return openAt(null);
  }
}

async function tx(mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode), store = t.objectStore(STORE);
    let out;
    try {
      Promise.resolve(fn(store)).then((v) => { out = v; }, reject);
    } catch (e) {  // a request refused at once (the storage full, a value it cannot store): nothing is written
      t.abort();
      reject(e);
    }
    t.oncomplete = () => { db.close(); resolve(out); };
    t.onerror = () => { db.close(); reject(t.error); };
    t.onabort = () => { db.close(); reject(t.error || new DOMException('The write was aborted', 'AbortError')); };
  });
}

const req2p = (req) => new Promise((resolve, reject) => { req.onsuccess = () => resolve(req.result); req.onerror = () => reject(req.error); });

function uuid() {
  if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// The photo is kept as a Blob: the browser keeps its bytes on disk and reading a record (the log's list, an
// export) does not load them. Stored as an ArrayBuffer (as records saved before this were), listing a season's
// 150 photos of 3 MB read 450 MB into the page each time: a cheap phone's browser killed the app as it opened.
export async function add(rec) {
  const now = new Date().toISOString();
  const full = {id: uuid(), observed_at: now, created_at: now, exported_at: null, ...rec};
  if (full.photo && !(full.photo instanceof Blob)) full.photo = new Blob([full.photo], {type: full.photo_type || ''});
  await tx('readwrite', (s) => s.put(full));
  return full;
}

// A record's photo bytes, whichever way it was stored
export async function photoBytes(rec) {
  const p = rec.photo;
  if (p instanceof Blob) return new Uint8Array(await p.arrayBuffer());
  return p instanceof Uint8Array ? p : new Uint8Array(p || new ArrayBuffer(0));
}

export async function all() {
  const recs = await tx('readonly', (s) => req2p(s.getAll()));
  return (recs || []).sort((a, b) => (a.observed_at < b.observed_at ? 1 : -1));
}

// "2026-12-08 02:00": an ISO time (stored in UTC, as the server's log keeps it) in the phone's own time zone,
// the time the farmer saw on the phone's clock
export function localTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso ?? '');
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

function b64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// The export file: the records not exported yet, or every record (`everyRecord`: to send them all again; a
// re-import adds nothing twice). Marks nothing: a file offered is not a file sent (the farmer can cancel the
// share sheet, a download can fail); markExported(ids) does, once the file has gone.
export async function exportFile({everyRecord = false} = {}) {
  const kept = await all();
  const recs = everyRecord ? kept : kept.filter((r) => !r.exported_at);
  const now = new Date();
  // the file is built a record at a time into a Blob (the browser may keep it on disk): the whole log's photos
  // are never in the page at once as bytes, base64 and one JSON string
  let blob = new Blob([JSON.stringify({format: FORMAT, version: 1, exported_at: now.toISOString()}).slice(0, -1), ',"records":['],
    {type: 'application/json'});
  for (let i = 0; i < recs.length; i++) {
    const r = recs[i];
    const rec = JSON.stringify({id: r.id, plot: r.plot, observer: r.observer, observed_at: r.observed_at,
      label: r.label, status: r.status, confidence: r.confidence, model_version: r.model_version,
      photo_name: r.photo_name, photo_type: r.photo_type, photo_base64: b64(await photoBytes(r))});
    blob = new Blob([blob, i ? ',' : '', rec], {type: 'application/json'});
  }
  blob = new Blob([blob, ']}'], {type: 'application/json'});
  const stamp = localTime(now).replace(/-/g, '').replace(' ', '-').replace(':', '');  // the phone's clock, as the list shows it
  return {file: `leafscout-log-${stamp}.json`, count: recs.length, total: kept.length, ids: recs.map((r) => r.id), blob};
}

// Marks the records `ids` exported (the file holding them was shared, or the farmer says it was sent): those
// only, so a record saved since, not in that file, stays "not exported yet". One exported earlier keeps its time.
export async function markExported(ids, when = new Date()) {
  const want = new Set(ids), iso = when.toISOString();
  let marked = 0;
  await tx('readwrite', (s) => new Promise((resolve, reject) => {
    const q = s.getAll();
    q.onsuccess = () => {
      for (const r of q.result || []) if (want.has(r.id) && !r.exported_at) { s.put({...r, exported_at: iso}); marked++; }
      resolve(marked);
    };
    q.onerror = () => reject(q.error);
  }));
  return marked;
}
