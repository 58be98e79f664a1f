"""crawler/storage/evidence.py: WARC files by day and size, verification, packs, disk use."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler import clock
from crawler.db import write_transaction
from crawler.models import Article, Hit, Page
from crawler.storage import evidence
from crawler.storage.store import open_database, save_article


def page(body: bytes, at: str, status: int = 200) -> Page:
    return Page(
        source="orda",
        url="https://orda.kz/a",
        requested_url="https://orda.kz/short",
        html="",
        status=status,
        headers=(("Content-Type", "text/html"), ("Content-Encoding", "gzip"), ("ETag", '"1"')),
        body=body,
        fetched_at=at,
    )


def test_records_go_to_the_day_file_until_it_is_full(tmp_path: Path) -> None:
    database = tmp_path / "nw.db"
    writer = evidence.EvidenceWriter(database, max_file_bytes=2000)
    noise = b"".join(hashlib.sha256(bytes([n])).digest() for n in range(100))
    big = b"<p>" + noise + b"</p>"  # does not compress: fills a file
    with clock.using(clock.FakeClock("2026-12-03T23:00:00Z")) as fake:
        first = writer.write(page(big, "2026-12-03T23:00:00Z"))
        second = writer.write(page(b"<p>small</p>", "2026-12-03T23:30:00Z"))
        fake.advance(hours=2)
        third = writer.write(page(b"", "2026-12-04T01:00:00Z", status=304))
    assert first.warc_file == "evidence/2026-12-03.warc.gz" and first.warc_offset > 0
    assert second.warc_file == "evidence/2026-12-03-1.warc.gz"  # the first one was full
    assert third.warc_file == "evidence/2026-12-04.warc.gz"
    assert first.sha256 == hashlib.sha256(big).hexdigest() and first.body_bytes == len(big)
    raw = evidence.read_record(tmp_path, first.warc_file, first.warc_offset, first.warc_length)
    parsed = evidence.parse_record(raw)
    assert parsed.body == big and parsed.status == "200"
    assert parsed.target_uri == "https://orda.kz/a" and parsed.record_id == first.warc_record_id
    with (tmp_path / first.warc_file).open("rb") as handle:
        records = [
            (r.rec_type, r.rec_headers.get_header("WARC-Date"),
             r.rec_headers.get_header("WARC-Newswatch-Requested-URI"),
             r.http_headers.get_header("Content-Encoding") if r.http_headers else None,
             r.http_headers.get_header("Content-Length") if r.http_headers else None)
            for r in ArchiveIterator(handle)
        ]
    assert records == [
        ("warcinfo", "2026-12-03T23:00:00Z", None, None, None),
        ("response", "2026-12-03T23:00:00Z", "https://orda.kz/short", None, str(len(big))),
    ]
    used = evidence.usage(tmp_path / "evidence")
    assert used["files"] == 3 and used["oldest_file"] == "2026-12-03-1.warc.gz"


def test_verify_and_pack_report_a_missing_file(tmp_path: Path) -> None:
    database = tmp_path / "nw.db"
    db = open_database(database)
    text = "Serikzhan Bilash was freed."
    article = Article(url="https://orda.kz/a", canonical_url="https://orda.kz/a", source="orda",
                      title="Freed", text=text, content_hash="h")
    hit = Hit("serikzhan-bilash", "Serikzhan Bilash", 0, 16, text, 0.9, "name")
    saved = save_article(db, article, [hit], lambda _: (), lambda *args: 0)
    writer = evidence.EvidenceWriter(database)
    with clock.using(clock.FakeClock("2026-12-03T08:00:00Z")) as fake:
        records = [writer.write(page(b"<p>one</p>", "2026-12-03T08:00:00Z"))]
        fake.advance(days=1)
        records.append(writer.write(page(b"<p>two</p>", "2026-12-04T08:00:00Z")))
    with write_transaction(db):
        for record, at in zip(records, ("2026-12-03T08:00:00Z", "2026-12-04T08:00:00Z"),
                              strict=True):
            evidence.link(db.conn, record, int(saved.article_id or 0), page(b"", at))
    assert evidence.verify(db.conn, tmp_path) == (2, [])
    (tmp_path / records[0].warc_file).rename(tmp_path / "archived.warc.gz")
    checked, problems = evidence.verify(db.conn, tmp_path)
    assert checked == 2 and len(problems) == 1
    assert problems[0].warc_file == records[0].warc_file
    assert "cannot read the file" in problems[0].line()

    name, body = evidence.pack(db.conn, tmp_path, saved.hit_ids[0]) or ("", b"")
    assert name == f"newswatch-evidence-hit-{saved.hit_ids[0]}.zip"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        warc = archive.read("records.warc.gz")
    assert [r.get("problem", "").split(":")[0] for r in manifest["records"]] == [
        "record not readable",
        "",
    ]
    assert manifest["records"][1]["sha256"] == hashlib.sha256(b"<p>two</p>").hexdigest()
    assert manifest["hit"]["matched_text"] == "Serikzhan Bilash"
    assert manifest["article"]["canonical_url"] == "https://orda.kz/a"
    bodies = [r.content_stream().read() for r in ArchiveIterator(io.BytesIO(warc))
              if r.rec_type == "response"]
    assert bodies == [b"<p>two</p>"]
    assert evidence.pack(db.conn, tmp_path, 999) is None
