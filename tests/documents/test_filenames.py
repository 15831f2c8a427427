"""Filenames cannot lie about what a file is: bidi overrides and isolates, LRM/RLM, control
characters (C0, DEL, C1) and path separators are removed from stored and served names
(the API and the download's Content-Disposition), also for names stored before."""

import json
from urllib.parse import quote

from beanie import PydanticObjectId

from models.documents.records import DocumentRecord
from resolvers.documents import files as document_files
from tests.support.documents import DOCUMENT_FIELDS, PDF_BYTES, PREFLIGHT, make_document

BOUNDARY = "fidus-filename-boundary"
DOCUMENT = f"query($id: ID!) {{ document(id: $id) {{ {DOCUMENT_FIELDS} }} }}"
CASES = {
    "invoice\u202efdp.exe": "invoicefdp.pdf",  # shown as "invoiceexe.pdf"
    "\u2066report\u2069 \u200e2025\u200f.pdf": "report 2025.pdf",
    "a\x01b\x1b[31mc\x7fd\u0085e\u009bf.pdf": "ab[31mcdef.pdf",
    "C:\\Users\\me\\..\\x\u202a\u202b\u202c\u202d/\u2067scan\u2068.pdf": "scan.pdf",
    "\u202e\u2066\x00\u200f": "document.pdf",  # nothing left: the default name
    "/": "document.pdf",
}


async def raw_upload(api, token: str, filename: str) -> dict:
    """A multipart upload whose filename goes out byte for byte (UTF-8), as a hostile
    client sends it: httpx would escape control characters."""
    operations = json.dumps(
        {
            "query": "mutation($f: Upload!) { uploadDocument(file: $f, "
            "input: {category: OTHER}) { id filename downloadUrl } }",
            "variables": {"f": None},
        }
    )
    body = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            f"{operations}\r\n"
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
            '{"0": ["variables.f"]}\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF_BYTES
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )
    response = await api.client.post(
        f"{api.base_url}/graphql",
        content=body,
        headers={
            "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            "authorization": f"Bearer {token}",
            **PREFLIGHT,
        },
    )
    assert response.status_code == 200, response.text
    document: dict = response.json()["data"]["uploadDocument"]
    return document


def disposition(name: str) -> str:
    return f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name, safe='')}"


async def test_uploaded_names_are_stored_and_served_without_invisible_characters(api, world):
    investor = world("acme", "investor")
    for raw, expected in CASES.items():
        doc = await raw_upload(api, investor.token, raw)
        assert doc["filename"] == expected, raw
        stored = await DocumentRecord.get(PydanticObjectId(doc["id"]))
        assert stored is not None and stored.filename == expected
        files = document_files.bucket().find({"_id": stored.file_id})
        assert [f.filename async for f in files] == [expected]
        download = await api.client.get(api.base_url + doc["downloadUrl"])
        assert download.status_code == 200
        assert download.headers["content-disposition"] == disposition(expected), raw


async def test_names_stored_before_are_cleaned_when_served(api, world):
    investor = world("acme", "investor")
    document_id = await make_document(investor)
    await DocumentRecord.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(document_id)},
        {"$set": {"filename": "old\u202egnp.exe\x07/\u200f"}},
    )
    doc = await api.gql(DOCUMENT, {"id": document_id}, token=investor.token)
    served = doc.ok()["document"]
    assert served["filename"] == "oldgnp.exe_"
    download = await api.client.get(api.base_url + served["downloadUrl"])
    assert download.headers["content-disposition"] == disposition("oldgnp.exe_")
