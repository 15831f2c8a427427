"""Uploads over the GraphQL multipart request spec (real HTTP against the live server):
CSRF prevention, the size limit, content types sniffed from the bytes, GridFS storage,
and downloads through short-lived signed links."""

import hashlib
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from beanie import PydanticObjectId

from models.audit import AuditEntry
from models.documents.records import DocumentRecord
from resolvers.documents import files as document_files
from tests.support.documents import (
    PDF_BYTES,
    PNG_BYTES,
    PREFLIGHT,
    post_upload,
    stored_documents,
    upload,
)

JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64


async def test_upload_records_sniffed_type_hash_and_owner(api, world) -> None:
    investor = world("acme", "investor")
    result = await upload(api, investor.token, PDF_BYTES, filename="My Report.pdf")
    doc = result.ok()["uploadDocument"]
    assert doc["contentType"] == "application/pdf"
    assert doc["size"] == len(PDF_BYTES)
    assert doc["sha256"] == hashlib.sha256(PDF_BYTES).hexdigest()
    assert doc["filename"] == "My Report.pdf"
    assert doc["owner"]["id"] == investor.id
    assert doc["category"] == "OTHER" and doc["reviewStatus"] is None
    entry = await AuditEntry.find_one({"action": "document.upload"})
    assert entry is not None and entry.detail["sha256"] == doc["sha256"]


@pytest.mark.parametrize(
    ("data", "expected", "name"),
    [
        (PNG_BYTES, "image/png", "scan.png"),
        (JPEG_BYTES, "image/jpeg", "photo.jpg"),
        ("Grüße, plain text\n".encode(), "text/plain", "notes.txt"),
    ],
)
async def test_each_allowed_type_is_recognised_from_its_bytes(
    api, world, data, expected, name
) -> None:
    result = await upload(
        api, world("acme", "investor").token, data, filename="upload.bin", client_type="x/y"
    )
    doc = result.ok()["uploadDocument"]
    assert doc["contentType"] == expected
    assert doc["filename"] == name.replace(name.split(".")[0], "upload")


async def test_client_filename_and_content_type_are_not_trusted(api, world) -> None:
    """A PDF named .exe and declared text/html is stored as a PDF named .pdf."""
    result = await upload(
        api,
        world("acme", "investor").token,
        PDF_BYTES,
        filename="../../etc/invoice.exe",
        client_type="text/html",
    )
    doc = result.ok()["uploadDocument"]
    assert (doc["contentType"], doc["filename"]) == ("application/pdf", "invoice.pdf")


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body><script>alert(1)</script></body></html>",
        b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\0" * 64,
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\0" * 64,
        b"text with a NUL \x00 byte",
        b"\xff\xfe\xfd not utf-8",
        b"",
    ],
    ids=["html", "svg", "exe", "zip", "nul", "latin", "empty"],
)
async def test_disallowed_content_disguised_as_pdf_is_refused(api, world, data) -> None:
    result = await upload(api, world("acme", "investor").token, data, filename="contract.pdf")
    assert result.code == "BAD_USER_INPUT", result.body
    assert result.errors[0]["extensions"]["field"] == "file"
    assert await stored_documents() == (0, 0)


async def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    api, world, runtime, monkeypatch
) -> None:
    monkeypatch.setattr(runtime.services, "max_upload_bytes", 1000)
    token = world("acme", "investor").token
    just_over = PDF_BYTES + b"%" * (1001 - len(PDF_BYTES))
    result = await upload(api, token, just_over)
    assert result.code == "BAD_USER_INPUT" and "1000 bytes" in result.errors[0]["message"]
    at_limit = PDF_BYTES + b"%" * (1000 - len(PDF_BYTES))
    assert (await upload(api, token, at_limit)).ok()["uploadDocument"]["size"] == 1000
    far_over = await post_upload(api, token, PDF_BYTES + b"%" * 300_000)
    assert far_over.status_code == 413
    assert far_over.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await stored_documents() == (1, 1)


async def test_the_default_limit_is_ten_mebibytes(api, world, runtime) -> None:
    assert runtime.services.max_upload_bytes == 10 * 1024 * 1024
    too_big = PDF_BYTES + b"%" * (10 * 1024 * 1024 + 1 - len(PDF_BYTES))
    result = await upload(api, world("acme", "investor").token, too_big)
    assert result.code == "BAD_USER_INPUT"
    assert await stored_documents() == (0, 0)


async def test_a_simple_cross_site_multipart_request_is_refused(api, world) -> None:
    """multipart/form-data without a custom header is what a forged HTML form sends."""
    response = await post_upload(api, world("acme", "investor").token, PDF_BYTES, headers={})
    assert response.status_code == 400
    assert "apollo-require-preflight" in response.json()["errors"][0]["message"]
    accepted = await post_upload(
        api, world("acme", "investor").token, PDF_BYTES, headers={"x-apollo-operation-name": "U"}
    )
    assert accepted.status_code == 200 and "errors" not in accepted.json()
    assert await stored_documents() == (1, 1)


async def test_other_simple_content_types_do_not_reach_graphql(api, world) -> None:
    response = await api.client.post(
        f"{api.base_url}/graphql",
        content=json.dumps({"query": "mutation { enrollMfa { secret } }"}),
        headers={
            "content-type": "text/plain",
            "authorization": f"Bearer {world('acme', 'investor').token}",
        },
    )
    assert response.status_code == 400


async def test_a_file_sent_as_a_json_string_is_bad_input(api, world) -> None:
    result = await api.gql(
        "mutation($f: Upload!) { uploadDocument(file: $f, input: {category: OTHER}) { id } }",
        {"f": "JVBERi0xLjQK"},
        token=world("acme", "investor").token,
    )
    assert result.code == "BAD_USER_INPUT" and result.errors[0]["extensions"]["field"] == "file"


async def test_anonymous_upload_is_unauthenticated(api, world) -> None:
    assert (await upload(api, None, PDF_BYTES)).code == "UNAUTHENTICATED"
    assert await stored_documents() == (0, 0)


# --- downloads --------------------------------------------------------------------------


async def _uploaded(api, member, data=PDF_BYTES, **kwargs) -> dict:
    return (await upload(api, member.token, data, **kwargs)).ok()["uploadDocument"]


async def _get(api, url: str):
    return await api.client.get(f"{api.base_url}{url}")


def _with(url: str, **changes: str) -> str:
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    query.update(changes)
    return f"{parsed.path}?{urlencode(query)}"


async def test_download_streams_the_stored_bytes_safely(api, world) -> None:
    doc = await _uploaded(api, world("acme", "investor"), filename="Résumé final.pdf")
    response = await _get(api, doc["downloadUrl"])
    assert response.status_code == 200
    assert response.content == PDF_BYTES
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''R%C3%A9sum%C3%A9%20final.pdf" in disposition


async def test_text_downloads_declare_utf8(api, world) -> None:
    doc = await _uploaded(api, world("acme", "investor"), data="naïve text\n".encode())
    response = await _get(api, doc["downloadUrl"])
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content.decode() == "naïve text\n"


async def test_an_expired_link_is_refused(api, world, runtime, monkeypatch) -> None:
    doc = await _uploaded(api, world("acme", "investor"))
    issued = runtime.services.clock()
    monkeypatch.setattr(runtime.services, "clock", lambda: issued + timedelta(seconds=290))
    assert (await _get(api, doc["downloadUrl"])).status_code == 200
    monkeypatch.setattr(runtime.services, "clock", lambda: issued + timedelta(seconds=301))
    response = await _get(api, doc["downloadUrl"])
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"


async def test_a_tampered_link_is_refused(api, world) -> None:
    investor, other = world("acme", "investor"), world("acme", "investor2")
    doc = await _uploaded(api, investor)
    other_doc = await _uploaded(api, other)
    url = doc["downloadUrl"]
    signature = parse_qs(urlparse(url).query)["s"][0]
    tampered = [
        _with(url, s=signature[:-1] + ("0" if signature[-1] != "0" else "1")),
        _with(url, e=str(int(parse_qs(urlparse(url).query)["e"][0]) + 3600)),
        _with(url, u=other.id),  # re-target the link at another user
        url.replace(doc["id"], other_doc["id"]),  # ... or at another document
        _with(url, s=""),
        _with(url, e="soon"),
        urlparse(url).path,
    ]
    for bad in tampered:
        response = await _get(api, bad)
        assert response.status_code == 403, bad


async def test_a_user_who_cannot_see_the_document_has_no_link_to_it(api, world) -> None:
    """investor2 cannot even learn the document exists, so has no link; a link made for
    investor2 on another's document (by forging the user) fails its signature."""
    doc = await _uploaded(api, world("acme", "investor"))
    other = world("acme", "investor2")
    result = await api.gql(
        "query($id: ID!) { document(id: $id) { downloadUrl } }", {"id": doc["id"]}, other.token
    )
    assert result.code == "NOT_FOUND"
    forged = _with(doc["downloadUrl"], u=other.id)
    assert (await _get(api, forged)).status_code == 403


async def test_downloads_are_audited(api, world) -> None:
    doc = await _uploaded(api, world("acme", "investor"))
    assert (await _get(api, doc["downloadUrl"])).status_code == 200
    entry = await AuditEntry.find_one({"action": "document.download"})
    assert entry is not None and str(entry.target_id) == doc["id"]


async def test_the_preflight_header_names_are_documented_in_the_mutation(api, world) -> None:
    result = await api.gql(
        '{ __type(name: "Mutation") { fields { name description } } }',
        token=world("acme", "investor").token,
    )
    fields = {f["name"]: f["description"] for f in result.ok()["__type"]["fields"]}
    assert next(iter(PREFLIGHT)) in fields["uploadDocument"]


async def test_a_chunked_body_without_length_is_cut_off_at_the_limit(
    api, world, runtime, monkeypatch
) -> None:
    """No Content-Length to refuse up front: the body is counted as it streams in."""
    monkeypatch.setattr(runtime.services, "max_upload_bytes", 1000)
    boundary = "fidus-boundary"
    operations = json.dumps(
        {
            "query": "mutation($f: Upload!) { uploadDocument(file: $f, "
            "input: {category: OTHER}) { id } }",
            "variables": {"f": None},
        }
    )
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        f"{operations}\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.f"]}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="0"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()

    async def body():
        yield head + PDF_BYTES
        for _ in range(40):  # 40 × 4 KiB, far past limit + overhead (65 KiB)
            yield b"%" * 4096
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await api.client.post(
        f"{api.base_url}/graphql",
        content=body(),
        headers={
            "content-type": f"multipart/form-data; boundary={boundary}",
            "authorization": f"Bearer {world('acme', 'investor').token}",
            **PREFLIGHT,
        },
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert await stored_documents() == (0, 0)


async def test_a_document_whose_bytes_are_gone_is_not_found(api, world) -> None:
    doc = await _uploaded(api, world("acme", "investor"))
    stored = await DocumentRecord.get(PydanticObjectId(doc["id"]))
    await document_files.bucket().delete(stored.file_id)
    assert (await _get(api, doc["downloadUrl"])).status_code == 404
