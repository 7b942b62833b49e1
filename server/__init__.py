"""The HTTP layer (FastAPI) and the command line: thin shells over rag.RagService and
ingest.Ingestor."""
