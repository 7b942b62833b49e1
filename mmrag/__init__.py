"""The composition root: the ``mmrag`` command line, which may import every layer (rag,
ingest, server, eval); nothing imports it."""
