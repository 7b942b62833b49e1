"""Contract suites for the parts that have several implementations: the vector store
(``store``), the full-text index (``lexical``) and the blob store (``blobs``). Each is a set
of pytest mixins, one per part of the protocol; an implementation's tests subclass them and
give the fixture they ask for. They need pytest, which only the test extra installs."""
