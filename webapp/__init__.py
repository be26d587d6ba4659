"""LeafScout web app internals: i18n table, shared services and pure handlers used by app.py."""
