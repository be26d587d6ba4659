"""Load test: N concurrent diagnose requests through the app's API (gradio_client) to a local server.

    python benchmarks/bench_app_load.py [--model PATH] [--n 20] [--photo PATH]

Starts `python app.py` as its own process on a free localhost port (temporary field log), warms every client
up with one request, then fires N requests at once (named API parameters: image, lang, organic_status),
spread over client processes, and prints p50/p95/max latency, the error count, and where the time goes:
model inference alone, the whole service with the answer card (in this process), one request alone through
gradio_client, and the server's CPU a request under the burst. Target: 0 errors and p95 <= 1 s on 2 CPU
cores. The load generator shares those cores (each gradio_client call costs the client tens of ms CPU), and
so does anything else running: the figures say how much of the latency is the server's.
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT_PHOTO = sorted((REPO / "tests/fixtures/images/plantvillage/Tomato___Late_blight").glob("*.jpg"))[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_cpu(pid: int) -> float:
    """CPU seconds (user+system) the server process has used so far (Linux /proc)."""
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return float("nan")


def worker(url: str, photo: str, n: int, start_at: float) -> list:
    """One client process: n threads, one gradio_client each, all firing at `start_at`.
    Returns latencies (s) and error strings. Spreading clients over processes keeps the load generator's
    own Python overhead (~50 ms CPU per gradio_client call) from serialising on one GIL."""
    from gradio_client import Client, handle_file

    clients = [Client(url, verbose=False) for _ in range(n)]
    for c in clients:  # warm-up: a client's first call also fetches the API description (slow, once)
        c.predict(image=handle_file(photo), lang="vi", organic_status="certified", api_name="/diagnose")
    out: list = []
    lock = threading.Lock()

    def one(c):
        time.sleep(max(0.0, start_at - time.time()))
        t0 = time.perf_counter()
        try:
            res = c.predict(image=handle_file(photo), lang="vi", organic_status="certified", api_name="/diagnose")
            if res.get("status") not in ("ok", "uncertain", "not_a_leaf"):
                raise RuntimeError(f"unexpected status {res.get('status')}: {res.get('error')}")
            val = time.perf_counter() - t0
        except Exception as exc:  # counted, never hidden
            val = f"{type(exc).__name__}: {exc}"
        with lock:
            out.append(val)

    threads = [threading.Thread(target=one, args=(c,)) for c in clients]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


def breakdown(args, url) -> dict:
    """Inference alone and the whole service in this process, and one request alone through the API."""
    import leafscout.webapp.handlers as H
    from gradio_client import Client, handle_file
    from leafscout.webapp.services import Services

    try:  # the threads the app gives each diagnosis by default (cores / concurrent diagnoses)
        from leafscout.webapp.app import default_threads
    except ImportError:  # an app from before default_threads: all cores
        default_threads = lambda: None  # noqa: E731
    svc = Services(model_path=args.model, db=os.path.join(tempfile.mkdtemp(), "log.sqlite"),
                   threads=args.threads or default_threads())
    svc.warm_up()

    def med(fn, k=7):
        fn()
        ts = []
        for _ in range(k):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        return 1000 * statistics.median(ts)

    def service():
        d = svc.diagnose(args.photo)
        st = dict(d.to_dict(), advice=d.advice.to_dict() if d.advice else None,
                  uncertain_below=svc.predictor.uncertain_below)
        H.render_all(svc, st, "vi")

    infer = med(lambda: svc.predictor.predict(args.photo))
    serv = med(service)
    c = Client(url, verbose=False)
    idle = med(lambda: c.predict(image=handle_file(args.photo), lang="vi", api_name="/diagnose"), k=5)
    return {"infer_ms": infer, "service_ms": serv, "idle_ms": idle}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="ONNX model (default: $LEAFSCOUT_MODEL, else model/leafscout.onnx)")
    ap.add_argument("--n", type=int, default=20, help="concurrent requests")
    ap.add_argument("--photo", default=str(DEFAULT_PHOTO))
    ap.add_argument("--target-p95", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=None, help="passed to app.py --threads (onnxruntime; default: "
                    "the app's own default)")
    ap.add_argument("--processes", type=int, default=4, help="client processes the requests are spread over")
    args = ap.parse_args(argv)

    # the server runs as its own process (`python app.py`), as in production: client threads here do not
    # compete with it for this interpreter's GIL
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    cmd = [sys.executable, str(REPO / "app.py"), "--port", str(port),
           "--db", os.path.join(tempfile.mkdtemp(), "log.sqlite")] + (["--model", args.model] if args.model else []) \
        + (["--threads", str(args.threads)] if args.threads else [])
    server = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        return run(args, url, server)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def run(args, url, server) -> int:
    import urllib.request

    deadline = time.time() + 120
    while True:
        if server.poll() is not None:
            print(server.stdout.read())
            raise SystemExit("the app exited before it served")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if time.time() > deadline:
                raise SystemExit("the app did not start within 120 s")
            time.sleep(0.5)
    print(f"server {url}; cpus {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} (other jobs make this noisy)")
    bd = breakdown(args, url)

    start_at = time.time() + 10.0 + 0.3 * args.n  # every worker ready before the burst
    per = [args.n // args.processes + (1 if i < args.n % args.processes else 0) for i in range(args.processes)]
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        pending = pool.starmap_async(worker, [(url, args.photo, k, start_at) for k in per if k])
        time.sleep(max(0.0, start_at - time.time() - 0.02))
        cpu0 = server_cpu(server.pid)
        parts = pending.get()
    cpu = server_cpu(server.pid) - cpu0
    lat = [x for part in parts for x in part if isinstance(x, float)]
    errors = [x for part in parts for x in part if isinstance(x, str)]
    wall = max(lat) if lat else float("nan")
    lat.sort()
    p50 = statistics.median(lat) if lat else float("nan")
    p95 = lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)] if lat else float("nan")
    print(f"requests {args.n}  ok {len(lat)}  errors {len(errors)}  wall {wall:.2f} s")
    print(f"server CPU {cpu:.2f} s during the burst ({1000 * cpu / max(1, args.n):.0f} ms a request)")
    print(f"latency p50 {p50 * 1000:.0f} ms  p95 {p95 * 1000:.0f} ms  max {max(lat or [0]) * 1000:.0f} ms")
    for e in errors[:5]:
        print("  error:", e)
    busy = 1000 * cpu / max(1, args.n)
    print("where the time goes (one request):")
    print(f"  model inference alone (in this process, 1 photo)         {bd['infer_ms']:.0f} ms")
    print(f"  whole service + answer card (read, infer, advise, render)  {bd['service_ms']:.0f} ms")
    print(f"  one request alone through gradio_client (idle server)      {bd['idle_ms']:.0f} ms "
          f"(upload, queue join, SSE result: {bd['idle_ms'] - bd['service_ms']:.0f} ms over the service)")
    print(f"  server CPU a request under the burst                       {busy:.0f} ms")
    print(f"  under the burst, p50 {p50 * 1000:.0f} ms - idle {bd['idle_ms']:.0f} ms = "
          f"{p50 * 1000 - bd['idle_ms']:.0f} ms waiting: for the app's 2 model workers (at most "
          f"{(args.n / 2) * bd['service_ms']:.0f} ms for {args.n} requests) and for CPU shared with the "
          f"{args.n} clients on {os.cpu_count()} cores")
    ok = not errors and p95 <= args.target_p95
    print("PASS" if ok else f"FAIL (target: 0 errors, p95 <= {args.target_p95:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
