"""Login guard for `--auth` and `--officers`: constant-time password check, a delay after each wrong password,
and a lockout per user name (and for everyone, against spraying many names) after repeated failures."""
from __future__ import annotations

import asyncio
import hmac
import re
import threading
import time


class LoginGuard:
    """A callable (username, password) -> bool; `launch(auth=guard.check_async)` runs it off the event loop.

    `users`: name -> password (`--auth user:pass`); `verify`: another check (name, password) -> bool, e.g.
    `leafscout.officers.Officers(path).verify` (salted PBKDF2 hashes, `--officers FILE`). Either may accept."""

    def __init__(self, users: dict[str, str] | None = None, max_failures: int = 5, window_s: float = 300.0,
                 lockout_s: float = 300.0, delay_s: float = 1.0, global_max: int = 30, clock=time.monotonic,
                 sleep=time.sleep, verify=None):
        self.users = dict(users or {})
        self.verify = verify
        self.max_failures, self.window_s, self.lockout_s = max_failures, window_s, lockout_s
        self.delay_s, self.global_max = delay_s, global_max
        self.clock, self.sleep = clock, sleep
        self._fails: dict[str, list[float]] = {}
        self._all: list[float] = []
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def locked(self, username: str) -> bool:
        now = self.clock()
        with self._lock:
            return self._locked_until.get(username, 0) > now or self._locked_until.get("*", 0) > now

    def __call__(self, username: str, password: str) -> bool:
        if self.locked(username):
            self.sleep(self.delay_s)
            return False
        ok = self._check(username, password)
        if ok:
            with self._lock:
                self._fails.pop(username, None)
            return True
        now = self.clock()
        with self._lock:
            recent = [t for t in self._fails.get(username, []) if now - t < self.window_s] + [now]
            self._fails[username] = recent
            self._all = [t for t in self._all if now - t < self.window_s] + [now]
            if len(recent) >= self.max_failures:
                self._locked_until[username] = now + self.lockout_s
            if len(self._all) >= self.global_max:
                self._locked_until["*"] = now + self.lockout_s
                self._all = []
        self.sleep(self.delay_s)
        return False

    def _check(self, username: str, password: str) -> bool:
        expected = self.users.get(username)
        if expected is not None:
            return hmac.compare_digest(str(password).encode(), expected.encode())
        if self.verify is not None:
            try:
                return bool(self.verify(username, password))
            except Exception:  # a broken account store never lets anyone in
                return False
        return False

    async def check_async(self, username: str, password: str) -> bool:
        """For Gradio's login route, which awaits a coroutine function: the hashing and the delay after a
        wrong password run in a worker thread, so one login attempt never stalls every other page."""
        return await asyncio.to_thread(self, username, password)


# ------------------------------------------------------------------------------ logged-out page guard

_API_INFO_SCRIPT = re.compile(rb"window\.gradio_api_info\s*=\s*.*?;\s*</script>", re.S)
_EMPTY_API_INFO = b"window.gradio_api_info = {};</script>"
_HTML_LANG = re.compile(rb"<html([^>]*?)\slang=\"[^\"]*\"", re.I)
# Gradio's login form (its words, as its English locale writes them) -> the i18n key saying it in the app's language
_LOGIN_WORDS = {"Login": "login_title", "username": "login_user", "password": "login_password",
                "Incorrect Credentials": "login_wrong"}


def login_page_script(lang: str) -> bytes:
    """A script for the logged-out page: <html lang> and the login form's words in the app's language. Gradio's
    login form ignores `launch(i18n=...)` and speaks English whatever the app's language."""
    import json

    from .i18n import norm_lang, t
    lang = norm_lang(lang)
    words = {k: t(v, lang) for k, v in _LOGIN_WORDS.items()}
    js = ("(() => { const T = %s, L = %s, html = document.documentElement;"
          " const fix = () => { if (html.lang !== L) html.lang = L;"  # Gradio sets it from the browser's locale
          " const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); let n;"
          " while ((n = w.nextNode())) { const k = n.nodeValue.trim(); if (k && T[k] !== undefined) {"
          " n.nodeValue = n.nodeValue.replace(k, T[k]); } } };"
          " const go = () => { fix(); const o = new MutationObserver(fix);"
          " o.observe(document.body, {childList: true, subtree: true, characterData: true});"
          " o.observe(html, {attributes: true, attributeFilter: ['lang']}); };"
          " if (document.body) go(); else document.addEventListener('DOMContentLoaded', go); })();"
          % (json.dumps(words, ensure_ascii=False), json.dumps(lang)))
    return f"<script>{js}</script>".encode("utf-8")


def _logged_in(app, scope) -> bool:
    """The same test Gradio's own routes make (routes.get_current_user): a session token cookie it issued."""
    if getattr(app, "auth", None) is None and getattr(app, "auth_dependency", None) is None:
        return True  # no login configured: nothing to hide
    if getattr(app, "auth_dependency", None) is not None:
        return True  # an external auth dependency decides; Gradio asks it on every route
    from http.cookies import SimpleCookie
    cookies = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                cookies.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header: treated as no cookie
                pass
    cid = getattr(app, "cookie_id", "")
    tokens = getattr(app, "tokens", {}) or {}
    for key in (f"access-token-{cid}", f"access-token-unsecure-{cid}"):
        morsel = cookies.get(key)
        if morsel is not None and tokens.get(morsel.value) is not None:
            return True
    return False


class LoggedOutPageGuard:
    """ASGI middleware: with `--auth`, a page served to someone not logged in carries no API description.

    Gradio answers `/gradio_api/info` with 401 before login, but its HTML page template still embeds the full
    `window.gradio_api_info` (every endpoint, parameter and default) in the login page. This middleware sits
    inside Gradio's app (FastAPI `middleware=`), so it sees the uncompressed page, and for a logged-out
    request replaces that script's value with `{}`. The config Gradio embeds for a logged-out page already
    holds no components or endpoints. The logged-out page also gets the app's language (`lang`: <html lang>
    and the login form's words, `login_page_script`). Logged-in pages are passed through untouched."""

    def __init__(self, app, lang: str = "vi"):
        self.app = app
        self.lang = lang

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") \
                or _logged_in(scope.get("app"), scope):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        body = bytearray()
        passthrough = False

        async def capture(message):
            nonlocal passthrough
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                ctype = headers.get(b"content-type", b"")
                encoding = headers.get(b"content-encoding", b"")
                if not ctype.startswith(b"text/html") or encoding not in (b"", b"identity"):
                    passthrough = True
                    await send(message)
                else:
                    start.update(message)
                return
            if passthrough:
                await send(message)
                return
            body.extend(message.get("body", b""))
            if not message.get("more_body", False):
                out = _API_INFO_SCRIPT.sub(_EMPTY_API_INFO, bytes(body))
                # the login form in the app's language (Gradio's is English whatever the app's language)
                out = _HTML_LANG.sub(lambda m: m.group(1).join((b"<html", b' lang="%s"' % self.lang.encode())),
                                     out, count=1)
                out = out.replace(b"</head>", login_page_script(self.lang) + b"</head>", 1)
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                headers.append((b"content-length", str(len(out)).encode()))
                await send(dict(start, headers=headers))
                await send({"type": "http.response.body", "body": out if scope["method"] == "GET" else b""})

        await self.app(scope, receive, capture)
