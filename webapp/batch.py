"""Batch diagnosis for extension officers: many photos or a zip -> rows, CSV and a printable PDF.

A bad file is a row with its error code and never stops the batch. Zips are opened defensively: member
names are never used as paths (no traversal), the total uncompressed size and member count are capped while
reading (a lying header cannot get past the cap), and nested archives are skipped. Only stored and deflated
members are read: Python's zipfile inflates a bzip2 or LZMA member without an output limit, so a 1.5 KB
bzip2 member would take gigabytes of memory in one read(), before any cap is checked.

Every request works in one temporary folder (`leafscout-batch-*`) that holds the extracted members, the
thumbnails and the reports. `Workspace` caps what one request may write and removes the folder of the
previous request (the reports of the latest one stay downloadable); `clean_stale` at start removes what a
crashed server left behind.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from leafscout.errors import ServiceError, image_error_code
from leafscout.safety import csv_row, one_line
from leafscout.service import CROP_MISMATCH, NO_LEAF_SEEN

from .handlers import error_text, problem_name
from .i18n import norm_lang, t

IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
ARCHIVE_EXTS = {".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".zst"}
MAX_ZIP_TOTAL = 200 * 2**20     # bytes uncompressed, all members together
MAX_ZIP_MEMBERS = 2000
SAFE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # zipfile bounds each inflate step only for these
MAX_FILES = 500                 # photos per request
MAX_REQUEST_BYTES = 300 * 2**20  # everything one request may write (members, thumbnails, reports)
# pixels one request may decode at full size: a JPEG is decoded at up to 1/8 size, any other format whole, so
# 140 PNGs of 118 MP in a 50 MB zip would hold the batch slot ~10 minutes; 2,000 MP is ~160 photos of 12 MP
MAX_REQUEST_FULL_PIXELS = 2_000_000_000
PREFIX = "leafscout-batch-"
STALE_PREFIXES = (PREFIX, "leafscout-report-", "leafscout-thumbs-")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


class ZipRefused(ValueError):
    def __init__(self, detail: str, code: str = "zip"):
        super().__init__(detail)
        self.code = code


class TooBig(ServiceError):
    def __init__(self, detail: str):
        super().__init__("batch_too_big", detail)


@dataclass
class Item:
    name: str               # what the officer recognises: file name, or zip name / member name (full)
    path: str | None        # where we read it from (inside our temp folder); None when refused
    error_code: str | None = None
    error: str | None = None  # English detail without server paths


# --------------------------------------------------------------------------------------------- workspace

class Workspace:
    """One request's temporary folder with a write budget."""

    _lock = threading.Lock()
    _previous: list[Path] = []
    KEEP = 2  # the latest requests' folders stay (their download links), older ones go

    def __init__(self, budget: int | None = None, root: str | None = None):
        self.dir = Path(tempfile.mkdtemp(prefix=PREFIX, dir=root))
        self.budget = MAX_REQUEST_BYTES if budget is None else budget
        self.used = 0
        with Workspace._lock:
            Workspace._previous.append(self.dir)
            while len(Workspace._previous) > self.KEEP:
                shutil.rmtree(Workspace._previous.pop(0), ignore_errors=True)

    def charge(self, n: int) -> None:
        self.used += n
        if self.used > self.budget:
            raise TooBig(f"this request would write more than {self.budget // 2**20} MB")

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def clean_stale(root: str | None = None, older_than_s: float = 0) -> int:
    """Remove batch/report/thumbnail folders left in the temp folder (at start: by a previous server)."""
    root = Path(root or tempfile.gettempdir())
    n = 0
    now = time.time()
    for p in root.iterdir() if root.is_dir() else []:
        if p.is_dir() and p.name.startswith(STALE_PREFIXES) and not p.is_symlink():
            try:
                if now - p.stat().st_mtime >= older_than_s:
                    shutil.rmtree(p, ignore_errors=True)
                    n += 1
            except OSError:
                pass
    return n


# --------------------------------------------------------------------------------------------------- zip

def safe_extract(zip_path, dest: Path, max_total: int = MAX_ZIP_TOTAL,
                 max_members: int = MAX_ZIP_MEMBERS, ws: Workspace | None = None) -> tuple[list[Item], int]:
    """Extract regular, non-archive members of `zip_path` into `dest` under generated names.

    Returns (items, skipped_archives). Raises ZipRefused when the zip cannot be opened or the caps are hit.
    A member that cannot be read is an item with error code `zip_member` (its own name, never a path)."""
    dest.mkdir(parents=True, exist_ok=True)
    items: list[Item] = []
    skipped = 0
    total = 0
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ZipRefused(f"zip could not be opened ({type(exc).__name__})") from None
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
            if info.compress_type not in SAFE_COMPRESSION:  # bzip2/LZMA: one read() may inflate gigabytes
                items.append(Item(info.filename, None, "zip_member",
                                  f"zip member uses compression method {info.compress_type} (only stored and "
                                  f"deflate are read); zip it again with the ordinary setting"))
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
                        if ws is not None:
                            ws.charge(len(chunk))
                        dst.write(chunk)
            except (ZipRefused, TooBig):
                out.unlink(missing_ok=True)
                raise
            except Exception as exc:  # a damaged member is a row with its error
                out.unlink(missing_ok=True)
                items.append(Item(info.filename, None, "zip_member",
                                  f"zip member could not be read ({type(exc).__name__})"))
                continue
            items.append(Item(info.filename, str(out)))
    return items, skipped


def collect(paths, workdir: Path, check_paths: bool = True, ws: Workspace | None = None) -> tuple[list[Item], int]:
    """Uploaded files (photos and zips) -> items in upload order; zips are expanded in place.
    With `check_paths`, a path outside the upload folder becomes an error row and is never read."""
    from .handlers import safe_upload_path

    items: list[Item] = []
    skipped = 0
    for k, p in enumerate(paths or []):
        display = getattr(p, "orig_name", None)
        if not isinstance(p, (str, os.PathLike)):  # gradio FileData / tempfile wrappers
            p = getattr(p, "path", None) or getattr(p, "name", None) or str(p)
        p = Path(p)
        display = display or p.name
        if check_paths:
            try:
                p = safe_upload_path(p)
            except ServiceError as exc:
                items.append(Item(display, None, exc.code, str(exc)))
                continue
        if p.suffix.lower() == ".zip" or (p.is_file() and zipfile.is_zipfile(p) and p.suffix.lower() not in IMAGE_EXTS):
            try:
                got, sk = safe_extract(p, workdir / f"zip{k:03d}", ws=ws)
            except ZipRefused as exc:
                items.append(Item(display, None, exc.code, str(exc)))
                continue
            skipped += sk
            items += [Item(f"{display}/{i.name}", i.path, i.error_code, i.error) for i in got]
        elif p.suffix.lower() in ARCHIVE_EXTS:
            skipped += 1
        else:
            items.append(Item(display, str(p)))
        if len(items) > MAX_FILES:
            raise TooBig(f"more than {MAX_FILES} files in one request")
    return items, skipped


def within_decode_budget(items: list[Item], budget: int = MAX_REQUEST_FULL_PIXELS) -> list[Item]:
    """Items after the request's full-size decodes add up past `budget` pixels become error rows
    (batch_too_big: "send the rest in another batch"), read from the headers only. JPEGs are decoded reduced
    for the classifier and count as an eighth a side."""
    from leafscout.model.imageio import check_image
    used, out = 0, []
    for item in items:
        if item.path and not item.error_code:
            try:
                info = check_image(item.path)
            except Exception:  # the gate says why when the photo is read
                info = None
            if info is not None:
                px = info.width * info.height // (64 if info.format in ("JPEG", "MPO") else 1)
                if used + px > budget:
                    item = Item(item.name, None, "batch_too_big",
                                f"this request's photos add up to more than {budget / 1e6:.0f} megapixels decoded "
                                "at full size; send the rest in another batch")
                else:
                    used += px
        out.append(item)
    return out


def run_batch(services, paths, workdir: Path | None = None, check_paths: bool = True, crop=None,
              ws: Workspace | None = None) -> dict:
    """Diagnose every item through the service; returns {"rows": [language-free dicts], ...}."""
    workdir = Path(workdir or (ws.dir if ws else tempfile.mkdtemp(prefix=PREFIX)))
    items, skipped = collect(paths, workdir, check_paths, ws)
    items = within_decode_budget(items)
    readable = [i for i in items if i.path and not i.error_code]
    results = iter(services.diagnose_many([i.path for i in readable], crop=crop or None,
                                          names=[i.name for i in readable]) if readable else [])
    rows = []
    for n, item in enumerate(items, 1):
        row = {"no": n, "file": _display(item.name), "path": item.path, "status": "error", "label": None,
               "confidence": None, "top_k": [], "error_code": item.error_code, "error": item.error,
               "reason_code": "unreadable", "advice_steps": []}
        if item.path and not item.error_code:
            d = next(results)
            r = d.result
            row.update(status=r.status, label=r.label, confidence=r.confidence, error=d.error_detail,
                       error_code=d.error_code, top_k=[(a, float(b)) for a, b in r.top_k],
                       crop_note=d.crop_note, reason_code=d.reason_code)
            if d.advice is not None and r.status == "ok":
                row["advice_steps"] = [s.title for s in d.advice.steps[:2]]
                row["check_first"] = bool(d.advice.check_first)  # below even odds: look before acting
            row["pest_counts"] = d.pest_counts  # None without a pest detector
        if row["status"] == "error" and item.path and row["error_code"] is None:
            row["error_code"] = image_error_code(row["error"], item.path)
        rows.append(row)
    out = {"rows": rows, "skipped_archives": skipped, "model_version": services.predictor.version}
    if crop:  # the Diagnose tab's crop picker steers every photo: the summary names it (webapp/app.py do_batch)
        out["crop_names"] = dict(services.advisor.kb.crops.get(crop) or {"vi": crop, "en": crop})
    return out


def _display(name: str) -> str:
    """The file name as the officer knows it: zip/member with the member's folders (two farms' phones both name a
    photo IMG_0001.jpg: the folder tells them apart; empty, '.' and '..' parts left out), never shortened; on one
    line, its control and text-direction characters escaped (safety.one_line), so it cannot fake another row."""
    name = str(name).replace("\\", "/")
    parts = name.split("/")
    if len(parts) == 1:
        return one_line(parts[0])
    inside = [x for x in parts[1:-1] if x not in ("", ".", "..")] + [parts[-1]]
    return one_line("/".join([Path(parts[0]).name, *inside]))


def table(advisor, batch: dict | None, lang: str) -> dict:
    """Rows rendered in `lang` as {"headers", "data"} for gr.Dataframe: plain names, percentages."""
    lang = norm_lang(lang)
    headers = [t(k, lang) for k in ("col_no", "col_file", "col_status", "col_problem", "col_confidence",
                                    "col_advice", "col_error")]
    if not batch:
        return {"headers": headers, "data": []}
    data = []
    for r in batch["rows"]:
        data.append([
            r["no"], r["file"], t("st_" + r["status"], lang),
            t("no_leaf_seen_short", lang) if r.get("reason_code") == NO_LEAF_SEEN else
            problem_name(advisor, r["label"], lang) if r["status"] in ("ok", "uncertain") else "",
            "" if r["confidence"] is None or r["status"] != "ok" else f"{100 * r['confidence']:.0f}%",
            _first_steps(r, lang) if r["status"] == "ok" else
            t("batch_check_crop", lang) if r.get("reason_code") == CROP_MISMATCH else  # the photo is fine
            (t("retake_title", lang) if r["status"] != "error" else ""),
            "" if r["status"] != "error" else error_text(r.get("error_code"), lang),
        ])
    return {"headers": headers, "data": data}


def _first_steps(row: dict, lang: str) -> str:
    """The 'first things to do' cell of an ok row: its first steps by name; for an answer more likely wrong than
    right (`Advice.check_first`, as the Diagnose card and the CLI say) "not sure: look first" before them."""
    steps = "; ".join(s[lang] for s in row.get("advice_steps", []))
    return t("batch_check_first", lang, steps=steps) if row.get("check_first") else steps


def summary(batch: dict | None, lang: str) -> str:
    lang = norm_lang(lang)
    if not batch:
        return t("batch_none", lang)
    st = [r["status"] for r in batch["rows"]]
    text = t("batch_summary", lang, n=len(st), ok=st.count("ok"), unsure=st.count("uncertain"),
             noleaf=st.count("not_a_leaf"), err=st.count("error"))
    if batch.get("crop_names"):
        text += " " + t("batch_crop", lang, crop=batch["crop_names"].get(lang, ""))
    return text


def write_csv(advisor, batch: dict, lang: str, out: Path, ws: Workspace | None = None) -> Path:
    """UTF-8 with BOM (Excel opens Vietnamese correctly); the localised table plus machine columns.
    No server paths; every cell neutralised against formula injection (OWASP)."""
    tab = table(advisor, batch, lang)
    with open(out, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        from leafscout.webapp.pests import counts_cell
        w.writerow(csv_row(tab["headers"] + ["label", "status", "confidence", "error_code", "model_version",
                                             "pest_counts", "reason_code"]))
        for shown, r in zip(tab["data"], batch["rows"]):
            w.writerow(csv_row(shown + [r["label"] or "", r["status"],
                                        "" if r["confidence"] is None else f"{r['confidence']:.4f}",
                                        r.get("error_code") or "", batch.get("model_version", ""),
                                        counts_cell(r.get("pest_counts")), r.get("reason_code") or ""]))
    if ws is not None:
        ws.charge(out.stat().st_size)
    return out


def _thumb(path: str | None, dest: Path) -> Path | None:
    """A small JPEG of a readable photo for the PDF (None for unreadable files)."""
    if not path:
        return None
    try:
        import cv2

        from leafscout.model.imageio import read_image

        rgb = read_image(path, min_short_side=160)  # a big JPEG decoded at 1/8 size, not 360 MB for 120 MP
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


def write_pdf(advisor, batch: dict, lang: str, out: Path, ws: Workspace | None = None,
              keep_thumbs: bool = False) -> Path:
    """A4 report in `lang`: one block per photo with thumbnail, diagnosis and the first steps of the advice.

    Uses DejaVu Sans for Vietnamese; without it, falls back to Helvetica with accents stripped. The thumbnails
    (`thumbs/` beside the report) are made once: `keep_thumbs` leaves them for the other language's report."""
    from fpdf import FPDF

    lang = norm_lang(lang)
    tab = table(advisor, batch, lang)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    if DEJAVU.is_file():
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
    thumbs = (ws.dir if ws else out.parent) / "thumbs"
    thumbs.mkdir(exist_ok=True)
    h = tab["headers"]
    for shown, r in zip(tab["data"], batch["rows"]):
        if pdf.get_y() > 250:
            pdf.add_page()
        y0 = pdf.get_y()
        made = thumbs / f"{r['no']}.jpg"
        again = made.is_file()  # made for the other language's report
        th = made if again else _thumb(r["path"], made) if r["status"] != "error" else None
        if th:
            if ws is not None and not again:
                ws.charge(th.stat().st_size)
            pdf.image(str(th), x=pdf.l_margin, y=y0, w=30)
        pdf.set_xy(pdf.l_margin + 34, y0)
        pdf.set_font(family, "B", 11)
        pdf.multi_cell(0, 6, tx(f"{shown[0]}. {shown[1]}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 10)
        lines = [f"{h[k]}: {shown[k]}" for k in (2, 3, 4, 5, 6) if shown[k] not in (None, "")]
        for line in lines:
            pdf.set_x(pdf.l_margin + 34)
            pdf.multi_cell(0, 5, tx(line), new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y0 + (32 if th else 0)) + 3)
    pdf.output(str(out))
    if not keep_thumbs:
        shutil.rmtree(thumbs, ignore_errors=True)
    if ws is not None:
        ws.charge(out.stat().st_size)
    return out


def run_request(services, files, lang: str, crop=None, check_paths: bool = True):
    """One batch request end to end in its own workspace -> (batch, csv path, pdf path) in `lang`.

    The reports are made in every language (`batch["reports"][lang] = {"csv", "pdf"}`, one folder a language,
    the thumbnails made once), so the page's language switch hands out the report in the language it shows.
    Raises TooBig (code batch_too_big) when the request would write more than its budget."""
    from .i18n import LANGS

    lang = norm_lang(lang)
    ws = Workspace()
    try:
        result = run_batch(services, files, ws.dir / "work", check_paths=check_paths, crop=crop, ws=ws)
        reports = {}
        for lg in [lang] + [x for x in LANGS if x != lang]:
            (ws.dir / lg).mkdir()
            reports[lg] = {"csv": str(write_csv(services.advisor, result, lg, ws.dir / lg / "leafscout-report.csv", ws)),
                           "pdf": str(write_pdf(services.advisor, result, lg, ws.dir / lg / "leafscout-report.pdf", ws,
                                                keep_thumbs=True))}
        result["reports"] = reports
    except BaseException:
        ws.cleanup()
        raise
    shutil.rmtree(ws.dir / "work", ignore_errors=True)  # extracted members are not needed any more
    shutil.rmtree(ws.dir / "thumbs", ignore_errors=True)
    return result, Path(reports[lang]["csv"]), Path(reports[lang]["pdf"])
