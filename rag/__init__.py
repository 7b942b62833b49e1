"""mmrag core: domain types, settings, embedders, the vector store, retrieval and generation.

Importing this package is cheap: torch, transformers and chromadb load inside the adapters
that need them, on first use.
"""

__version__ = "0.1.0"
