"""`leafscout batch FOLDER --out DIR`: a season's photos into Parquet + CSV, resumable, locally or on Ray.

Registering imports only argparse; Ray, pyarrow and the model load when the command runs."""
from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    b = sub.add_parser("batch", help="many photos into Parquet + CSV, resumable; on Ray for big folders",
                       description="Diagnose every photo in the given files/folders into DIR/results.parquet "
                       "and DIR/results.csv. A rerun skips photos already there (same path and sha256). The "
                       "plain local loop runs small folders; Ray Data (the 'scale' extra) runs big ones, on an "
                       "embedded local Ray by default or on a cluster with --address.")
    b.add_argument("paths", nargs="+", metavar="PATH", help="photo files or folders (searched recursively)")
    b.add_argument("--out", default="leafscout-batch", metavar="DIR",
                   help="output folder (default ./leafscout-batch): results.parquet/ and results.csv")
    b.add_argument("--engine", choices=("auto", "local", "ray"), default="auto",
                   help="local loop or Ray Data (default auto: local up to 2000 photos without --address)")
    b.add_argument("--workers", type=int, default=2, metavar="N",
                   help="Ray: actors in the pool, one CPU and one model each (default 2)")
    b.add_argument("--address", metavar="ADDR", help="Ray: the cluster to run on (e.g. auto, ray://head:10001); "
                   "default: an embedded local Ray, nothing to start")
    b.add_argument("--batch-size", type=int, default=64, metavar="N", help="photos per batch (default 64)")
    b.add_argument("--model", metavar="PATH", help="ONNX model (default: the shipped one or $LEAFSCOUT_MODEL)")
    b.add_argument("--threads", type=int, metavar="N", help="inference threads: local loop (default all cores), "
                   "each Ray actor (default 1)")
    b.add_argument("--crop", metavar="CROP", help="the crop in the photos (e.g. coffee)")
    b.add_argument("--log", metavar="PLOT", help="also record each ok/uncertain diagnosis in the field log for "
                   "PLOT (UNCONFIRMED unless --confirmed-by)")
    b.add_argument("--confirmed-by", metavar="NAME", help="with --log: the person who confirms the diagnoses")
    b.add_argument("--db", metavar="PATH_OR_URL", help="field log database (default $LEAFSCOUT_DB or the user's "
                   "log; PostgreSQL for many writers)")
    from leafscout.cli_log import dash_value_parser, lang_option
    lang_option(b)
    b.__class__ = dash_value_parser(type(b))  # `--confirmed-by -Hoa`: says to write --confirmed-by=-Hoa
    b.set_defaults(func=cmd_batch)


def cmd_batch(args) -> int:
    from leafscout import batch as B
    from leafscout.cli_diagnose import _confirmed_by, _service, collect_photos, service_refusal
    from leafscout.errors import ServiceError
    from leafscout.i18n import refusal, t

    lang = args.lang  # refusals, warnings and the closing lines; Parquet and CSV stay language-free
    for name in ("workers", "batch_size"):
        if getattr(args, name) < 1:
            raise refusal("at_least_one", "bad_input", flag=f"--{name.replace('_', '-')}", value=getattr(args, name))
    confirmed_by = _confirmed_by(args)
    B.pyarrow()  # the scale extra, before any work
    if args.engine == "ray":
        B._need("ray", "scale_ray")
    photos = collect_photos(args.paths, lang, prog="leafscout batch")
    if not photos:
        print(f"leafscout batch: {t('error_word', lang)}: {t('no_photos', lang)}", file=sys.stderr)
        return 1
    svc = None
    if args.log or args.crop:  # check the plot, the log and the crop here, before any actor starts
        svc = _service(args)
        try:
            args.crop = svc.check_crop(args.crop) if args.crop else None  # "lúa" -> rice, for every actor
        except ServiceError as exc:
            raise service_refusal(exc, svc, args, f"--crop {args.crop}: ") from None
        if args.log:
            try:
                svc.context(plot=args.log)
            except ServiceError as exc:
                flag = f"--log {args.log}: " if exc.code == "unknown_plot" else ""
                raise service_refusal(exc, svc, args, flag) from None
    warn = lambda line: print(f"leafscout batch: {t('warning', lang)}: {line}", file=sys.stderr)  # noqa: E731
    if args.log:  # the field log's own copies of logged photos are never photos to diagnose and log again
        store = svc.log.photo_dir.resolve()
        kept = [p for p in photos if not Path(p).resolve().is_relative_to(store)]
        if len(kept) < len(photos):
            warn(t("batch_own_photos", lang, n=len(photos) - len(kept), store=store))
            photos = kept
            if not photos:
                print(f"leafscout batch: {t('error_word', lang)}: {t('no_photos', lang)}", file=sys.stderr)
                return 1
    out = B.Output(args.out)  # made only once the plot and the crop are accepted: a refused run leaves nothing
    try:
        s = B.run(photos, out, engine=args.engine, workers=args.workers, address=args.address,
                  model_path=args.model, threads=args.threads, crop=args.crop, batch_size=args.batch_size,
                  log_plot=args.log, log_service=svc, confirmed_by=confirmed_by, warn=warn, lang=lang)
    except ServiceError as exc:
        raise service_refusal(exc, svc, args) from None
    except KeyboardInterrupt:
        print(f"leafscout batch: {t('batch_interrupted', lang, parquet=out.parquet_dir, csv=out.csv_path)}",
              file=sys.stderr)
        return 130
    rate = s.scored / s.seconds if s.seconds > 0 and s.scored else 0.0
    c = s.counts
    from leafscout.i18n import number
    print(t("batch_summary", lang, photos=s.photos, skipped=s.skipped, out=args.out, scored=s.scored, engine=s.engine,
            seconds=f"{s.seconds:.1f}" if lang == "en" else number(s.seconds, lang, 1),
            rate=f"{rate:.1f}" if lang == "en" else number(rate, lang, 1), ok=c.get("ok", 0),
            uncertain=c.get("uncertain", 0), not_a_leaf=c.get("not_a_leaf", 0), error=c.get("error", 0),
            parquet=out.parquet_dir, csv=s.csv), file=sys.stderr)
    if s.already_logged:
        print(f"leafscout batch: {t('batch_already_logged', lang, n=s.already_logged, plot=repr(args.log))}",
              file=sys.stderr)
    if s.logged and not confirmed_by:
        print(f"leafscout batch: {t('batch_unconfirmed', lang, n=len(s.logged), plot=repr(args.log))}",
              file=sys.stderr)
    return 0 if s.scored == 0 or c.get("error", 0) < s.scored else 1
