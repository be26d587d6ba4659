// Service worker (the build prepends BUILD, FILES, LAZY and LAZY_BUILD): every file in FILES is cached at
// install, and every request of the app is answered from that cache, so after one visit the app works with no
// network. The LAZY files (the insect models) are not: the first time the app asks for one (a rice photo) it is
// fetched and kept in a cache of its own, named after those files' content, so a new app build with the same
// insect models keeps them. Responses get the cross-origin isolation headers, so WASM threads work on any
// static host.
const CACHE = 'leafscout-' + BUILD;
const LAZY_CACHE = 'leafscout-lazy-' + LAZY_BUILD;
const LAZY_URLS = new Set(LAZY.map((f) => new URL(f, self.location.href).href));
const ISOLATION = {'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin'};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES.map((f) => new Request(f, {cache: 'reload'}))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k.startsWith('leafscout-') && k !== CACHE && k !== LAZY_CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

function isolated(resp) {
  if (!resp || resp.status === 0 || resp.type === 'opaque') return resp;
  const headers = new Headers(resp.headers);
  for (const [k, v] of Object.entries(ISOLATION)) headers.set(k, v);
  return new Response(resp.body, {status: resp.status, statusText: resp.statusText, headers});
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    let hit = await cache.match(req, {ignoreSearch: true});
    if (!hit && req.mode === 'navigate') hit = await cache.match('./');
    if (hit) return isolated(hit);
    const url = new URL(req.url);
    if (LAZY_URLS.has(url.origin + url.pathname)) {
      const lazy = await caches.open(LAZY_CACHE);
      const kept = await lazy.match(req, {ignoreSearch: true});
      if (kept) return isolated(kept);
      const resp = await fetch(req);
      if (resp.ok) await lazy.put(req, resp.clone());
      return isolated(resp);
    }
    return isolated(await fetch(req));
  })());
});
