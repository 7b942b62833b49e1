"""The knowledge base for agents: an MCP server on the official SDK (``mcp``'s MCPServer).

Tools: ``search`` (hits of both channels: passages as text, pictures as image content with
the text read in them), ``answer`` (the cited answer, structured), ``list_collections``,
``list_documents`` and ``fetch`` (a passage, a picture or a PDF page); resources for items and
documents (``mmrag://<collection>/items/<id>``, ``mmrag://<collection>/documents/<id>``).
``mmrag serve`` serves it at ``/mcp`` (streamable HTTP, stateless, so any replica answers any
request); ``mmrag mcp`` over stdio for desktop hosts (``mcp_app``). The tools' work is in
``tools``."""
