"""Corrections to training data: the photos people labelled in the field log, as a dataset a retraining run reads.

    leafscout log correct 12 --label coffee.rust --by "Lò Thị Hoa"      # the field log keeps who/when/hash/model
    leafscout corrections export runs/corrections-2026                  # photos + labels + manifest

Layout (what `leafscout evaluate` and the trainer's class-folder discovery read; labels are already
`crop.problem`, so no label map is needed):

    DIR/<crop.problem>/<sha256>.<ext>   one file per labelled photo, named by its content hash
    DIR/aside/<crop.problem>/...         with --aside SHARE: whole plots kept aside (never trained on) to score
                                         the retrained model against the old one (benchmarks/compare_models.py
                                         --corrections DIR); the trainer's --extra-data skips this folder
    DIR/manifest.csv                     one row per photo: file, label, where the label came from (correction or
                                         confirmation), who and when, the model's answer and version, record uids
    DIR/manifest.json                    the export: when, from which log (password hidden), licence, counts
    DIR/README.md                        the same in words (provenance, licence), for whoever receives the folder

No GPS and no plot names leave the log (plot and observation uids do, so the source stays traceable).
Exporting again into the same folder replaces the previous export; any other non-empty folder is refused.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

from .errors import UsageError

FORMAT = "leafscout-corrections/1"
DEFAULT_LICENCE = ("not for redistribution: photos taken on the growers' plots, shared with the cooperative for "
                   "retraining LeafScout; ask the cooperative before any other use")
MANIFEST_COLS = ("file", "label", "source", "by", "at", "photo_sha256", "model_label", "model_status",
                 "model_confidence", "model_version", "observed_at", "observation_uid", "correction_uid",
                 "plot_uid", "crop", "split")
ASIDE_DIR = "aside"  # training/data.py discover_extra skips a folder of this name


def kept_aside(plot_uid: str, share: float) -> bool:
    """Whether a plot's photos are kept aside: decided by its uid's hash, so exporting again keeps the same
    plots aside (a retrained model is never scored on photos it trained on), and by plot, not by photo, since
    photos of one plot share its light, variety and camera."""
    if share <= 0:
        return False
    return int(hashlib.sha256(plot_uid.encode()).hexdigest()[:8], 16) / 0x100000000 < share


def _iso(t) -> str:
    return "" if t is None else t.replace(microsecond=0).isoformat() + "Z"


def _prepare(out: Path) -> None:
    """An empty or new folder, or a previous export (its files are removed first); anything else is refused."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: is a file; give a folder for the exported photos")
    if out.is_dir() and any(out.iterdir()):
        old = out / "manifest.json"
        try:
            previous = json.loads(old.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = None
        if not isinstance(previous, dict) or previous.get("format") != FORMAT:
            raise UsageError(f"{out}: is not empty and holds no LeafScout corrections export; choose a new or "
                             "empty folder")
        for row in _read_manifest(out / "manifest.csv"):
            f = out / row.get("file", "")
            if f.is_file() and out in f.resolve().parents:
                f.unlink()
        for d in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            if not any(d.iterdir()):  # deepest first, so aside/<label>/ goes before aside/
                d.rmdir()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: cannot create it ({exc.strerror or exc})") from None


def _read_manifest(path: Path) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    except OSError:
        return []


class ExportWarning(str):
    """A warning `export` passes to its `warn`: its English line (as before), with a `code` (`photo_missing`,
    `labels_not_trained`) and the `fields` it was made from, so a caller can say it in another language."""
    code: str
    fields: dict

    def __new__(cls, text: str, code: str, **fields):
        self = super().__new__(cls, text)
        self.code, self.fields = code, fields
        return self


def export(log, out, *, confirmed: bool = False, licence: str = DEFAULT_LICENCE, warn=None,
           aside: float = 0.0) -> dict:
    """Write the labelled photos of `log` (a FieldLog) into `out`; returns manifest.json's content. With
    `aside` (0-0.9) that share of the plots goes to `out/aside/` (see `kept_aside`)."""
    from .safety import csv_row

    if not 0.0 <= aside <= 0.9:
        raise UsageError(f"--aside {aside:g}: give the share of plots to keep aside, from 0 to 0.9 (e.g. 0.2)")
    out = Path(out)
    items = log.labelled_photos(confirmed=confirmed)
    _prepare(out)
    rows, missing, counts, aside_counts = [], [], {}, {}
    for it in items:
        o, label = it["observation"], it["label"]
        src = log.photo_path(o)
        if not src.is_file():
            missing.append(o.uid)
            if warn:
                warn(ExportWarning(f"observation {o.id}: its photo is not in the log's photo folder; left out",
                                   "photo_missing", id=o.id))
            continue
        held = kept_aside(it["plot"].uid, aside)
        rel = (Path(ASIDE_DIR) if held else Path()) / label / f"{o.photo_sha256}{src.suffix.lower() or '.jpg'}"
        dst = out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists():  # the same photo logged twice with the same label: one file
            shutil.copyfile(src, dst)
        tally = aside_counts if held else counts
        tally[label] = tally.get(label, 0) + 1
        c = it["correction"]
        rows.append([rel.as_posix(), label, it["source"], it["by"], _iso(it["at"]), o.photo_sha256, o.label,
                     o.status, f"{o.confidence:.4f}", o.model_version, _iso(o.observed_at), o.uid,
                     c.uid if c is not None else "", it["plot"].uid, label.split(".", 1)[0],
                     "aside" if held else "train"])
    with open(out / "manifest.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(MANIFEST_COLS)
        for r in rows:
            w.writerow(csv_row(r))
    from leafscout.fieldlog.db import make_url
    meta = {
        "format": FORMAT,
        "created_at": _iso(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)),
        "field_log": make_url(log.url).render_as_string(hide_password=True),
        "licence": licence,
        "provenance": "photos logged with LeafScout; each label was given (correction) or vouched for "
                      "(confirmation) by the person named in manifest.csv; the model's own answer is kept beside it",
        "sources": ["correction", "confirmation"] if confirmed else ["correction"],
        "photos": len(rows),
        "files": len({r[0] for r in rows}),
        "labels": dict(sorted(counts.items())),
        "aside_share": aside,
        "aside_labels": dict(sorted(aside_counts.items())),
        "missing_photos": missing,
    }
    (out / "manifest.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "README.md").write_text(_readme(meta), encoding="utf-8")
    known = _training_labels() if warn else frozenset()
    new = sorted(lab for lab in counts if lab not in known) if known else []
    if new:  # training.data.discover_extra stops on these folders until the label map has them
        n = sum(counts[lab] for lab in new)
        warn(ExportWarning(f"{n} photo(s) under label(s) the model does not have yet: "
                           f"{', '.join(new)}. `python -m leafscout.training.train --extra-data {out}` stops on them "
                           "until each is added to datasets/labels.yaml (see datasets/README.md, 'Adding a dataset or "
                           "a crop'); or move those folders out of the export",
                           "labels_not_trained", n=n, labels=", ".join(new), out=out))
    return meta


def _training_labels() -> frozenset[str]:
    """The labels a retraining run maps photo folders to (datasets/labels.yaml); empty when it is not there."""
    try:
        from leafscout.model.labels import load_label_map
        return frozenset(load_label_map().labels)
    except Exception:
        return frozenset()


def _readme(meta: dict) -> str:
    lines = [f"# LeafScout field corrections ({meta['created_at']})", "",
             f"{meta['photos']} photos labelled by people in the field log ({', '.join(meta['sources'])}), "
             "one folder per label (`crop.problem`).", "",
             f"**Licence:** {meta['licence']}", "",
             f"**Provenance:** {meta['provenance']}. Source log: `{meta['field_log']}`. `manifest.csv` gives, per "
             "photo, who labelled it and when, its sha256, the model's answer and version, and the field-log "
             "record uids. No GPS positions or plot names are included.", "",
             "| label | photos |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in meta["labels"].items()]
    if meta.get("aside_labels"):
        lines += ["", f"Kept aside in `{ASIDE_DIR}/` (whole plots, {100 * meta['aside_share']:.0f}% of them; never "
                  "train on these: they score the retrained model against the old one with "
                  "`python benchmarks/compare_models.py OLD.onnx NEW.onnx --corrections DIR`):", "",
                  "| label | photos |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in meta["aside_labels"].items()]
    if meta["missing_photos"]:
        lines += ["", f"{len(meta['missing_photos'])} labelled record(s) left out: photo not found in the log."]
    return "\n".join(lines) + "\n"


def known_labels(model_path=None) -> frozenset[str]:
    """Labels a correction may name without --new-label: the model's and the knowledge base's problems."""
    from .service import default_advisor, model_labels
    labels: set[str] = set()
    try:
        labels |= set(model_labels(model_path))
    except Exception:
        pass
    try:
        labels |= {k for k in default_advisor(model_path).kb.problems}
    except Exception:
        pass
    return frozenset(labels)

