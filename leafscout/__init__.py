"""LeafScout: offline crop-leaf diagnosis with organic-only advice.

Installed, the design's folders live under this package (`leafscout.model`, `leafscout.advisor`,
`leafscout.training`, `leafscout.fieldlog`, `leafscout.webapp`; pyproject.toml maps them). In a source checkout
they stay at the repository's top level, beside this folder; the lines below let `import leafscout.model` find
them there too, so a checkout works the same with or without `pip install -e`.
"""
from pathlib import Path as _Path

__version__ = "0.1.0"

_CHECKOUT = _Path(__file__).resolve().parent.parent
if not (_Path(__file__).parent / "model").is_dir() and (_CHECKOUT / "model" / "__init__.py").is_file() \
        and (_CHECKOUT / "pyproject.toml").is_file():
    __path__.append(str(_CHECKOUT))  # noqa: F821  (a package's __path__: submodules are looked up there too)
