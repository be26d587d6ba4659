"""Login guard for `--auth`: constant-time password check, a delay after each wrong password, and a
lockout per user name (and for everyone, against spraying many names) after repeated failures."""
from __future__ import annotations

import hmac
import threading
import time


class LoginGuard:
    """A callable for `launch(auth=...)`: (username, password) -> bool."""

    def __init__(self, users: dict[str, str], max_failures: int = 5, window_s: float = 300.0,
                 lockout_s: float = 300.0, delay_s: float = 1.0, global_max: int = 30, clock=time.monotonic,
                 sleep=time.sleep):
        self.users = dict(users)
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
        expected = self.users.get(username)
        ok = expected is not None and hmac.compare_digest(str(password).encode(), expected.encode())
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
