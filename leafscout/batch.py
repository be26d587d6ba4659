"""Batch diagnosis of a folder (or a season's photos) into Parquet + CSV, resumable, on one machine or on Ray.

One scorer, two engines. `Scorer` builds one DiagnosisService (the same code the app and `leafscout diagnose`
run) and turns a batch of photo paths into result rows. The local engine calls it in this process; the Ray
engine runs the very same class as an actor pool inside `ray.data` `map_batches` (each actor builds its service
once), on an embedded `ray.init()` by default or on a cluster with `address`. Either way the rows come back to
this process, which writes them: one Parquet part file per block (written to a temporary name, then renamed,
so a part is there whole or not at all), the field log when asked, and at the end the CSV rebuilt from every
part (cells defused against spreadsheet formulas by `leafscout.safety.csv_row`, as every CSV here is).

Resumable: a photo whose (absolute path, sha256) is already in the output's Parquet parts is skipped, so a run
that was interrupted, or a rerun after new photos arrived, only scores what is new (a photo edited in place has
a new hash and is scored again). Hashing runs where the scoring runs (in the actors), not in this process.

Ray and pyarrow are the `scale` extra (`pip install "leafscout[scale]"`); nothing here imports them until a
run needs them, and a missing one is one line naming the extra (`ScaleMissing`, a UsageError).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from .errors import UsageError
from .model.imageio import ImageError, read_regular_file

SCALE_HINT = 'install the \'scale\' extra: pip install "leafscout[scale]"'
PARQUET_DIR = "results.parquet"
CSV_NAME = "results.csv"
LOCAL_MAX = 2000  # --engine auto: the plain local loop up to this many photos (and no --address), Ray above
TOP_K = 3


class ScaleMissing(UsageError):
    """Ray or pyarrow is not installed: one line naming the `scale` extra."""


def _need(module: str, what: str):
    """`what`: the i18n key of what needs it ("scale_parquet", "scale_ray"); a missing module is a ScaleMissing
    that says so in each language (its English as it always read)."""
    import importlib

    from .i18n import LANGS, t
    try:
        return importlib.import_module(module)
    except ImportError:
        texts = {lang: t("scale_missing", lang, what=t(what, lang), module=module.split(".")[0]) for lang in LANGS}
        raise ScaleMissing(texts["en"], code="scale_missing", texts=texts) from None


def pyarrow():
    _need("pyarrow.parquet", "scale_parquet")
    import pyarrow as pa
    return pa


def schema(top_k: int = TOP_K):
    """The row schema, identical for both engines (Arrow types, so Parquet keeps exact float64 confidences)."""
    pa = pyarrow()
    top = pa.list_(pa.struct([("label", pa.string()), ("probability", pa.float64())]))
    return pa.schema([("path", pa.string()), ("sha256", pa.string()), ("file", pa.string()),
                      ("status", pa.string()), ("label", pa.string()), ("confidence", pa.float64()),
                      ("top_k", top), ("error_code", pa.string()), ("error", pa.string()),
                      ("model_version", pa.string()), ("crop", pa.string()), ("crop_note", pa.string()),
                      ("pest_counts", pa.string()), ("observation_id", pa.int64()),
                      # why the status is what it is (model/results.py); last, and null in parts written before it
                      ("reason_code", pa.string())])


def sha256_of(path: str) -> str:
    """The file's sha256, or "" when it is not a regular photo-sized file (the scorer then reports why, as an
    error row): read as the runtime reads a photo, so a FIFO or /dev/zero among the paths never blocks the run."""
    try:
        return hashlib.sha256(read_regular_file(path)).hexdigest()
    except ImageError:
        return ""


def _column(batch, name: str) -> list:
    """A column of a Ray batch (dict of numpy arrays, pandas or Arrow) or of a plain dict of lists, as a list."""
    col = batch[name]
    if hasattr(col, "to_pylist"):
        return col.to_pylist()
    if hasattr(col, "tolist"):
        return col.tolist()
    return list(col)


class Scorer:
    """Paths -> result rows (an Arrow table). One DiagnosisService per Scorer, built once: in a Ray actor this
    is the actor's state, so each actor loads the model once and reuses it for every batch it is given.

    `done`: {(path, sha256)} already in the output; those photos are hashed, found there, and not scored."""

    def __init__(self, model_path=None, threads: int | None = 1, crop: str | None = None, top_k: int = TOP_K,
                 done: Iterable[tuple[str, str]] = (), pests_model_path=None, plot_crop: str | None = None):
        """`plot_crop`: the crop text of the plot the photos are logged to (`leafscout batch --log`), which steers
        each answer as `leafscout diagnose --log` does (the actors have no field log of their own)."""
        from .service import ContextInfo, DiagnosisService

        self.svc = DiagnosisService(model_path=model_path, threads=threads, pests_model_path=pests_model_path)
        self.svc.warm_up()
        self.crop = self.svc.check_crop(crop)
        self.steer = self.svc.crop_for(self.crop, ContextInfo(plot_crop=plot_crop)) if plot_crop else None
        self.top_k = top_k
        self.done = frozenset(tuple(k) for k in done)

    def __call__(self, batch):
        paths = [str(p) for p in _column(batch, "path")]
        keyed = [(p, sha256_of(p)) for p in paths]
        todo = [(p, h) for p, h in keyed if (p, h) not in self.done]
        return self.rows(todo)

    def rows(self, todo: list[tuple[str, str]]):
        pa = pyarrow()
        cols: dict[str, list] = {f.name: [] for f in schema(self.top_k)}
        if todo:
            ds = self.svc.diagnose_many([p for p, _ in todo], crop=self.crop, top_k=self.top_k, steer=self.steer)
            for (path, sha), d in zip(todo, ds):
                r = d.result
                conf = None if r is None or r.confidence is None or d.status == "error" else float(r.confidence)
                counts = d.pest_counts
                for k, v in (("path", path), ("sha256", sha), ("file", os.path.basename(path)),
                             ("status", d.status), ("label", d.label if d.status != "error" else None),
                             ("confidence", conf),
                             ("top_k", [] if r is None else [{"label": a, "probability": float(p)}
                                                             for a, p in r.top_k]),
                             ("error_code", d.error_code), ("error", d.error_detail),
                             ("model_version", None if r is None else r.model_version),
                             ("crop", d.crop), ("crop_note", d.crop_note),
                             ("pest_counts", None if counts is None else json.dumps(counts, sort_keys=True)),
                             ("observation_id", None), ("reason_code", d.reason_code)):
                    cols[k].append(v)
        return pa.table(cols, schema=schema(self.top_k))


# ------------------------------------------------------------------------------------------------ output

def _run_id() -> str:
    """A run's name, sortable by its start to the microsecond (a later run's parts sort after an earlier one's,
    so a photo scored again wins in the CSV), then a random tag against clocks that agree."""
    now = time.time()
    return time.strftime("%Y%m%dT%H%M%S", time.localtime(now)) + f"{int(now % 1 * 1e6):06d}-{uuid.uuid4().hex[:6]}"


@dataclass
class Output:
    """DIR/results.parquet/part-*.parquet (the record; resume reads it) and DIR/results.csv (rebuilt from it)."""
    root: Path
    run_id: str = field(default_factory=lambda: _run_id())
    parts: int = 0

    def __post_init__(self):
        self.root = Path(self.root)
        from .i18n import os_reason, refusal
        if self.root.exists() and not self.root.is_dir():
            raise refusal("out_is_file", "bad_input", out=self.root)
        try:
            (self.root / PARQUET_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise refusal("out_cannot_create", "bad_input", out=self.root,
                          why=os_reason(exc)) from None

    @property
    def parquet_dir(self) -> Path:
        return self.root / PARQUET_DIR

    @property
    def csv_path(self) -> Path:
        return self.root / CSV_NAME

    def part_files(self) -> list[Path]:
        return sorted(self.parquet_dir.glob("part-*.parquet"))

    def read(self, columns=None):
        """Every row written so far, as one Arrow table (empty with the schema when there is none)."""
        pa = pyarrow()
        import pyarrow.parquet as pq
        tables = []
        for f in self.part_files():
            try:
                tables.append(pq.read_table(f, columns=columns))
            except Exception as exc:  # not one of ours, or damaged: say which, do not guess
                from .i18n import refusal
                raise refusal("out_bad_part", "bad_input", out=self.root, name=f.name,
                              kind=type(exc).__name__) from None
        if not tables:
            s = schema()
            return s.empty_table() if columns is None else pa.schema([s.field(c) for c in columns]).empty_table()
        return pa.concat_tables(tables, promote_options="default")

    def done_keys(self) -> set[tuple[str, str]]:
        """(path, sha256) of each path's latest row, the one the CSV shows: a photo edited and edited back has
        its first hash in an older row, but is scored again (its report row holds the edit's answer)."""
        t = self.read(["path", "sha256"])
        return set(dict(zip(t.column("path").to_pylist(), t.column("sha256").to_pylist())).items())

    def write(self, table) -> None:
        import pyarrow.parquet as pq
        if table.num_rows == 0:
            return
        name = f"part-{self.run_id}-{self.parts:06d}.parquet"
        tmp = self.parquet_dir / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, self.parquet_dir / name)
        self.parts += 1

    def write_csv(self, top_k: int = TOP_K) -> Path:
        """The CSV report from every Parquet part, one row a photo (its latest answer: a photo edited in place
        and scored again replaces its old row), sorted by path; formula-looking cells defused."""
        from .safety import csv_row
        t = self.read()
        # the parts are named by the run's start time, so later rows of a path come later: the last one wins
        rows = sorted({r["path"]: r for r in t.to_pylist()}.values(), key=lambda r: r["path"])
        tmp = self.csv_path.with_name("." + CSV_NAME + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["path", "sha256", "status", "label", "confidence"]
                       + [c for i in range(1, top_k + 1) for c in (f"label_{i}", f"probability_{i}")]
                       + ["error_code", "error", "model_version", "crop", "crop_note", "pest_counts",
                          "observation_id", "reason_code"])
            for r in rows:
                tops = [v for x in (r["top_k"] or [])[:top_k] for v in (x["label"], f"{x['probability']:.4f}")]
                tops += [""] * (2 * top_k - len(tops))
                conf = "" if r["confidence"] is None else f"{r['confidence']:.4f}"
                w.writerow(csv_row([r["path"], r["sha256"], r["status"], r["label"] or "", conf, *tops,
                                    r["error_code"] or "", r["error"] or "", r["model_version"] or "",
                                    r["crop"] or "", r["crop_note"] or "", r["pest_counts"] or "",
                                    "" if r["observation_id"] is None else r["observation_id"],
                                    r.get("reason_code") or ""]))
        os.replace(tmp, self.csv_path)
        return self.csv_path


# ------------------------------------------------------------------------------------------------ engines

def local_batches(paths: list[str], done, *, model_path=None, threads=None, crop=None, plot_crop=None, top_k=TOP_K,
                  batch_size: int = 64, pests_model_path=None) -> Iterator:
    """The plain local loop: one Scorer in this process, the photos in order, `batch_size` at a time."""
    scorer = Scorer(model_path, threads=threads, crop=crop, top_k=top_k, done=done,
                    pests_model_path=pests_model_path, plot_crop=plot_crop)
    for i in range(0, len(paths), batch_size):
        yield scorer({"path": paths[i:i + batch_size]})


def _reachable(address: str, timeout: float = 3.0) -> str | None:
    """None when a TCP connection to the cluster address opens, else why not. "auto" and addresses without a
    port are left to Ray. Ray itself retries an unreachable address for minutes, printing as it goes."""
    import socket
    from urllib.parse import urlsplit

    if address == "auto" or address.startswith("local"):
        return None
    parts = urlsplit(address if "://" in address else f"gcs://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        return str(exc)
    if not host or not port:
        return None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except OSError as exc:
        return exc.strerror or type(exc).__name__


def ray_init(address: str | None = None, num_cpus: int | None = None):
    """Embedded Ray (nothing to start) by default, or the cluster at `address` ("auto", "ray://host:10001",
    "host:6379"). An address that cannot be reached is one line, not a traceback."""
    # Ray's C++ core logs a note on every Ray Data actor pool (constructor arguments in the object store);
    # errors still reach us as exceptions. A user's own setting wins.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    from .i18n import PerLang, refusal, t
    ray = _need("ray", "scale_ray")
    _need("ray.data", "scale_ray")
    if address:
        why = _reachable(address)
        if why:
            raise refusal("ray_unreachable", "ray_unreachable", address=address, why=why)
    if ray.is_initialized():
        return ray
    kw = dict(include_dashboard=False, log_to_driver=False, logging_level="ERROR", configure_logging=True)
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(num_cpus=num_cpus, **kw)
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        where = PerLang({lang: t("ray_where_cluster", lang, address=address) if address
                         else t("ray_where_local", lang) for lang in ("vi", "en")})
        hint = PerLang({lang: "" if address else t("ray_busy_hint", lang) for lang in ("vi", "en")})
        raise refusal("ray_cannot_start", "ray_unreachable", where=where, first=first, hint=hint) from None
    return ray


def ray_batches(paths: list[str], done, *, workers: int = 2, address: str | None = None, model_path=None,
                threads: int | None = 1, crop=None, plot_crop=None, top_k=TOP_K, batch_size: int = 64,
                pests_model_path=None) -> Iterator:
    """The same Scorer as a Ray Data actor pool of `workers` actors (one CPU and one DiagnosisService each)."""
    ray = ray_init(address)
    import logging
    import warnings

    import ray.data

    for name in ("ray.data", "ray"):  # Ray Data's INFO lines and its notes about progress bars: not ours to print
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*minimum number of concurrent actors.*")
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False
    # Small blocks, so a photo's row reaches the output (and the resume record) soon after it is scored.
    n_blocks = max(1, min(len(paths), -(-len(paths) // batch_size)))
    ds = ray.data.from_items([{"path": p} for p in paths], override_num_blocks=n_blocks)
    ds = ds.map_batches(Scorer, batch_size=batch_size, batch_format="pyarrow",
                        compute=ray.data.ActorPoolStrategy(size=min(workers, n_blocks)), num_cpus=1,
                        fn_constructor_kwargs=dict(model_path=None if model_path is None else str(model_path),
                                                   threads=threads, crop=crop, plot_crop=plot_crop, top_k=top_k,
                                                   done=sorted(done),
                                                   pests_model_path=None if pests_model_path is None
                                                   else str(pests_model_path)))
    yield from ds.iter_batches(batch_size=None, batch_format="pyarrow")


@dataclass
class Summary:
    engine: str
    photos: int = 0
    skipped: int = 0
    scored: int = 0
    counts: dict = field(default_factory=dict)
    logged: list = field(default_factory=list)
    already_logged: int = 0  # photos (by sha256) the plot's log already had: linked, not logged twice
    log_failed: int = 0
    seconds: float = 0.0
    csv: Path | None = None


def run(photos: list, out, *, engine: str = "auto", workers: int = 2, address: str | None = None,
        model_path=None, threads: int | None = None, crop: str | None = None, top_k: int = TOP_K,
        batch_size: int = 64, log_plot: str | None = None, log_service=None, confirmed_by: str | None = None,
        pests_model_path=None, warn=None, lang: str = "en") -> Summary:
    """Score `photos` (paths) into `out`, skipping those already there; returns what happened.

    `log_plot`: record each ok/uncertain row in the field log (`log_service`: the DiagnosisService whose log to
    write, built for the default log when None); kept UNCONFIRMED unless `confirmed_by` names a person. `lang`: the
    language of `warn`'s lines (a photo the field log refused, and why, from its code)."""
    pyarrow()  # Parquet is the record the resume reads: without pyarrow nothing can be written
    if engine == "auto":
        engine = "local" if len(photos) <= LOCAL_MAX and not address else "ray"
    from .i18n import refusal
    if engine not in ("local", "ray"):
        raise refusal("bad_engine", "bad_input", value=repr(engine))
    if workers < 1:
        raise refusal("at_least_one", "bad_input", flag="--workers", value=workers)
    if engine == "ray":
        _need("ray", "scale_ray")
    output = out if isinstance(out, Output) else Output(Path(out))
    paths = [os.path.abspath(os.fspath(p)) for p in photos]
    paths = list(dict.fromkeys(paths))  # a photo named twice is scored once
    wanted = set(paths)
    # only keys for paths in this run travel to the actors; a photo not yet in the output needs no key
    done = {k for k in output.done_keys() if k[0] in wanted}
    s = Summary(engine=engine, photos=len(paths))
    t0 = time.perf_counter()
    # photos logged to a plot are read with what it grows, as `leafscout diagnose --log` reads them
    plot_crop = log_service.context(plot=log_plot)[1].plot_crop if log_plot and log_service is not None else None
    kw = dict(model_path=model_path, crop=crop, plot_crop=plot_crop, top_k=top_k, batch_size=batch_size,
              pests_model_path=pests_model_path)
    if engine == "local":
        batches = local_batches(paths, done, threads=threads, **kw)
    else:
        batches = ray_batches(paths, done, workers=workers, address=address,
                              threads=threads if threads is not None else 1, **kw)
    # a photo the plot's log already holds (another --out folder, a copy under another name) is linked to that
    # record, not logged again: the season's disease counts must not grow with every run (read once a run)
    logged = ({o.photo_sha256: o.id for o in log_service.log.history(log_plot).observations}
              if log_plot and log_service is not None else {})
    try:
        for table in batches:
            if table.num_rows == 0:
                continue
            if log_plot:
                table = _log_rows(table, log_plot, log_service, confirmed_by, s, warn, logged, lang)
            output.write(table)
            s.scored += table.num_rows
            for st in table.column("status").to_pylist():
                s.counts[st] = s.counts.get(st, 0) + 1
    except KeyboardInterrupt:  # Ctrl-C: the report holds every photo scored so far, not the last run's rows
        output.write_csv(top_k)
        raise
    s.skipped = len(paths) - s.scored
    s.seconds = time.perf_counter() - t0
    s.csv = output.write_csv(top_k)
    return s


def _log_rows(table, plot, svc, confirmed_by, s: Summary, warn, known: dict, lang: str = "en"):
    """Record the ok/uncertain rows in the field log (this process is the one writer), with their ids; a row whose
    sha256 is in `known` (sha256 -> observation id, updated here) gets that id instead of a second record."""
    from .errors import ServiceError
    ids = []
    for r in table.select(["path", "sha256", "status", "label", "confidence", "model_version"]).to_pylist():
        oid = None
        if r["status"] in ("ok", "uncertain") and r["sha256"] in known:
            oid = known[r["sha256"]]
            s.already_logged += 1
        elif r["status"] in ("ok", "uncertain"):
            try:
                obs = svc.record_result(plot, r["path"], r["label"], r["status"], r["confidence"],
                                        r["model_version"], confirmed_by=confirmed_by)
                oid = getattr(obs, "id", None)
                s.logged.append(oid)
                if r["sha256"]:
                    known[r["sha256"]] = oid
            except ServiceError as exc:
                s.log_failed += 1
                if warn:
                    why = f" ({exc.log_code})" if exc.log_code else ""
                    warn(_not_logged(r["path"], why, exc, svc, lang))
        ids.append(oid)
    i = table.schema.get_field_index("observation_id")
    pa = pyarrow()
    return table.set_column(i, "observation_id", pa.array(ids, type=pa.int64()))


def _not_logged(path: str, why: str, exc, svc, lang: str) -> str:
    """'<photo> not logged (needs_confirmation): <why>' in `lang`: the field log's reason from its code (never from
    its English words); English: the service's own message, as before."""
    from .i18n import has, t
    if lang == "en":
        return f"{path} not logged{why}: {exc}"
    key = f"log_{exc.log_code}" if exc.log_code and has(f"log_{exc.log_code}") else "log_other"
    where = getattr(getattr(svc, "log", None), "where", None) or "$LEAFSCOUT_DB"
    return t("not_logged", lang, path=path, why=why, msg=t(key, lang, db=where))
