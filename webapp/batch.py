"""Batch diagnosis for extension officers: many photos or a zip -> rows, CSV and a printable PDF.

A bad file is a row with its error and never stops the batch. Zips are opened defensively: member names
are never used as paths (no traversal), the total uncompressed size and member count are capped while
reading (a lying header cannot get past the cap), and nested archives are skipped.
"""
from __future__ import annotations

import csv
import os
import datetime as dt
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .handlers import classify_error, parse_context, problem_name
from .i18n import norm_lang, t

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
ARCHIVE_EXTS = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"}
MAX_ZIP_TOTAL = 200 * 2**20     # bytes uncompressed, all members together
MAX_ZIP_MEMBERS = 2000
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


class ZipRefused(ValueError):
    pass


@dataclass
class Item:
    name: str               # what the officer recognises: file name, or zip name / member name
    path: str | None        # where we read it from (inside our temp folder); None when refused
    error: str | None = None


def safe_extract(zip_path, dest: Path, max_total: int = MAX_ZIP_TOTAL,
                 max_members: int = MAX_ZIP_MEMBERS) -> tuple[list[Item], int]:
    """Extract regular, non-archive members of `zip_path` into `dest` under generated names.

    Returns (items, skipped_archives). Raises ZipRefused when the zip cannot be opened or the caps are hit."""
    dest.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    skipped = 0
    total = 0
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ZipRefused(f"zip could not be opened ({exc})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > max_members:
            raise ZipRefused(f"zip has {len(infos)} files; at most {max_members} allowed")
        if sum(i.file_size for i in infos) > max_total:
            raise ZipRefused(f"zip uncompresses to more than {max_total // 2**20} MB")
        for n, info in enumerate(infos):
            base = info.filename.replace("\\", "/").rsplit("/", 1)[-1]
            if not base or base.startswith("."):  # __MACOSX/._x resource forks, hidden files
                continue
            ext = Path(base).suffix.lower()
            if ext in ARCHIVE_EXTS:
                skipped += 1
                continue
            # our own name: a number and a cleaned extension; the member name is only displayed
            out = dest / f"{n:05d}{ext if ext.isascii() and len(ext) <= 6 else ''}"
            try:
                with zf.open(info) as src, open(out, "wb") as dst:
                    while True:
                        chunk = src.read(1 << 16)
                        if not chunk:
                            break
                        total += len(chunk)
                        if total > max_total:
                            raise ZipRefused(f"zip uncompresses to more than {max_total // 2**20} MB")
                        dst.write(chunk)
            except ZipRefused:
                out.unlink(missing_ok=True)
                raise
            except Exception as exc:  # a damaged member is a row with its error
                out.unlink(missing_ok=True)
                items.append(Item(info.filename, None, f"zip member could not be read ({exc})"))
                continue
            items.append(Item(info.filename, str(out)))
    return items, skipped


def collect(paths, workdir: Path, check_paths: bool = True) -> tuple[list[Item], int]:
    """Uploaded files (photos and zips) -> items in upload order; zips are expanded in place.
    With `check_paths`, a path outside the upload folder becomes an error row and is never read."""
    from .handlers import safe_upload_path

    items: list[Item] = []
    skipped = 0
    for k, p in enumerate(paths or []):
        if not isinstance(p, (str, os.PathLike)):  # gradio FileData / tempfile wrappers
            p = getattr(p, "path", None) or getattr(p, "name", None) or str(p)
        p = Path(p)
        display = p.name
        if check_paths:
            try:
                p = safe_upload_path(p)
            except ValueError as exc:
                items.append(Item(display, None, str(exc)))
                continue
        if p.suffix.lower() == ".zip" or (p.is_file() and zipfile.is_zipfile(p) and p.suffix.lower() not in IMAGE_EXTS):
            try:
                got, sk = safe_extract(p, workdir / f"zip{k:03d}")
            except ZipRefused as exc:
                items.append(Item(display, None, str(exc)))
                continue
            skipped += sk
            items += [Item(f"{display}/{i.name}", i.path, i.error) for i in got]
        elif p.suffix.lower() in ARCHIVE_EXTS:
            skipped += 1
        else:
            items.append(Item(display, str(p)))
    return items, skipped


def run_batch(services, paths, workdir: Path | None = None, check_paths: bool = True) -> dict:
    """Diagnose every item; returns {"rows": [language-free dicts], "skipped_archives": n}."""
    from model.imageio import ImageError  # noqa: F401  (predict_many reports errors as rows)

    workdir = Path(workdir or tempfile.mkdtemp(prefix="leafscout-batch-"))
    items, skipped = collect(paths, workdir, check_paths)
    readable = [i for i in items if i.path and not i.error]
    results = iter(services.predictor.predict_many([i.path for i in readable]) if readable else [])
    rows = []
    for n, item in enumerate(items, 1):
        row = {"no": n, "file": _short(item.name), "path": item.path, "status": "error", "label": None,
               "confidence": None, "top_k": [], "error": item.error}
        if item.path and not item.error:
            r = next(results)
            row.update(status=r.status, label=r.label, confidence=r.confidence, error=r.error,
                       top_k=[(a, float(b)) for a, b in r.top_k])
        rows.append(row)
    return {"rows": rows, "skipped_archives": skipped, "model_version": services.predictor.version}


def _short(name: str, keep: int = 30) -> str:
    """File name for the table: zip/member, long camera names shortened in the middle."""
    name = str(name).replace("\\", "/")
    parts = name.split("/")
    out = parts[-1] if len(parts) == 1 else f"{Path(parts[0]).name}/{parts[-1]}"
    return out if len(out) <= keep else out[: keep // 3] + "…" + out[-(keep - keep // 3 - 1):]


def first_steps(advisor, row: dict, ctx, lang: str, n: int = 2) -> str:
    if row["status"] != "ok":
        return t("retake_title", lang) if row["status"] != "error" else ""
    adv = advisor.advise(row["label"], ctx, status="ok")
    return "; ".join(s.title[lang] for s in adv.steps[:n])


def table(advisor, batch: dict | None, lang: str, organic=None, days=None, copper=None) -> dict:
    """Rows rendered in `lang` as {"headers", "data"} for gr.Dataframe."""
    lang = norm_lang(lang)
    headers = [t(k, lang) for k in ("col_no", "col_file", "col_status", "col_problem", "col_confidence",
                                    "col_advice", "col_error")]
    if not batch:
        return {"headers": headers, "data": [[None] * len(headers)][:0]}
    ctx = parse_context(organic, days, copper)
    data = []
    for r in batch["rows"]:
        data.append([
            r["no"], r["file"], t("st_" + r["status"], lang),
            problem_name(advisor, r["label"], lang) if r["status"] in ("ok", "uncertain") else "",
            None if r["confidence"] is None or r["status"] != "ok" else round(100 * r["confidence"], 1),
            first_steps(advisor, r, ctx, lang),
            "" if r["status"] != "error" else t(classify_error(r["error"]), lang)
            + (f": {r['error']}" if lang == "en" and r["error"] else ""),
        ])
    return {"headers": headers, "data": data}


def summary(batch: dict | None, lang: str) -> str:
    lang = norm_lang(lang)
    if not batch:
        return t("batch_none", lang)
    st = [r["status"] for r in batch["rows"]]
    return t("batch_summary", lang, n=len(st), ok=st.count("ok"), unsure=st.count("uncertain"),
             noleaf=st.count("not_a_leaf"), err=st.count("error"))


def write_csv(advisor, batch: dict, lang: str, out: Path, organic=None, days=None, copper=None) -> Path:
    """UTF-8 with BOM (Excel opens Vietnamese correctly); the localised table plus machine columns."""
    tab = table(advisor, batch, lang, organic, days, copper)
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(tab["headers"] + ["label", "status", "confidence", "error_detail", "model_version"])
        for shown, r in zip(tab["data"], batch["rows"]):
            w.writerow(shown + [r["label"] or "", r["status"],
                                "" if r["confidence"] is None else f"{r['confidence']:.4f}", r["error"] or "",
                                batch.get("model_version", "")])
    return out


def _thumb(path: str | None, dest: Path) -> Path | None:
    """A small JPEG of a readable photo for the PDF (None for unreadable files)."""
    if not path:
        return None
    try:
        from model.imageio import read_image
        import cv2

        rgb = read_image(path)
        h, w = rgb.shape[:2]
        s = 160 / max(h, w)
        small = cv2.resize(rgb, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
        ok = cv2.imwrite(str(dest), cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80])
        return dest if ok else None
    except Exception:
        return None


def _ascii(text: str) -> str:
    import unicodedata

    text = str(text).replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def write_pdf(advisor, batch: dict, lang: str, out: Path, organic=None, days=None, copper=None) -> Path:
    """A4 report: one block per photo with thumbnail, diagnosis and the first steps of the advice.

    Uses DejaVu Sans for Vietnamese; without it, falls back to Helvetica with accents stripped."""
    from fpdf import FPDF

    lang = norm_lang(lang)
    tab = table(advisor, batch, lang, organic, days, copper)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    unicode_font = DEJAVU.is_file()
    if unicode_font:
        pdf.add_font("DejaVu", "", str(DEJAVU))
        pdf.add_font("DejaVu", "B", str(DEJAVU_BOLD if DEJAVU_BOLD.is_file() else DEJAVU))
        family, tx = "DejaVu", (lambda s: str(s))
    else:
        family, tx = "Helvetica", _ascii
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 10, tx(t("report_title", lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 6, tx(f"{t('report_date', lang)}: {dt.date.today().isoformat()}   "
                      f"{t('model_version', lang)}: {batch.get('model_version', '')}"), new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, tx(summary(batch, lang)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    thumbs = Path(tempfile.mkdtemp(prefix="leafscout-thumbs-"))
    h = tab["headers"]
    for shown, r in zip(tab["data"], batch["rows"]):
        if pdf.get_y() > 250:
            pdf.add_page()
        y0 = pdf.get_y()
        th = _thumb(r["path"], thumbs / f"{r['no']}.jpg") if r["status"] != "error" else None
        if th:
            pdf.image(str(th), x=pdf.l_margin, y=y0, w=30)
        pdf.set_xy(pdf.l_margin + 34, y0)
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(0, 6, tx(f"{shown[0]}. {shown[1]}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        lines = [f"{h[2]}: {shown[2]}"]
        if shown[3]:
            lines.append(f"{h[3]}: {shown[3]}")
        if shown[4] is not None:
            lines.append(f"{h[4]}: {shown[4]}")
        if shown[5]:
            lines.append(f"{h[5]}: {shown[5]}")
        if shown[6]:
            lines.append(f"{h[6]}: {shown[6]}")
        for line in lines:
            pdf.set_x(pdf.l_margin + 34)
            pdf.multi_cell(0, 5, tx(line), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y0 + (32 if th else 0)) + 3)
    pdf.output(str(out))
    return out
