"""Load test: N concurrent diagnose requests through the app's API (gradio_client) to a local server.

    python benchmarks/bench_app_load.py [--model PATH] [--n 20] [--photo PATH] [--baseline DIR] [--rounds K]

Starts `python app.py` as its own process on a free localhost port (temporary field log), warms every client
up with one request, then fires N requests at once (named API parameters: image, lang, organic_status),
spread over client processes, and prints p50/p95/max latency, the error count, and where the time goes:
model inference alone, the whole service with the answer card (in this process), one request alone through
gradio_client, the server's CPU a request under the burst and the callers' own CPU a request. Target: 0
errors and p95 <= 1 s on 2 CPU cores. The load generator shares those cores, and so does anything else
running (the load average is printed with each figure): the figures say how much of the latency is the
server's. Ratios: p95 to one request alone, and with --baseline DIR (another checkout, e.g.
`git worktree add /tmp/before HEAD`) p95 and server CPU of this checkout's app to that one's, the two apps
measured in alternating bursts with the same callers.

The callers share one TLS context (--client-ssl shared, the default). gradio_client otherwise makes httpx
build a new one, loading the whole CA bundle, for each HTTP request it sends (upload, queue join, result
stream): ~70 ms of the caller's CPU a call, even for http://, on the same 2 cores as the server (measured
2026-12-05: 20 callers used 1.6 s CPU a burst against the server's 0.5 s). A phone or browser does that work
on its own CPU, not the server's; --client-ssl fresh measures the old way.
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


def worker(url: str, photo: str, n: int, start_at: float, client_ssl: str = "shared") -> tuple[list, float]:
    """One client process: n threads, one gradio_client each, all firing at `start_at`.
    Returns latencies (s) and error strings, and the CPU seconds this process used during the burst.
    Spreading clients over processes keeps the load generator's own Python overhead from serialising on one
    GIL."""
    import resource
    import ssl

    from gradio_client import Client, handle_file

    kw = {"ssl_verify": ssl.create_default_context()} if client_ssl == "shared" else {}
    clients = [Client(url, verbose=False, **kw) for _ in range(n)]
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

    def cpu():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    threads = [threading.Thread(target=one, args=(c,)) for c in clients]
    c0 = cpu()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out, cpu() - c0


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
    return {"infer_ms": infer, "service_ms": serv, "idle_ms": idle_request(args, url)}


def idle_request(args, url) -> float:
    """Median ms of one request alone through gradio_client (the callers' TLS setting)."""
    import ssl

    from gradio_client import Client, handle_file

    c = Client(url, verbose=False, **({"ssl_verify": ssl.create_default_context()}
                                      if args.client_ssl == "shared" else {}))
    c.predict(image=handle_file(args.photo), lang="vi", api_name="/diagnose")
    ts = []
    for _ in range(5):
        t0 = time.perf_counter()
        c.predict(image=handle_file(args.photo), lang="vi", api_name="/diagnose")
        ts.append(time.perf_counter() - t0)
    return 1000 * statistics.median(ts)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="ONNX model (default: $LEAFSCOUT_MODEL, else model/leafscout.onnx)")
    ap.add_argument("--n", type=int, default=20, help="concurrent requests")
    ap.add_argument("--photo", default=str(DEFAULT_PHOTO))
    ap.add_argument("--target-p95", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=None, help="passed to app.py --threads (onnxruntime; default: "
                    "the app's own default)")
    ap.add_argument("--processes", type=int, default=4, help="client processes the requests are spread over")
    ap.add_argument("--client-ssl", choices=["shared", "fresh"], default="shared",
                    help="shared: the callers reuse one TLS context (default); fresh: gradio_client's default, a "
                         "new one (CA bundle loaded) for every HTTP request, ~70 ms of caller CPU a call")
    ap.add_argument("--baseline", metavar="DIR", default=None,
                    help="another checkout (e.g. a `git worktree` of an older commit): its app.py gets the same "
                         "bursts, alternating with this checkout's, and the ratios are printed")
    ap.add_argument("--rounds", type=int, default=1, help="bursts per app (alternating with --baseline)")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="environment for this checkout's app (not the baseline's): to try a setting before "
                         "app.py sets it itself")
    args = ap.parse_args(argv)
    if args.model:
        args.model = str(Path(args.model).resolve())  # the baseline checkout runs from its own folder
    apps = [("this", REPO)] + ([("baseline", Path(args.baseline).resolve())] if args.baseline else [])
    envs = {"this": dict(os.environ, **dict(kv.split("=", 1) for kv in args.server_env)), "baseline": dict(os.environ)}
    print(f"{len(apps)} app(s), {args.rounds} burst(s) each of {args.n} requests; cpus {os.cpu_count()}; "
          f"callers' TLS context: {args.client_ssl}" + (f"; server env {' '.join(args.server_env)}"
                                                          if args.server_env else ""))
    results: dict[str, list[dict]] = {name: [] for name, _ in apps}
    bd = None
    for r in range(args.rounds):
        for name, root in (apps if r % 2 == 0 else apps[::-1]):
            with app_server(args, root, envs[name]) as (url, server):
                if bd is None and name == "this":
                    bd = breakdown(args, url)
                res = burst(args, url, server)
                if name != "this":
                    res["idle_ms"] = idle_request(args, url)
            results[name].append(res)
            print(f"  {name:8s} burst {r + 1}: load average {res['load']:.2f}  p50 {res['p50'] * 1000:.0f} ms  "
                  f"p95 {res['p95'] * 1000:.0f} ms  errors {len(res['errors'])}  server CPU "
                  f"{1000 * res['cpu'] / args.n:.0f} ms a request  callers' CPU {1000 * res['ccpu'] / args.n:.0f} ms "
                  f"a request", flush=True)
    return report(args, results, bd)


class app_server:
    """`python app.py` of the checkout `root` on a free port, as in production (its own process: client threads
    here do not compete with it for this interpreter's GIL); stopped on exit."""

    def __init__(self, args, root: Path, env: dict):
        self.args, self.root, self.env = args, root, env

    def __enter__(self):
        import urllib.request

        a = self.args
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        cmd = [sys.executable, str(self.root / "app.py"), "--port", str(port),
               "--db", os.path.join(tempfile.mkdtemp(), "log.sqlite")] + (["--model", a.model] if a.model else []) \
            + (["--threads", str(a.threads)] if a.threads else [])
        self.server = subprocess.Popen(cmd, cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 120
        while True:
            if self.server.poll() is not None:
                print(self.server.stdout.read())
                raise SystemExit(f"the app ({self.root}) exited before it served")
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline:
                    self.__exit__()
                    raise SystemExit("the app did not start within 120 s")
                time.sleep(0.5)
        return url, self.server

    def __exit__(self, *exc):
        self.server.terminate()
        try:
            self.server.wait(10)
        except subprocess.TimeoutExpired:
            self.server.kill()


def burst(args, url, server) -> dict:
    """N requests at once from warmed-up callers: latencies, errors, server and callers' CPU, load average."""
    start_at = time.time() + 10.0 + 0.3 * args.n  # every worker ready before the burst
    per = [args.n // args.processes + (1 if i < args.n % args.processes else 0) for i in range(args.processes)]
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool:
        pending = pool.starmap_async(worker, [(url, args.photo, k, start_at, args.client_ssl) for k in per if k])
        time.sleep(max(0.0, start_at - time.time() - 0.02))
        cpu0 = server_cpu(server.pid)
        load = os.getloadavg()[0]  # the minute before the burst: the other work sharing the cores
        parts = pending.get()
    cpu = server_cpu(server.pid) - cpu0
    lat = sorted(x for part, _ in parts for x in part if isinstance(x, float))
    errors = [x for part, _ in parts for x in part if isinstance(x, str)]
    nan = float("nan")
    return {"lat": lat, "errors": errors, "cpu": cpu, "ccpu": sum(c for _, c in parts), "load": load,
            "p50": statistics.median(lat) if lat else nan,
            "p95": lat[min(len(lat) - 1, int(round(0.95 * len(lat))) - 1)] if lat else nan,
            "wall": max(lat) if lat else nan}


def report(args, results, bd) -> int:
    runs = results["this"]
    res = max(runs, key=lambda x: x["p95"])  # the worst burst is the one reported in detail
    lat, errors, cpu, p50, p95 = res["lat"], res["errors"], res["cpu"], res["p50"], res["p95"]
    print(f"requests {args.n}  ok {len(lat)}  errors {len(errors)}  wall {res['wall']:.2f} s  "
          f"(load average {res['load']:.2f}; the worst of {len(runs)} burst(s))")
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
    print(f"  the callers' own CPU a request under the burst             {1000 * res['ccpu'] / args.n:.0f} ms "
          f"(TLS context: {args.client_ssl})")
    print(f"  under the burst, p50 {p50 * 1000:.0f} ms - idle {bd['idle_ms']:.0f} ms = "
          f"{p50 * 1000 - bd['idle_ms']:.0f} ms waiting: for the app's model workers and for CPU shared with the "
          f"{args.n} callers and other work on {os.cpu_count()} cores")
    print(f"ratio p95 / one request alone: {p95 * 1000 / bd['idle_ms']:.1f}x")
    if "baseline" in results:
        def med(runs, key):
            return statistics.median(r[key] for r in runs)
        b = results["baseline"]
        print(f"against the baseline {args.baseline} (medians of {len(runs)} / {len(b)} bursts, alternating):")
        for key, what, f in (("p50", "p50", 1000), ("p95", "p95", 1000), ("cpu", "server CPU a request", 1000 / args.n),
                             ("idle_ms", "one request alone", 1)):
            if key == "idle_ms":
                this, base = bd["idle_ms"], med(b, key)
            else:
                this, base = med(runs, key) * f, med(b, key) * f
            print(f"  {what:22s} this {this:6.0f} ms  baseline {base:6.0f} ms  ratio {this / base:.2f}")
    ok = not any(r["errors"] for r in runs) and p95 <= args.target_p95
    print("PASS" if ok else f"FAIL (target: 0 errors, p95 <= {args.target_p95:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
