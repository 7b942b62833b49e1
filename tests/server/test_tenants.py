"""API keys and collections: a key never sees another collection's data."""

import hashlib
import json
import time
from pathlib import Path

import httpx
import openai
import pytest

from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture
def tenants(settings, service, kb, tmp_path):
    keys = {"keys": [
        {"key": "alpha-key", "collections": ["alpha"]},
        {"key_sha256": hashlib.sha256(b"beta-key").hexdigest(), "collections": ["beta"]},
        {"key": "admin-key", "admin": True},
    ]}
    path = tmp_path / "keys.json"
    path.write_text(json.dumps(keys))
    settings.api_keys_file = path
    with LiveServer(service) as live:
        def client(key):
            return httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {key}"},
                                timeout=60)

        alpha, beta = client("alpha-key"), client("beta-key")
        files = [("files", ("salary.txt", (kb / "onboarding-faq.txt").read_bytes())),
                 ("files", ("red.png", (kb / "img" / "red.png").read_bytes()))]
        assert alpha.post("/v1/ingest", files=files).status_code == 200  # its one collection
        files = [("files", ("office.md", (kb / "office-guide.md").read_bytes()))]
        assert beta.post("/v1/ingest", files=files, data={"collection": "beta"}).status_code \
            == 200
        yield live, alpha, beta, client
        alpha.close()
        beta.close()


def test_keys_are_required_everywhere_but_healthz(tenants):
    live, *_ = tenants
    assert httpx.get(live.url + "/healthz").status_code == 200
    for method, path in [("GET", "/v1/models"), ("POST", "/v1/query"), ("GET", "/v1/documents"),
                         ("GET", "/metrics"), ("POST", "/v1/chat/completions")]:
        r = httpx.request(method, live.url + path, json={})
        assert r.status_code == 401, path
        assert r.json()["error"]["type"] == "authentication_error"
    r = httpx.get(live.url + "/v1/models", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.json()["error"]["message"] == "invalid API key"
    c = openai.OpenAI(base_url=live.url + "/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        c.models.list()


def test_no_leak_between_collections(tenants):
    live, alpha, beta, client = tenants
    # query and chat
    assert alpha.post("/v1/query", json={"question": "When is salary paid?"}).json()["found"]
    r = beta.post("/v1/query", json={"question": "When is salary paid?"}).json()
    assert all(Path(h["source"]).name != "salary.txt" for h in r["hits"])
    r = beta.post("/v1/query", json={"question": "When is salary paid?", "collection": "alpha"})
    assert r.status_code == 403 and "alpha" in r.json()["error"]["message"]
    c = openai.OpenAI(base_url=live.url + "/v1", api_key="beta-key", max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        c.chat.completions.create(model="mmrag", extra_body={"collection": "alpha"},
                                  messages=[{"role": "user", "content": "When is salary paid?"}])
    chat = c.chat.completions.create(model="mmrag", messages=[
        {"role": "user", "content": "When is salary paid?"}])
    assert all(x["source"] != "salary.txt" for x in chat.model_extra["citations"])
    # documents
    docs = alpha.get("/v1/documents").json()["documents"]
    assert {d["source"] for d in docs} == {"salary.txt", "red.png"}
    assert {d["source"] for d in beta.get("/v1/documents").json()["documents"]} == {"office.md"}
    assert beta.get("/v1/documents", params={"collection": "alpha"}).status_code == 403
    # images: a beta key cannot fetch alpha's image, not even knowing its id
    hit = alpha.post("/v1/query", json={"question": "red"}).json()["hits"]
    image_id = next(h["id"] for h in hit if h["modality"] == "image")
    assert alpha.get(f"/v1/images/{image_id}").status_code == 200
    assert beta.get(f"/v1/images/{image_id}").status_code == 404
    assert beta.get(f"/v1/images/{image_id}", params={"collection": "alpha"}).status_code == 403
    # delete: by id, in beta's collection it does not exist
    salary = next(d for d in docs if d["source"] == "salary.txt")
    assert beta.delete(f"/v1/documents/{salary['id']}").status_code == 404
    assert beta.delete(f"/v1/documents/{salary['id']}",
                       params={"collection": "alpha"}).status_code == 403
    assert len(alpha.get("/v1/documents").json()["documents"]) == 2
    # background jobs: visible only to keys that may see their collection
    job = alpha.post("/v1/ingest", data={"background": "true"},
                     files=[("files", ("more.txt", b"Alpha only: the vault code is 1234."))])
    assert job.status_code == 202
    assert beta.get(job.json()["status_url"]).status_code == 404
    deadline = time.time() + 60
    while alpha.get(job.json()["status_url"]).json()["status"] != "done":
        assert time.time() < deadline
        time.sleep(0.1)
    # an admin key sees both
    admin = client("admin-key")
    assert len(admin.get("/v1/documents", params={"collection": "alpha"}).json()["documents"]) \
        == 3
    admin.close()


def test_a_broken_keys_file_is_a_clear_error(settings, tmp_path):
    from rag.errors import InvalidInput
    from server.app import create_app

    bad = tmp_path / "keys.json"
    settings.api_keys_file = bad
    with pytest.raises(InvalidInput, match="cannot read API keys file"):
        create_app(settings)  # no such file
    bad.write_text("{not json")
    with pytest.raises(InvalidInput, match="invalid API keys file .*Invalid JSON"):
        create_app(settings)


@pytest.mark.parametrize(("entry", "named"), [
    ({"key": "k1", "collections": ["alpha"], "admin": "false"}, r"keys\.0\.admin"),
    ({"key": "k1", "collections": "alpha"}, r"keys\.0\.collections"),
    ({"key": "k1", "collections": ["no/slash"]}, "invalid collection name"),
    ({"key": "k1", "collections": ["alpha"], "role": "admin"}, r"keys\.0\.role"),
    ({"key": "k1"}, "needs \"collections\""),
    ({"key": "k1", "key_sha256": "00" * 32, "collections": "*"}, "exactly one of"),
])
def test_the_keys_file_is_read_strictly(settings, tmp_path, entry, named):
    """A string "false" is not a boolean and a string is not a list of collections: the
    server refuses to start and names the field, instead of granting more than was meant."""
    from rag.errors import InvalidInput
    from server.app import create_app

    path = tmp_path / "keys.json"
    path.write_text(json.dumps({"keys": [entry]}))
    settings.api_keys_file = path
    with pytest.raises(InvalidInput, match=named):
        create_app(settings)
