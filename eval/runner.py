"""Running a dataset: in-process against RagService, or over HTTP against a running mmrag
(its own /v1/query, or the OpenAI-compatible /v1/chat/completions). Every case becomes one
record with the answer, citations, hits, timings, usage and its metrics."""

from __future__ import annotations

import base64
import json
import posixpath
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rag import items
from rag.errors import InvalidInput, RagError, UpstreamError

from . import metrics as m
from .dataset import Case


class InProcess:
    """Uses the same RagService and Ingestor as the CLI and server."""

    kind = "in-process"

    def __init__(self, settings: Any, generator: str | None = None):
        from ingest.pipeline import Ingestor
        from rag.service import RagService

        self.service = RagService.from_settings(settings)
        self.ingestor = Ingestor(self.service)
        self.generator = generator

    def configure(self, lexical: bool, max_per_document: int, refusal: str,
                  answer_vectors: str = "words", multilingual: str = "auto") -> None:
        """Turn the answer features on or off between runs (--ablate features); the
        multilingual channel's vectors stay stored, its questions are not asked."""
        self.service.configure(lexical=lexical, max_per_document=max_per_document,
                               refusal=refusal, answer_vectors=answer_vectors,
                               multilingual=multilingual)

    def ingest(self, folder: Path, collection: str) -> str:
        report = self.ingestor.ingest_paths([folder], collection)
        return (f"{folder}: {report.count('ingested', 'replaced')} new, "
                f"{report.count('unchanged')} unchanged, {len(report.problems)} skipped")

    def ask(self, case: Case, collection: str, top_k: int, fusion: str) -> dict[str, Any]:
        from rag.schema import Query

        image = case.image.read_bytes() if case.image else None
        a = self.service.answer(Query(text=case.question, image=image, collection=collection,
                                      top_k=top_k, fusion=fusion),  # type: ignore[arg-type]
                                self.generator)
        return {"clipscore": self.clipscore(image, a.text) if image and a.found else None,
            "answer": a.text, "found": a.found, "generator": a.generator, "notes": a.notes,
            "hits": [{"id": h.id, "source": h.source, "modality": h.modality,
                      "raw_score": h.raw_score, "calibrated_score": h.calibrated_score,
                      "score": h.score, "text": h.text, "ref": h.metadata.get(items.REF),
                      "shows": h.metadata.get(items.SHOWS)}
                     for h in a.hits],
            "citations": [{"n": c.n, "id": c.id, "source": c.source, "modality": c.modality,
                           "location": c.location, "cited": c.cited, "snippet": c.snippet}
                          for c in a.citations],
            "timings_ms": a.timings_ms, "answerability": a.answerability,
            "usage": {"prompt_tokens": a.usage.prompt_tokens,
                      "completion_tokens": a.usage.completion_tokens},
        }

    def ocr(self, image: bytes) -> str | None:
        """What the ingestion OCR reads in the case's image (for CER/WER)."""
        from rag.images import decode_image

        ocr = self.ingestor.ocr
        if ocr is None:
            return None
        return ocr.read(decode_image(image, self.service.settings.ingest.max_image_pixels)[0]).text

    def clipscore(self, image: bytes, text: str) -> float | None:
        """CLIPScore of the answer as a caption of the question's image (CLIP needed)."""
        from rag.images import decode_image

        clip = self.service.image_embedder()
        words = m.normalize(text)
        if clip is None or not words:
            return None
        img, _ = decode_image(image, self.service.settings.ingest.max_image_pixels)
        return m.clip_score(clip.embed_pixels(clip.preprocess([img]))[0].tolist(),
                            clip.embed_text([words])[0].tolist())

    def judge(self, name: str, answer: str, evidence: list[str]) -> float | None:
        """An LLM's verdict on whether the answer is supported by the evidence (1 or 0)."""
        from rag.answer.generators.base import collect
        from rag.protocols import GenerationRequest
        from rag.schema import Hit

        if not answer.strip() or not evidence:
            return None
        hits = [(i, Hit(id=str(i), modality="text", source="evidence", raw_score=1,
                        calibrated_score=10, score=10, channel="judge", text=t))
                for i, t in enumerate(evidence, 1)]
        question = ("Is every statement of the following answer supported by the evidence? "
                    f"Reply with YES or NO only.\nAnswer: {answer}")
        req = GenerationRequest(question, hits, max_tokens=5, options={"stream": False})
        verdict = collect(self.service.generator(name).generate(req))[0].strip().upper()
        return 1.0 if verdict.startswith("YES") else 0.0 if verdict.startswith("NO") else None


class OverHttp:
    """A running mmrag: ``api`` 'native' uses /v1/query, 'openai' /v1/chat/completions."""

    def __init__(self, url: str, api: str = "native", api_key: str | None = None,
                 generator: str | None = None, timeout: float = 300):
        import httpx

        self.kind = f"http-{api}"
        self.api = api
        self.generator = generator
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def _post(self, path: str, **kw: Any) -> dict[str, Any]:
        import httpx

        try:
            r = self.http.post(path, **kw)
        except httpx.HTTPError as e:
            raise UpstreamError(f"cannot reach {self.http.base_url}: {e}") from e
        if r.status_code >= 400:
            try:
                msg = r.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                msg = r.text[:200]
            raise UpstreamError(f"{path} answered {r.status_code}: {msg}")
        return r.json()

    def ingest(self, folder: Path, collection: str) -> str:
        from ingest.pipeline import walk

        files = [s.path for s in walk([folder]) if s.path is not None]
        done = 0
        for i in range(0, len(files), 16):
            batch = [("files", (p.name, p.read_bytes())) for p in files[i:i + 16]]
            body = self._post("/v1/ingest", files=batch, data={"collection": collection})
            done += len(body["files"])
        return f"{folder}: {done} files uploaded"

    def ask(self, case: Case, collection: str, top_k: int, fusion: str) -> dict[str, Any]:
        image = base64.b64encode(case.image.read_bytes()).decode() if case.image else None
        if self.api == "openai":
            content: Any = case.question
            if image:
                content = [{"type": "text", "text": case.question},
                           {"type": "image_url",
                            "image_url": {"url": f"data:image/png;base64,{image}"}}]
            body = self._post("/v1/chat/completions", json={
                "model": self.generator or "mmrag", "collection": collection, "top_k": top_k,
                "fusion": fusion, "messages": [{"role": "user", "content": content}]})
            extra = body.get("mmrag", {})
            cites = body.get("citations", [])
            return {"answer": body["choices"][0]["message"]["content"],
                    "found": extra.get("found", bool(cites)),
                    "generator": extra.get("generator", body.get("model")),
                    "notes": extra.get("notes", []),
                    "hits": [{"id": c["id"], "source": c["source"], "modality": c["modality"],
                              "score": c["score"], "location": c.get("location")}
                             for c in cites],
                    "citations": cites, "timings_ms": extra.get("timings_ms", {}),
                    "usage": {k: body.get("usage", {}).get(k, 0)
                              for k in ("prompt_tokens", "completion_tokens")}}
        body = self._post("/v1/query", json={
            "question": case.question, "image": image, "collection": collection,
            "top_k": top_k, "fusion": fusion, "generator": self.generator})
        return {"answer": body["answer"], "found": body["found"],
                "generator": body["generator"], "notes": body["notes"], "hits": body["hits"],
                "citations": body["citations"], "timings_ms": body["timings_ms"],
                "answerability": body.get("answerability", {}), "usage": body["usage"]}


def shown(hit: dict[str, Any]) -> str:
    """Where a hit comes from, for relevance: its source, or for a picture a page shows
    (``<img src="images/a.png">``), the picture's own file beside the page, so a question
    about that screenshot finds it whether it was ingested alone or with its page."""
    ref = hit.get("ref") or (hit.get("metadata") or {}).get(items.REF)
    location = hit.get("location") or ""
    if not ref and location.startswith("image "):
        ref = location.removeprefix("image ")
    source = hit["source"].replace("\\", "/")
    if not ref or "://" in ref:
        return source
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), ref))


def _read(hit: dict[str, Any]) -> str | None:
    """A hit's evidence as the answer could quote it: its text, and the pictures a page's
    passage shows with the text read in them (``items.SHOWS``)."""
    shows = hit.get("shows") or (hit.get("metadata") or {}).get(items.SHOWS)
    if not shows:
        return hit.get("text")
    try:
        read = [f"image {ref}\n{text}" for ref, text in json.loads(shows)]
    except (ValueError, TypeError):
        read = []
    return "\n".join([hit.get("text") or "", *read])


def score(case: Case, rec: dict[str, Any], k: int) -> dict[str, float | None]:
    """The case's metrics; None where a metric does not apply."""
    out: dict[str, float | None] = {}
    hits = [(shown(h), h["id"]) for h in rec["hits"]]
    if case.relevant:
        flags = m.relevance_flags(hits, case.relevant)
        out.update({f"hit@{k}": m.hit_at_k(flags, k),
                    f"recall@{k}": m.recall_at_k(flags, len(case.relevant), k),
                    "mrr": m.mrr(flags), f"ndcg@{k}": m.ndcg_at_k(flags, len(case.relevant), k)})
    out["refusal_correct"] = m.refusal_correct(rec["found"], case.unanswerable)
    cited = [c for c in rec["citations"] if c.get("cited")]
    if case.answers and rec["found"]:
        a = rec["answer"]
        out.update({"exact_match": m.exact_match(a, case.answers),
                    "token_f1": m.token_f1(a, case.answers),
                    "rouge_l": m.rouge_l(a, case.answers),
                    "bleu": m.bleu(a, case.answers),
                    "containment": m.containment(a, case.answers)})
    elif case.answers and not case.unanswerable:
        # refused although the knowledge base answers it: the answer holds none of the fact
        out.update({"exact_match": 0.0, "token_f1": 0.0, "rouge_l": 0.0, "bleu": 0.0,
                    "containment": 0.0})
    if rec["found"] and case.relevant:
        out["citation_precision"] = m.citation_precision(
            [(shown(c), c["id"]) for c in cited], case.relevant)
    if rec["found"]:
        # the full evidence text where the hits carry it (snippets are cut short)
        full = {h["id"]: _read(h) for h in rec["hits"]}
        evidence = [full.get(c["id"]) or c.get("snippet") or ""
                    for c in (cited or rec["citations"])]
        out["groundedness"] = m.groundedness(rec["answer"], evidence)
    if rec.get("clipscore") is not None:
        out["clipscore"] = rec["clipscore"]
    return out


def ocr_metrics(case: Case, rec: dict[str, Any]) -> dict[str, float]:
    if case.ocr_text is None or rec.get("ocr_text") is None:
        return {}
    return {"ocr_cer": m.cer(rec["ocr_text"], case.ocr_text),
            "ocr_wer": m.wer(rec["ocr_text"], case.ocr_text)}


def run(cases: list[Case], backend: Any, collection: str, top_k: int, fusion: str,
        out: Path, judge: str | None = None, ingest: bool = True,
        progress: Callable[[Iterable[Case]], Iterable[Case]] | None = None,
        log: Callable[[str], None] = print) -> list[dict[str, Any]]:
    """Run every case, writing ``results.jsonl`` in ``out`` as it goes."""
    out.mkdir(parents=True, exist_ok=True)
    if ingest:
        for folder in sorted({c.corpus for c in cases if c.corpus}, key=str):
            log("ingest " + backend.ingest(folder, collection))
    records = []
    with open(out / "results.jsonl", "w") as f:
        for case in (progress or (lambda x: x))(cases):
            t0 = time.perf_counter()
            empty: dict[str, Any] = {"answer": "", "found": False, "generator": None,
                                     "notes": [], "hits": [], "citations": [],
                                     "timings_ms": {}, "usage": {}}
            try:
                rec = backend.ask(case, collection, top_k, fusion) if case.ask else empty
                error = None
            except (RagError, InvalidInput) as e:
                rec, error = dict(empty), str(e)
            rec["latency_ms"] = (time.perf_counter() - t0) * 1000 if case.ask else None
            if case.ocr_text is not None and case.image and hasattr(backend, "ocr"):
                rec["ocr_text"] = backend.ocr(case.image.read_bytes())  # apart from retrieval
            metrics = {**(score(case, rec, top_k) if error is None and case.ask else {}),
                       **ocr_metrics(case, rec)}
            if judge and error is None and rec["found"] and hasattr(backend, "judge"):
                snippets = [c.get("snippet") or "" for c in rec["citations"]]
                metrics["groundedness_llm"] = backend.judge(judge, rec["answer"], snippets)
            line = {"id": case.id, "question": case.question, "modality": case.modality,
                    "group": case.group,
                    "unanswerable": case.unanswerable, "image": str(case.image or ""),
                    "answers": case.answers, "relevant": case.relevant, **rec,
                    "error": error, "metrics": metrics}
            f.write(json.dumps(line) + "\n")
            records.append(line)
    return records
