"""Typed errors raised by the core. server/errors.py maps each to one HTTP status."""


class RagError(Exception):
    """Base of every error mmrag raises on purpose; the message is meant for a person."""

    code = "rag_error"


class InvalidInput(RagError):
    """The caller sent something unusable: a bad image, an empty question, a bad name."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """An input exceeds a configured limit (bytes, pixels, count)."""

    code = "too_large"


class NotFound(RagError):
    code = "not_found"


class Unauthorized(RagError):
    code = "invalid_api_key"


class Forbidden(RagError):
    """A valid key asked for a collection it may not see."""

    code = "forbidden"


class Overloaded(RagError):
    """Too much work in flight; ``retry_after`` says when to come back, in seconds."""

    code = "overloaded"

    def __init__(self, message: str, retry_after: int = 1):
        super().__init__(message)
        self.retry_after = retry_after


class QueueFull(Overloaded):
    """A bounded queue (background ingestion) is full; come back after ``retry_after``."""

    code = "queue_full"


class Unavailable(RagError):
    """An engine mmrag depends on (the Chroma server, the database, the blob store) cannot be
    reached now; the request may succeed after ``retry_after`` seconds."""

    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 5):
        super().__init__(message)
        self.retry_after = retry_after


class UpstreamError(RagError):
    """A remote model API failed or could not be reached."""

    code = "upstream_error"


class ModelUnavailable(RagError):
    """A model could not be loaded; the message says how to provide it."""

    code = "model_unavailable"


class StoreError(RagError):
    """The vector store refused an operation (for example a dimension mismatch)."""

    code = "store_error"


class MissingExtra(RagError):
    """A feature was asked for whose optional packages are not installed; the message names
    the extra that brings them (``pip install 'mmrag[replicas]'``)."""

    code = "missing_extra"
