"""Turning files into stored items: loaders per file type, chunking, the pipeline and its
manifest."""
