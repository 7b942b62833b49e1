"""The ``mmrag`` command: ingest, ask, documents, delete, serve. Builds Settings once and
passes them down; every failure ends with a one-line message and a non-zero exit code."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from rag import items
from rag.errors import RagError
from rag.settings import Settings, check_collection

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_SKIPPED = 0, 1, 2, 3


def _quiet_libraries() -> None:
    """Set before transformers is imported (by environment: importing it to say so would
    cost ~0.9 s of every start, and a quick start needs no transformers at all)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' bars too
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from tqdm import tqdm

    from ingest.pipeline import Ingestor, walk
    from rag.service import RagService
    from rag.store.db import Process

    missing = [p for p in args.paths if not Path(p).expanduser().exists()]
    if missing:  # before any model loads
        print(f"mmrag: error: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    sources = list(walk(args.paths))
    service = RagService.from_settings(settings)
    # registered, so that processes ingesting into the same database split the files
    me = Process(service.parts.db, "ingest", settings.heartbeat_seconds).start()
    ingestor = Ingestor(service, owner=me.id)
    bar = tqdm(total=len(sources), unit="file", desc="ingesting", disable=args.quiet or None,
               file=sys.stderr)

    seen: dict[str, int] = {}

    def progress(r) -> None:  # type: ignore[no-untyped-def]
        seen[r.status] = seen.get(r.status, 0) + 1
        bar.update(1)
        bar.set_postfix_str(" ".join(f"{k} {v}" for k, v in seen.items()), refresh=False)

    try:
        report = ingestor.ingest(sources, args.collection, progress)
        bar.close()
        pruned = ingestor.prune(args.paths, args.collection) if args.prune else []
        orphans = ingestor.collect_orphans() if args.prune else 0
    finally:
        me.stop()
    print(f"collection {report.collection!r}: {len(report.files)} files in "
          f"{report.seconds:.1f}s")
    for status in ("ingested", "replaced", "unchanged", "claimed", "skipped", "failed"):
        n = report.count(status)
        if n:
            print(f"  {status:<9} {n}")
    print(f"  written   {report.chunks} text chunks, {report.images} images")
    if args.prune:
        print(f"  pruned    {len(pruned)} documents whose files are gone, {orphans} stored "
              "image copies nothing refers to")
        for doc in pruned:
            print(f"pruned: {doc.source}")
    for note in report.notes:
        print(f"note: {note}")
    for f in report.problems:
        print(f"{f.status}: {f.source}: {f.reason}")
    if args.strict and report.problems:
        return EXIT_SKIPPED
    return EXIT_OK


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from rag.embedders.clip import ClipEmbedder
    from rag.embedders.text import SentenceTransformerEmbedder
    from rag.errors import InvalidInput
    from rag.schema import Query
    from rag.service import RagService
    from server.links import Links
    from server.schemas import QueryResponse

    image = None
    if args.image:
        try:
            image = Path(args.image).read_bytes()
        except OSError as e:
            raise InvalidInput(f"cannot read image {args.image}: {e.strerror}") from e
    svc = RagService.from_settings(settings)
    if "query_runtime" not in settings.model_fields_set:
        # one question: an encoder whose checked export is cached embeds it before PyTorch is
        # even imported (the whole command in ~2 s instead of ~8); exporting one first would
        # cost more than it saves, so an encoder without one uses PyTorch
        for embedder in (svc.parts.text, svc.parts.images.embedder):
            if (isinstance(embedder, SentenceTransformerEmbedder | ClipEmbedder)
                    and not embedder.quick_start()):
                embedder.query_runtime = "torch"
    q = Query(text=args.question, image=image, collection=args.collection,
              top_k=args.top_k or settings.top_k, fusion=args.fusion or settings.fusion,
              tags=args.tag or [])
    answer = svc.answer(q, args.generator)
    if args.json:
        links = Links(args.collection, settings.default_collection)
        print(QueryResponse.from_answer(answer, links).model_dump_json(indent=2))
        return EXIT_OK
    print(answer.text)
    if answer.citations:
        print("\nSources:")
        full = {h.id: h.source for h in answer.hits}  # on this machine the path helps
        for c in answer.citations:
            where = f", {c.location}" if c.location else ""
            source = full.get(c.id, c.source)
            if c.modality == "image":
                stored = ""
                blob = next((h.metadata.get(items.BLOB) for h in answer.hits if h.id == c.id), None)
                if blob:
                    stored = str(settings.images_dir / blob)
                print(f"  [{c.n}] {source}  (image{where}, score {c.score:.2f}; "
                      f"copy: {stored})")
            else:
                print(f"  [{c.n}] {source}  (text{where}, score {c.score:.2f})")
    for note in answer.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


def cmd_documents(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.manifest import Manifest
    from rag.store.db import Database

    docs = Manifest(Database(settings.database)).list(check_collection(args.collection))
    if args.json:
        print(json.dumps([d.as_dict() for d in docs], indent=2))
        return EXIT_OK
    for d in docs:
        print(f"{d.doc_id}  {d.kind:<8} {d.chunks:>5} chunks {d.images:>3} images  "
              f"{d.ingested_at}  {d.source}" + ("" if d.status == "done" else f"  [{d.status}]"))
    print(f"{len(docs)} documents in collection {args.collection!r}")
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.pipeline import Ingestor
    from rag.service import RagService

    doc = Ingestor(RagService.from_settings(settings)).delete(args.source, args.collection,
                                               local_path=True)
    print(f"deleted {doc.source} ({doc.chunks} chunks, {doc.images} images) "
          f"from collection {args.collection!r}")
    return EXIT_OK


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from eval.cli import main as eval_main

    return eval_main(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from rag.lazy import limit_malloc_arenas
    from server.app import create_app
    from server.observability import configure_logging

    limit_malloc_arenas(settings.server.malloc_arenas)  # before the request threads start
    configure_logging(logging.DEBUG if args.verbose else logging.INFO)
    host = settings.server.host = args.host or settings.server.host
    port = args.port or settings.server.port
    # uvicorn's own access log would repeat what mmrag.access logs, without the request id
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None,
                access_log=False)
    return EXIT_OK


def cmd_mcp(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from server.agents.mcp_app import run_stdio

    run_stdio(settings, os.environ.get("MMRAG_API_KEY"))
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mmrag",
        description="Multimodal RAG: ingest text and images, ask questions, get cited answers. "
        "Configuration comes from MMRAG_* environment variables (see docs/configuration.md).",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _knowledge_commands(sub)
    _serving_commands(sub)
    return p


def _collection(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--collection", default=None, help="collection name (default: default)")


def _knowledge_commands(sub: argparse._SubParsersAction) -> None:
    """ingest, ask, documents, delete."""
    sp = sub.add_parser("ingest", help="ingest files and folders",
                        description="Ingest text (.txt .md .html), documents (.pdf .docx .pptx) "
                        "and images (.png .jpg .webp .gif .bmp .tiff). Unchanged files are "
                        "skipped, changed files replaced.")
    sp.add_argument("paths", nargs="+", metavar="PATH")
    _collection(sp)
    sp.add_argument("--strict", action="store_true",
                    help=f"exit {EXIT_SKIPPED} if any file was skipped or failed")
    sp.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sp.add_argument("--prune", action="store_true",
                    help="also remove documents ingested from under PATH whose files are gone, "
                    "and stored image copies that nothing refers to (older than an hour)")
    sp.set_defaults(fn=cmd_ingest)

    sp = sub.add_parser("ask", help="answer a question with citations",
                        description="Answer QUESTION from the collection, citing sources.")
    sp.add_argument("question", help="the question (may be '' with --image)")
    sp.add_argument("--image", help="an image file to search by")
    _collection(sp)
    sp.add_argument("--top-k", type=int, default=None)
    sp.add_argument("--fusion", choices=["raw", "calibrated", "rrf"], default=None)
    sp.add_argument("--generator", default=None, help="generator name (default: settings)")
    sp.add_argument("--tag", action="append", help="only pictures with this tag (repeatable)")
    sp.add_argument("--json", action="store_true", help="print the full answer as JSON")
    sp.set_defaults(fn=cmd_ask)

    sp = sub.add_parser("documents", help="list ingested source files")
    _collection(sp)
    sp.add_argument("--json", action="store_true")
    sp.set_defaults(fn=cmd_documents)

    sp = sub.add_parser("delete", help="remove a source everywhere",
                        description="Remove SOURCE (a path as ingested, or a document id).")
    sp.add_argument("source", metavar="SOURCE")
    _collection(sp)
    sp.set_defaults(fn=cmd_delete)


def _serving_commands(sub: argparse._SubParsersAction) -> None:
    """eval, serve, mcp."""
    sp = sub.add_parser("eval", help="evaluate retrieval and answers on a dataset",
                        description="Run a JSONL dataset in-process or against a server and "
                        "write results.jsonl, report.md and report.html; or compare two runs.")
    from eval.arguments import add_arguments

    add_arguments(sp)
    sp.set_defaults(fn=cmd_eval)

    sp = sub.add_parser("serve", help="run the HTTP API")
    sp.add_argument("--host", default=None)
    sp.add_argument("--port", type=int, default=None)
    sp.set_defaults(fn=cmd_serve)

    sp = sub.add_parser("mcp", help="the MCP server over stdio, for agents' desktop hosts",
                        description="Serve the knowledge base to an MCP host (Claude Desktop, "
                        "VS Code, Cursor) over stdin/stdout. With API keys configured, "
                        "MMRAG_API_KEY says which key's collections it serves.")
    sp.set_defaults(fn=cmd_mcp)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings()
        if getattr(args, "collection", "x") is None and args.command != "eval":
            args.collection = settings.default_collection  # eval names its own
        if getattr(args, "collection", None):
            args.collection = check_collection(args.collection)
        _quiet_libraries()
        return args.fn(args, settings)
    except RagError as e:
        print(f"mmrag: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("mmrag: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        from pydantic import ValidationError

        if isinstance(e, ValidationError):
            print(f"mmrag: bad settings: {e}", file=sys.stderr)
            return EXIT_USAGE
        raise


if __name__ == "__main__":
    sys.exit(main())
