"""Load, schema-check and cache the knowledge base. Imports no advice or rendering code, so
`advice -> render -> loading` has no cycle back to the engine."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .kb import KnowledgeBase, read_kb
from .labels import detector_labels, model_labels
from .schema import validate


@lru_cache(maxsize=8)
def load_kb(kb_dir: str = "", labels_file: str | None = None, require_all_labels: bool = True) -> KnowledgeBase:
    kb = read_kb(kb_dir or None)
    kb.model_labels = model_labels(labels_file)
    kb.detector_labels = detector_labels(labels_file)
    validate(kb, require_all_labels=require_all_labels and bool(kb.model_labels))
    link_products(kb)
    return kb


def link_products(kb: KnowledgeBase) -> None:
    """Give each substance entry (prohibited or treatment) the trade names of products.yaml that hold it, as
    `_products: {product id: product}`. The advisor builds its substance index from the prohibited and treatment
    sections, so this is how "Karate" reaches lambda-cyhalothrin's entry. Run after `validate` (every product's
    substances exist); running it twice changes nothing."""
    from .substances import SubstanceIndex
    index = SubstanceIndex(kb.prohibited, kb.treatments, products={})
    sections = {"prohibited": kb.prohibited, "treatment": kb.treatments}
    for pid, product in kb.products.items():
        for sub in product.get("substances") or []:
            hit = index.resolve(str(sub))
            if hit is not None:
                sections[hit[0]][hit[1]].setdefault("_products", {})[pid] = product


def default_rules() -> dict:
    """The shipped knowledge base's rules section (headings, statuses) for rendering."""
    return load_kb().rules


def kb_dir_key(kb_dir: str | Path | None) -> str:
    return str(kb_dir or "")
