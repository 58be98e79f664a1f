"""Evidence: the raw response of every fetch of an article with a hit, kept as a WARC record.

Records go into gzipped WARC files in ``evidence/`` beside the database, one
file per UTC day (``evidence/2026-12-03.warc.gz``; when a day's file reaches
``[evidence] max_file_mb`` the next is ``2026-12-03-1.warc.gz``), each record
its own gzip member so that it can be read from its offset alone. A record is
written and synced to disk before the ``evidence`` row that points at it is
committed: a crash leaves at worst a record no row names, never a row without
its record. The row holds ``article_id``, ``fetched_at``, the URL and status,
``sha256`` of the body, and ``warc_file`` (relative to the database's folder),
``warc_offset`` and ``warc_length``.

What is kept is the response as the crawler received it: the status line, the
headers and the body after transfer and content decoding (so a
``Content-Encoding`` header is left out and ``Content-Length`` is the body's).

``verify`` re-reads every record and re-hashes its body against the table;
``pack`` bundles one hit's records with a JSON manifest for the review desk;
``usage`` says how much disk the files take.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler import clock
from crawler.models import Page

log = logging.getLogger(__name__)

FOLDER = "evidence"  # beside the database
SUFFIX = ".warc.gz"
# Headers that describe an encoding the stored body no longer has.
_DROPPED = {"content-encoding", "transfer-encoding", "content-length"}


def evidence_dir(database: Path) -> Path:
    """Where the WARC files of the database at ``database`` live."""
    return Path(database).parent / FOLDER


@dataclass(frozen=True)
class Record:
    """Where one response was written, and the hash of its body."""

    warc_file: str  # relative to the database's folder, e.g. "evidence/2026-12-03.warc.gz"
    warc_offset: int
    warc_length: int
    warc_record_id: str
    sha256: str
    body_bytes: int


class EvidenceWriter:
    """Appends response records to the day's WARC file (only the ingest process writes)."""

    def __init__(self, database: Path, *, max_file_bytes: int = 512 * 1024 * 1024) -> None:
        self.base = Path(database).parent
        self.directory = evidence_dir(database)
        self.max_file_bytes = max_file_bytes

    def _file(self) -> Path:
        """Today's file (UTC, by the clock), or the next one once it is full."""
        day = clock.now().strftime("%Y-%m-%d")
        number = 0
        while True:
            name = f"{day}{SUFFIX}" if number == 0 else f"{day}-{number}{SUFFIX}"
            path = self.directory / name
            if not path.exists() or path.stat().st_size < self.max_file_bytes:
                return path
            number += 1

    def write(self, page: Page) -> Record:
        """Write ``page``'s response as a WARC ``response`` record; OSError if the disk fails."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._file()
        body = page.body
        moment = page.fetched_at or clock.iso_now()
        status = page.status or 200
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        headers = [(name, value) for name, value in page.headers if name.lower() not in _DROPPED]
        headers.append(("Content-Length", str(len(body))))
        with path.open("ab") as handle:
            writer = WARCWriter(handle, gzip=True)
            if handle.tell() == 0:
                writer.write_record(_warcinfo(writer, path.name, moment))
            offset = handle.tell()
            warc_headers = {"WARC-Date": moment}
            if page.requested_url and page.requested_url != page.url:
                # Not a WARC 1.1 field; says which link led here through redirects.
                warc_headers["WARC-Newswatch-Requested-URI"] = page.requested_url
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                warc_headers_dict=warc_headers,
                http_headers=StatusAndHeaders(
                    f"{status} {reason}".strip(), headers, protocol="HTTP/1.1"
                ),
            )
            writer.write_record(record)
            handle.flush()
            os.fsync(handle.fileno())  # the record is on disk before a row names it
            length = handle.tell() - offset
        return Record(
            warc_file=path.relative_to(self.base).as_posix(),
            warc_offset=offset,
            warc_length=length,
            warc_record_id=str(record.rec_headers.get_header("WARC-Record-ID")),
            sha256=hashlib.sha256(body).hexdigest(),
            body_bytes=len(body),
        )


def _warcinfo(writer: WARCWriter, filename: str, moment: str) -> Any:
    """The record a WARC file opens with: what wrote it."""
    info = b"software: newswatch\r\nformat: WARC File Format 1.1\r\n"
    return writer.create_warc_record(
        "",
        "warcinfo",
        payload=io.BytesIO(info),
        length=len(info),
        warc_content_type="application/warc-fields",
        warc_headers_dict={"WARC-Date": moment, "WARC-Filename": filename},
    )


def has_raw_response(page: Page) -> bool:
    """True if the page carries the response as received (every page a spider makes does)."""
    return bool(page.body or page.headers)


def article_has_hits(conn: sqlite3.Connection, article_id: int) -> bool:
    """True if any watch was ever found in the article (a removed mention counts)."""
    row = conn.execute("SELECT 1 FROM hits WHERE article_id = ? LIMIT 1", [article_id]).fetchone()
    return row is not None


def link(conn: sqlite3.Connection, record: Record, article_id: int, page: Page) -> int:
    """Insert the ``evidence`` row for a written record (in the caller's transaction)."""
    cursor = conn.execute(
        "INSERT INTO evidence (article_id, fetched_at, url, requested_url, status, sha256, "
        "body_bytes, warc_file, warc_offset, warc_length, warc_record_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            article_id,
            page.fetched_at or clock.iso_now(),
            page.url,
            page.requested_url or page.url,
            page.status,
            record.sha256,
            record.body_bytes,
            record.warc_file,
            record.warc_offset,
            record.warc_length,
            record.warc_record_id,
        ],
    )
    return int(cursor.lastrowid or 0)


def read_record(base: Path, warc_file: str, offset: int, length: int | None) -> bytes:
    """The raw bytes (one gzip member) of a record; OSError if the file cannot be read."""
    with (Path(base) / warc_file).open("rb") as handle:
        handle.seek(offset)
        return handle.read(length) if length else handle.read()


@dataclass(frozen=True)
class ParsedRecord:
    """A response record read back: where it points and its body."""

    record_id: str
    target_uri: str
    status: str
    body: bytes


def parse_record(raw: bytes) -> ParsedRecord:
    """Read the first record of ``raw`` with warcio; ValueError if there is none."""
    try:
        for record in ArchiveIterator(io.BytesIO(raw)):
            status = record.http_headers.get_statuscode() if record.http_headers else ""
            return ParsedRecord(
                record_id=str(record.rec_headers.get_header("WARC-Record-ID") or ""),
                target_uri=str(record.rec_headers.get_header("WARC-Target-URI") or ""),
                status=str(status or ""),
                body=record.raw_stream.read(),
            )
    except Exception as exc:  # warcio raises plain Exceptions on damaged input
        raise ValueError(f"not a readable WARC record: {type(exc).__name__}: {exc}") from None
    raise ValueError("no WARC record at this offset")


@dataclass(frozen=True)
class Mismatch:
    """One evidence row whose record does not hold what the table says."""

    evidence_id: int
    article_id: int
    warc_file: str
    warc_offset: int
    problem: str

    def line(self) -> str:
        """``evidence 7 (article 3): evidence/2026-12-03.warc.gz@1234: sha256 differs``."""
        return (
            f"evidence {self.evidence_id} (article {self.article_id}): "
            f"{self.warc_file}@{self.warc_offset}: {self.problem}"
        )


def verify(conn: sqlite3.Connection, base: Path) -> tuple[int, list[Mismatch]]:
    """Re-read and re-hash every record; return (records checked, mismatches)."""
    checked = 0
    problems: list[Mismatch] = []
    rows = conn.execute(
        "SELECT id, article_id, warc_file, warc_offset, warc_length, sha256, warc_record_id, url "
        "FROM evidence ORDER BY id"
    ).fetchall()
    for evidence_id, article_id, warc_file, offset, length, sha256, record_id, url in rows:
        checked += 1

        def problem(text: str, row: tuple[Any, ...] = (evidence_id, article_id, warc_file,
                                                       offset)) -> None:
            problems.append(Mismatch(int(row[0]), int(row[1]), str(row[2]), int(row[3]), text))

        try:
            parsed = parse_record(read_record(base, warc_file, int(offset), length))
        except OSError as exc:
            problem(f"cannot read the file: {exc.strerror or exc}")
            continue
        except ValueError as exc:
            problem(str(exc))
            continue
        found = hashlib.sha256(parsed.body).hexdigest()
        if found != sha256:
            problem(f"sha256 of the body is {found}, the table says {sha256}")
        elif record_id and parsed.record_id != record_id:
            problem(f"record id is {parsed.record_id}, the table says {record_id}")
        elif url and parsed.target_uri != url:
            problem(f"record is of {parsed.target_uri}, the table says {url}")
    return checked, problems


def usage(directory: Path, conn: sqlite3.Connection | None = None) -> dict[str, Any]:
    """Disk use of the WARC files in ``directory``, and the records the table holds."""
    files = list(_files(directory))
    result: dict[str, Any] = {
        "directory": str(directory),
        "files": len(files),
        "bytes": sum(path.stat().st_size for path in files),
        "oldest_file": files[0].name if files else None,
        "newest_file": files[-1].name if files else None,
    }
    if conn is not None:
        row = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT article_id) FROM evidence"
        ).fetchone()
        result["records"], result["articles"] = int(row[0]), int(row[1])
    return result


def _files(directory: Path) -> Iterator[Path]:
    if directory.is_dir():
        yield from sorted(directory.glob(f"*{SUFFIX}"))


def pack(conn: sqlite3.Connection, base: Path, hit_id: int) -> tuple[str, bytes] | None:
    """A zip of one hit's evidence: ``records.warc.gz`` (every record of its article, in
    fetch order) and ``manifest.json`` (URLs, times, hashes, the matched text); with its
    file name. None if the hit does not exist."""
    hit = _row(
        conn,
        "SELECT id, article_id, watch_id, story_id, matched, snippet, span_start, span_end, "
        "confidence, reason, status, created_at, removed_at, article_updated_at "
        "FROM hits WHERE id = ?",
        [hit_id],
    )
    if hit is None:
        return None
    article = _row(
        conn,
        "SELECT id, url, canonical_url, source, title, published_at, first_fetched_at, "
        "fetched_at, updated_at, removed_at, removed_reason, content_hash "
        "FROM articles WHERE id = ?",
        [hit["article_id"]],
    ) or {"id": hit["article_id"]}
    rows = conn.execute(
        "SELECT id, fetched_at, url, requested_url, status, sha256, body_bytes, warc_file, "
        "warc_offset, warc_length, warc_record_id FROM evidence WHERE article_id = ? "
        "ORDER BY fetched_at, id",
        [hit["article_id"]],
    ).fetchall()
    warc = io.BytesIO()
    records = []
    for (evidence_id, fetched_at, url, requested_url, status, sha256, body_bytes, warc_file,
         offset, length, record_id) in rows:
        entry: dict[str, Any] = {
            "evidence_id": evidence_id,
            "url": url,
            "requested_url": requested_url,
            "status": status,
            "fetched_at": fetched_at,
            "sha256": sha256,
            "body_bytes": body_bytes,
            "warc_record_id": record_id,
            "warc_file": warc_file,
            "warc_offset": offset,
        }
        try:
            raw = read_record(base, warc_file, int(offset), length)
            parsed = parse_record(raw)
        except (OSError, ValueError) as exc:
            entry["problem"] = f"record not readable: {exc}"
        else:
            entry["pack_offset"] = warc.tell()
            warc.write(raw)
            if hashlib.sha256(parsed.body).hexdigest() != sha256:
                entry["problem"] = "the record's body does not match its sha256"
        records.append(entry)
    manifest = {
        "generated_at": clock.iso_now(),
        "generator": "newswatch",
        "hit": {**hit, "matched_text": hit["matched"]},
        "article": article,
        "records": records,
        "files": {"records.warc.gz": "every record listed, each its own gzip member"},
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        )
        archive.writestr("records.warc.gz", warc.getvalue(), compress_type=zipfile.ZIP_STORED)
    return f"newswatch-evidence-hit-{hit_id}.zip", out.getvalue()


def _row(conn: sqlite3.Connection, sql: str, params: list[Any]) -> dict[str, Any] | None:
    cursor = conn.execute(sql, params)
    found = cursor.fetchone()
    if found is None:
        return None
    return dict(zip([column[0] for column in cursor.description], found, strict=True))
