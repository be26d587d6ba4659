"""The web app served for real on a free local port, for the tests that call it through gradio_client or a browser."""
from __future__ import annotations

import socket
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(services, concurrency: int = 2):
    """`services` behind the app (`build_app`, a queue of `concurrency`, launched without blocking): yields its URL,
    closes it afterwards whatever the test did."""
    from leafscout.webapp import app
    demo = app.build_app(services)
    demo.queue(default_concurrency_limit=concurrency)
    port = free_port()
    demo.launch(prevent_thread_lock=True, **app.launch_kwargs(port=port))
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
