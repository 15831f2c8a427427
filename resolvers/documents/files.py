"""The one place that knows where document bytes live: GridFS (bucket ``document_files``)
on the application's database, written once and never replaced."""

import hashlib
from collections.abc import AsyncIterator

from beanie import PydanticObjectId
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile

from models.documents.content import served_filename
from models.documents.records import DocumentRecord

BUCKET = "document_files"
CHUNK_BYTES = 255 * 1024


def bucket() -> AsyncGridFSBucket:
    database = DocumentRecord.get_pymongo_collection().database
    return AsyncGridFSBucket(database, bucket_name=BUCKET, chunk_size_bytes=CHUNK_BYTES)


async def put(
    chunks: AsyncIterator[bytes], filename: str, tenant_id: PydanticObjectId
) -> PydanticObjectId:
    """Store the bytes (under a safe name); returns the file id."""
    stream = bucket().open_upload_stream(
        served_filename(filename), metadata={"tenant_id": tenant_id}
    )
    try:
        async for chunk in chunks:
            await stream.write(chunk)
    except BaseException:
        await stream.abort()
        raise
    await stream.close()
    return PydanticObjectId(stream._id)


async def put_bytes(data: bytes, filename: str, tenant_id: PydanticObjectId) -> PydanticObjectId:
    async def one() -> AsyncIterator[bytes]:
        yield data

    return await put(one(), filename, tenant_id)


async def exists(file_id: PydanticObjectId) -> bool:
    database = DocumentRecord.get_pymongo_collection().database
    return await database[f"{BUCKET}.files"].count_documents({"_id": file_id}, limit=1) > 0


async def read_chunks(file_id: PydanticObjectId) -> AsyncIterator[bytes]:
    """The stored bytes, chunk by chunk; nothing when the file is missing."""
    try:
        stream = await bucket().open_download_stream(file_id)
    except NoFile:
        return
    try:
        while chunk := await stream.readchunk():
            yield chunk
    finally:
        await stream.close()


async def sha256_of(file_id: PydanticObjectId | None) -> str | None:
    """SHA-256 recomputed from the stored bytes; None when there are none."""
    if file_id is None:
        return None
    try:
        stream = await bucket().open_download_stream(file_id)
    except NoFile:
        return None
    digest = hashlib.sha256()
    try:
        while chunk := await stream.readchunk():
            digest.update(chunk)
    finally:
        await stream.close()
    return digest.hexdigest()
