"""The composition root: the ``mmrag`` command line, which may import every layer (rag,
ingest, server, eval); nothing else in the project imports it. Also the retrievers that
frameworks use over HTTP (``mmrag.llamaindex``, ``mmrag.langchain``, on ``mmrag.client``)."""
