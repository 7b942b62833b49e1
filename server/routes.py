"""HTTP routes: each parses, makes one service call on the worker pool and shapes the reply."""

from __future__ import annotations

import html
import re
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

import rag
from ingest.pipeline import IngestReport, Source
from rag.errors import InvalidInput, NotFound, TooLarge
from rag.images import decode_base64_image
from rag.items import display_source
from rag.schema import Query as RagQuery
from rag.settings import COLLECTION_PATTERN
from rag.text_input import clean_name, clean_text

from .deps import (
    CollectionParam,
    IngestorDep,
    JobsDep,
    LinkPrincipalDep,
    LinksDep,
    MetricsDep,
    PrincipalDep,
    ServiceDep,
    SettingsDep,
    WorkerDep,
)
from .schemas import (
    COMMON_ERRORS,
    INGEST_RESPONSES,
    NOT_FOUND,
    DocumentList,
    DocumentOut,
    FileResultOut,
    IngestResponse,
    QueryRequest,
    QueryResponse,
)

router = APIRouter(responses=COMMON_ERRORS)
# a form's yes or no, as HTML forms and HTTP clients write it (httpx sends True as "True")
FormBool = Literal["true", "false", "True", "False", "1", "0"]
TRUE = ("true", "True", "1")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


@router.get("/healthz")
def healthz(service: ServiceDep) -> dict:
    return {"status": "ok", "version": rag.__version__, **service.status()}


@router.get("/readyz", responses={503: {"description": "an engine is not reachable yet"}})
async def readyz(request: Request, service: ServiceDep) -> JSONResponse:
    """Readiness: the models are loaded and the vector store, the database and the blob store
    answer. A load balancer sends traffic only to replicas that say 200."""
    checks = await run_in_threadpool(service.readiness)  # not the inference pool: never queued
    checks["models"] = "ok" if getattr(request.app.state, "ready", False) else "loading"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks,
                         "images": service.status()["images"]},
                        status_code=200 if ready else 503,
                        headers=None if ready else {"Retry-After": "5"})


@router.get("/metrics", include_in_schema=False)
def metrics(metrics: MetricsDep, _: PrincipalDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/v1/models")
def models(settings: SettingsDep, _: PrincipalDep) -> dict:
    """``mmrag`` (the configured generator, the name the docs tell clients to use) and
    the generators configured here, in the OpenAI list shape; ``model`` picks one."""
    from rag.answer.generators import configured

    names = ["mmrag", *configured(settings)]
    return {"object": "list", "data": [
        {"id": name, "object": "model", "created": 0, "owned_by": "mmrag",
         "default": name in ("mmrag", settings.generator)} for name in names]}


@router.post("/v1/query", response_model=QueryResponse)
async def query(body: QueryRequest, service: ServiceDep, settings: SettingsDep,
                work: WorkerDep, who: PrincipalDep, metrics: MetricsDep,
                links: LinksDep) -> QueryResponse:
    if len(body.question) > settings.server.max_question_chars:
        raise TooLarge(f"question is {len(body.question):,} characters, over the limit of "
                       f"{settings.server.max_question_chars:,}")
    question = clean_text(body.question, "the question")
    tags = [clean_text(t, "a tag") for t in body.tags]
    image = (decode_base64_image(body.image, settings.server.max_upload_bytes)
             if body.image else None)
    q = RagQuery(
        text=question,
        image=image,
        collection=who.collection(body.collection, settings.default_collection),
        top_k=body.top_k or settings.top_k,
        fusion=body.fusion or settings.fusion,
        tags=tags,
    )
    answer = await work(service.answer, q, body.generator)
    observe(metrics, answer.timings_ms, answer.generator)
    return QueryResponse.from_answer(answer, links.for_collection(q.collection))


def observe(metrics: MetricsDep, timings_ms: dict[str, float], generator: str) -> None:
    retrieval = sum(timings_ms.get(k, 0.0) for k in ("embed_ms", "search_ms", "fuse_ms"))
    metrics.retrieval.observe(retrieval / 1000)
    if "generate_ms" in timings_ms:
        metrics.generation.labels(generator).observe(timings_ms["generate_ms"] / 1000)


def _upload_name(raw: str | None) -> str:
    """The file's own name, without any directories a client put in it."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", "..") or _UNSAFE.search(name):
        raise InvalidInput(f"unusable file name {raw!r}")
    name = clean_name(name).strip()  # one spelling of a name is one document
    if not name or name in (".", ".."):
        raise InvalidInput(f"unusable file name {raw!r}")
    return name


@router.post("/v1/ingest", response_model=None, responses=INGEST_RESPONSES)
async def ingest(
    ingestor: IngestorDep,
    settings: SettingsDep,
    work: WorkerDep,
    who: PrincipalDep,
    metrics: MetricsDep,
    jobs: JobsDep,
    files: Annotated[list[UploadFile], File(description="one or more files")],
    collection: Annotated[str | None, Form(
        description="collection name, case-insensitive; empty or absent: 'default'",
        # an empty form field is no value, as HTML forms send it
        json_schema_extra={"pattern": f"^$|{COLLECTION_PATTERN}"})] = None,
    background: Annotated[FormBool, Form(description="run as a job; large uploads always do")]
    = "false",
) -> IngestResponse | JSONResponse:
    coll = who.collection(collection, settings.default_collection)
    limit = settings.server.max_upload_bytes
    sources: list[Source] = []
    for f in files:
        try:
            name = _upload_name(f.filename)
        except InvalidInput as e:
            sources.append(Source(f.filename or "(no name)", error=str(e)))
            continue
        if any(s.name == name for s in sources):
            raise InvalidInput(f"two files named {name!r} in one upload: each name is one "
                               "document, so give them different names")
        data = await f.read(limit + 1)
        if len(data) > limit:
            raise TooLarge(f"upload {name!r} is over the limit of {limit:,} bytes")
        sources.append(Source(name, data=data))
    total = sum(len(s.data or b"") for s in sources)
    if background in TRUE or total > settings.server.background_ingest_bytes:
        job = jobs.submit(sources, coll)
        return JSONResponse({"job_id": job.id, "status": job.status,
                             "status_url": f"/v1/jobs/{job.id}"}, status_code=202)
    report: IngestReport = await work(ingestor.ingest, sources, coll)
    metrics.ingested.labels("text").inc(report.chunks)
    metrics.ingested.labels("image").inc(report.images)
    return IngestResponse(
        collection=coll,
        files=[FileResultOut(**vars(r)) for r in report.files],
        chunks=report.chunks,
        images=report.images,
        skipped=report.count("skipped"),
        failed=report.count("failed"),
        seconds=round(report.seconds, 3),
        notes=report.notes,
    )


@router.get("/v1/jobs/{job_id}", responses=NOT_FOUND)
def job_status(job_id: str, jobs: JobsDep, who: PrincipalDep) -> dict:
    """Progress of a background ingestion; only keys that may see its collection see it."""
    job = jobs.get(job_id)
    if job is None or (who.collections is not None and job["collection"] not in who.collections):
        raise NotFound(f"no job {job_id!r}")
    return job


@router.get("/v1/documents", response_model=DocumentList, responses=NOT_FOUND)
async def documents(ingestor: IngestorDep, service: ServiceDep, settings: SettingsDep,
                    work: WorkerDep, who: PrincipalDep,
                    collection: CollectionParam = None) -> DocumentList:
    coll = who.collection(collection, settings.default_collection)
    await work(service.check_exists, coll)
    docs = await work(ingestor.documents, coll)
    return DocumentList(collection=coll, documents=[
        DocumentOut(id=d.doc_id, **{**{k: v for k, v in d.as_dict().items()
                                       if k in DocumentOut.model_fields},
                                    "source": display_source(d.source)}) for d in docs])


@router.delete("/v1/documents/{doc_id}", responses=NOT_FOUND)
async def delete_document(doc_id: str, ingestor: IngestorDep, settings: SettingsDep,
                          work: WorkerDep, who: PrincipalDep,
                          collection: CollectionParam = None) -> dict:
    coll = who.collection(collection, settings.default_collection)
    doc = await work(ingestor.delete, doc_id, coll)
    return {"deleted": {"id": doc.doc_id, "source": display_source(doc.source),
                        "collection": coll}}


@router.get("/v1/images/{item_id}", responses={
    **NOT_FOUND, 200: {"description": "the stored image", "content": {"image/*": {}}}})
async def image(item_id: str, ingestor: IngestorDep, settings: SettingsDep, work: WorkerDep,
                who: LinkPrincipalDep, collection: CollectionParam = None) -> FileResponse:
    coll = who.collection(collection, settings.default_collection)
    path, mime = await work(ingestor.image_file, coll, item_id)
    return FileResponse(path, media_type=mime, headers={"Cache-Control": "max-age=86400"})


@router.get("/v1/items/{item_id}", response_model=None, responses={
    **NOT_FOUND, 200: {"description": "the cited passage or picture: JSON, or a page for a "
                       "browser", "content": {"application/json": {}, "text/html": {}}}})
async def item(item_id: str, request: Request, ingestor: IngestorDep, settings: SettingsDep,
               work: WorkerDep, who: LinkPrincipalDep, links: LinksDep,
               collection: CollectionParam = None) -> dict | HTMLResponse:
    """What a citation points at: the passage's text with its source and page or slide, or a
    picture with the text read in it. A browser (Accept: text/html) gets a small page."""
    coll = who.collection(collection, settings.default_collection)
    found = await work(ingestor.item, coll, item_id)
    made = links.for_collection(coll)
    image_url = (made.image(found["image_id"]) if found["image"] else
                 made.page(item_id) if found["pdf_page"] else None)
    view = {**found, "source": display_source(found["source"]), "collection": coll,
            "image_url": image_url}
    for internal in ("image_id", "file_blob", "pdf_page"):
        view.pop(internal)
    if "text/html" not in request.headers.get("accept", ""):
        return view
    title = html.escape(" - ".join(x for x in (view["source"], found["location"]) if x))
    body = f"<h1>{title}</h1>"
    if image_url:
        body += f'<p><img src="{html.escape(image_url)}" alt="{title}" style="max-width:100%"></p>'
    if found["text"]:
        body += "".join(f"<p>{html.escape(p)}</p>" for p in found["text"].split("\n\n"))
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{title}"
                        f"</title></head><body style='font-family:sans-serif;max-width:50em;"
                        f"margin:2em auto'>{body}</body></html>",
                        headers={"Content-Security-Policy": "default-src 'none'; img-src 'self'; "
                                 "style-src 'unsafe-inline'"})


@router.get("/v1/items/{item_id}/page", responses={
    **NOT_FOUND, 200: {"description": "the PDF page the item was read from, as PNG",
                       "content": {"image/png": {}}}})
async def item_page(item_id: str, ingestor: IngestorDep, settings: SettingsDep,
                    work: WorkerDep, who: LinkPrincipalDep,
                    collection: CollectionParam = None) -> Response:
    """The page of a PDF a passage comes from, rendered in a decoder process."""
    coll = who.collection(collection, settings.default_collection)
    png = await work(ingestor.render_page, coll, item_id)
    return Response(png, media_type="image/png", headers={"Cache-Control": "max-age=86400"})
