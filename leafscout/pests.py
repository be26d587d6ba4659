"""Insects found in a photo -> counts -> the knowledge base's action threshold -> act or not. Pure functions.

The detector (model/detect.py) finds and names insects; the advisor's knowledge base (advisor/kb/) holds, for the
rice pests, a machine-readable `action_threshold: {count, unit, text_en, text_vi, source, ...}`. Here the count
from one photo is compared with it:

- `per_hill` thresholds (brown planthopper 10 per hill at mid-tillering, rice bug 2 per hill from flowering to
  milk stage) are compared on the assumption that one photo shows about one rice hill. A photo rarely shows all
  of a hill (planthoppers sit at the stem bases, partly hidden), so the count is a lower bound: reaching the
  threshold says act; staying under it says "count whole hills before deciding", never "all clear".
- thresholds in units a photo of the insect does not give (damaged leaves per hill, egg masses per m², % of
  plants) are not compared (`act: null`); the text says what to count instead.
- an insect the knowledge base has no entry for gets `act: null` and says so.

Texts come in both languages ({"en": ..., "vi": ...}), like the advisor's, so JSON stays language-free.
"""
from __future__ import annotations

from collections import Counter

# units whose threshold counts insects on one hill: one photo ~ one hill
PER_PHOTO_UNITS = ("per_hill",)
# detector labels that are not one KB problem: where to look for advice instead
SEE_ALSO = {"rice.caterpillar": ("rice.leaf_folder", "rice.stem_borer")}


def pest_counts(pests) -> dict[str, int]:
    """{label: number of boxes}, labels sorted."""
    return dict(sorted(Counter(p.label if hasattr(p, "label") else p["label"] for p in pests).items()))


def _num(x) -> str:
    x = float(x)
    return str(int(x)) if x == int(x) else f"{x:g}"


def _unit_names(rules: dict, unit: str) -> dict:
    return dict((rules.get("threshold_units") or {}).get(unit) or {"en": unit, "vi": unit})


def pest_action(label: str, count: int, problems: dict, rules: dict, names: dict | None = None) -> dict:
    """One insect label and its count in a photo -> {label, name, count, threshold, unit, act, text, source}.

    `problems`: the knowledge base's problems (id -> entry), `rules`: its rules (for unit names)."""
    p = problems.get(label)
    name = dict(p["names"]) if p else dict(names or {"en": label, "vi": label})
    out = {"label": label, "name": name, "count": int(count), "threshold": None, "unit": None, "act": None,
           "in_knowledge_base": p is not None, "source": None, "text": None}
    if p is None:
        see = [problems[s]["names"] for s in SEE_ALSO.get(label, ()) if s in problems]
        also_en = "; see the advice for " + " and ".join(n["en"] for n in see) if see else ""
        also_vi = "; xem hướng dẫn cho " + " và ".join(n["vi"] for n in see) if see else ""
        out["text"] = {
            "en": f"{count} found in this photo. The knowledge base has no entry and no action threshold for this "
                  f"insect yet{also_en}. Ask your extension officer before treating.",
            "vi": f"Tìm thấy {count} con trong ảnh. Cơ sở dữ liệu chưa có thông tin và ngưỡng phòng trừ cho loài côn "
                  f"trùng này{also_vi}. Hỏi cán bộ khuyến nông trước khi xử lý."}
        return out
    at = p.get("action_threshold")
    if not at:
        out["text"] = {"en": f"{count} found in this photo. The knowledge base gives no action threshold for "
                             f"{name['en']}: follow the monitoring advice.",
                       "vi": f"Tìm thấy {count} con trong ảnh. Cơ sở dữ liệu không có ngưỡng phòng trừ cho "
                             f"{name['vi']}: làm theo hướng dẫn theo dõi đồng ruộng."}
        return out
    unit, thr = str(at["unit"]), float(at["count"])
    un = _unit_names(rules, unit)
    out.update(threshold=thr, unit=unit, source=at.get("source"))
    stage_en = f", stage: {at['stage_en']}" if at.get("stage_en") else ""
    stage_vi = f", giai đoạn {at['stage_vi']}" if at.get("stage_vi") else ""
    if unit in PER_PHOTO_UNITS:
        act = count >= thr
        out["act"] = act
        head_en = (f"{count} {name['en'].lower()} in this photo; the action threshold is {_num(thr)} {un['en']}"
                   f"{stage_en}. Assuming the photo shows about one hill: ")
        head_vi = (f"Ảnh có {count} con {name['vi'].lower()}; ngưỡng phòng trừ là {_num(thr)} {un['vi']}{stage_vi}. "
                   f"Coi như ảnh chụp khoảng một khóm lúa: ")
        if act:
            out["text"] = {"en": head_en + "at or above the threshold, act. " + at["text_en"],
                           "vi": head_vi + "đã tới ngưỡng, cần xử lý. " + at["text_vi"]}
        else:
            out["text"] = {
                "en": head_en + "below the threshold in this photo. A photo rarely shows a whole hill, so count the "
                                "insects on whole hills across the field before deciding. " + at["text_en"],
                "vi": head_vi + "chưa tới ngưỡng trong ảnh này. Một ảnh hiếm khi chụp hết cả khóm, nên hãy đếm trên "
                                "nhiều khóm rải khắp ruộng trước khi quyết định. " + at["text_vi"]}
        return out
    out["text"] = {
        "en": f"{count} found in this photo. Its action threshold counts {un['en']}, which a photo of the insect does "
              f"not give, so the count is not compared: " + at["text_en"],
        "vi": f"Tìm thấy {count} con trong ảnh. Ngưỡng phòng trừ tính theo {un['vi']}, điều mà ảnh chụp côn trùng "
              f"không cho biết, nên không so sánh số đếm: " + at["text_vi"]}
    return out


def pest_actions(counts: dict[str, int], problems: dict, rules: dict) -> list[dict]:
    return [pest_action(label, n, problems, rules) for label, n in sorted(counts.items())]
