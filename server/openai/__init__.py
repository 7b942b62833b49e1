"""The OpenAI-compatible API, split as vLLM splits its own: ``protocol`` (the wire shapes),
``serving`` (the logic), ``routes`` (thin FastAPI handlers), ``images`` (image URLs)."""
