"""What tests and benchmarks share: in-memory fakes of the store and the embedders
(``fakes``), and tiny random-weight models built from configs (``models``). Shipped, as
Haystack ships ``haystack.testing``, so that a deployment can test its own parts against the
same contracts; nothing in mmrag's serving path imports it."""
