"""The desk's pages: queue, verdicts, login, dashboard, search and Atom feeds.

Every page asks Datasette for ``view-database`` (the hits database) and
``view-instance`` for the request's actor (``Desk.open``); verdicts and notes
also need ``newswatch-review`` (see ``crawler.review.access``).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin

from datasette.utils.asgi import NotFound, Request, Response
from markupsafe import escape

from crawler import clock
from crawler.review import accounts, queries
from crawler.review.access import (
    COOKIE,
    LOGIN_PATH,
    PREFIX,
    REVIEW,
    DeskSettings,
    Session,
    check_login,
    client_address,
    is_local,
    safe_next,
    session_cookie,
    writer,
)
from crawler.review.chart import daily_bars
from crawler.review.feed import atom_feed
from crawler.review.queries import STATUSES, Filters, WatchStats
from crawler.review.render import (
    day,
    highlight,
    marked,
    percent,
    safe_href,
    text_diff,
    text_dir,
)
from crawler.storage import evidence
from crawler.storage.store import utcnow

QUEUE = f"{PREFIX}/"


class Desk:
    """What every page needs: the settings, the database and the desk's URLs."""

    def __init__(self, datasette: Any, database: Any, settings: DeskSettings) -> None:
        self.datasette = datasette
        self.db = database
        self.settings = settings

    @classmethod
    async def open(cls, datasette: Any, request: Request, *, read: bool = True) -> Desk:
        """The desk over the configured database, or the first one holding hits.

        With ``read``, the request's actor must be allowed to view that database as
        Datasette decides it (``allow`` rules, plugins, the desk's own policy): Forbidden
        if not.
        """
        settings = DeskSettings.of(datasette)
        database = await find_database(datasette, settings)
        if database is None:
            raise NotFound("no newswatch database here (no 'hits' table in any database)")
        if read:
            await datasette.ensure_permissions(
                request.actor, [("view-database", database.name), "view-instance"]
            )
        return cls(datasette, database, settings)

    def absolute(self, request: Request, path: str) -> str:
        """An absolute URL of a desk path: under ``review_url`` when it is configured (the
        same whatever Host the request named), else as the request reached the desk."""
        if self.settings.review_url:
            return urljoin(self.settings.review_url, path.lstrip("/"))
        return str(self.datasette.absolute_url(request, path))

    def url(self, path: str, **args: str) -> str:
        """A path under the desk, with query arguments, respecting Datasette's base_url."""
        query = urlencode({k: v for k, v in args.items() if v})
        return str(self.datasette.urls.path(f"{PREFIX}/{path}" + (f"?{query}" if query else "")))

    def watch_name(self, watch_id: str) -> str:
        """The watch's display name from the watchlist, else its id."""
        return self.settings.watches.get(watch_id, watch_id)

    def links(self) -> dict[str, str]:
        """The desk's navigation links."""
        database = self.datasette.urls.database(self.db.name)
        return {
            "queue": self.url(""),
            "dashboard": self.url("dashboard"),
            "search": self.url("search"),
            "removed": self.url("removed"),
            "login": self.url("login"),
            "verdict": self.url("verdict"),
            "database": str(database),
            "hits_table": str(self.datasette.urls.table(self.db.name, "hits")),
            "logout": self.url("logout"),
            "static": str(self.datasette.urls.static_plugins(plugin_name(), "")),
        }

    async def page(
        self, request: Request, template: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        """Render one of the desk's templates with the common context."""
        body = await self.datasette.render_template(
            template,
            {
                "desk": self.links(),
                "writer": writer(request),
                "settings": self.settings,
                "database": self.db.name,
                **context,
            },
            request=request,
        )
        return Response.html(body, status=status)


def plugin_name() -> str:
    """The name Datasette serves the plugin's static files under: the distribution's
    (``newswatch``) when loaded through its entry point, else the package's."""
    from datasette.plugins import pm

    from crawler.review import plugin

    for module, dist in pm.list_plugin_distinfo():
        if module is plugin:
            return str(dist.project_name)
    return plugin.__name__


def session_actor(datasette: Any, session: Session) -> Awaitable[dict[str, Any] | None]:
    """The actor of a desk session, if it still holds: an account session only while the
    account exists under the same session version (a password change ends it); a
    shared-password or local session only while the desk has no accounts."""

    async def inner() -> dict[str, Any] | None:
        database = await find_database(datasette, DeskSettings.of(datasette))
        if database is None:
            return None

        def valid(conn: Any) -> bool:
            if session.kind == "account":
                return accounts.session_version(conn, session.name) == session.version
            return not accounts.has_accounts(conn)

        return session.actor() if await database.execute_fn(valid) else None

    return inner()


async def refuse_anonymous(datasette: Any, request: Request) -> Response:
    """A browser asking for a page goes to the login form; anything else gets a 401."""
    if request.method in ("GET", "HEAD") and "text/html" in request.headers.get("accept", ""):
        path = request.path
        base = datasette.setting("base_url") or "/"
        if base != "/" and path.startswith(base):
            path = "/" + path[len(base) :]
        here = path + (f"?{request.query_string}" if request.query_string else "")
        location = datasette.urls.path(f"{LOGIN_PATH}?next={quote(here, safe='')}")
        return Response.redirect(location, status=302)
    return Response.json(
        {"ok": False, "error": f"log in first: {LOGIN_PATH}"},
        status=401,
        headers={"cache-control": "private, no-store"},
    )


async def find_database(datasette: Any, settings: DeskSettings) -> Any:
    """The named database, else the first attached database with hits and articles tables."""
    if settings.database:
        try:
            return datasette.get_database(settings.database)
        except KeyError:
            return None
    for database in datasette.databases.values():
        if database.name.startswith("_"):
            continue
        tables = set(await database.table_names())
        if {"hits", "articles"} <= tables:
            return database
    return None


async def old_static(datasette: Any, request: Request) -> Response:
    """Where the desk's files were served before Datasette's plugin route took them."""
    name = request.url_vars["name"]
    return Response.redirect(datasette.urls.static_plugins(plugin_name(), name), status=301)


async def unknown(request: Request) -> Response:
    """Any other path under the desk: a plain 404 (Datasette would read it as a row URL)."""
    raise NotFound(f"no desk page at {request.path}")


async def home(datasette: Any) -> Response:
    """``/`` when the plugin is configured as the home page: go to the queue."""
    return Response.redirect(datasette.urls.path(QUEUE))


async def queue(datasette: Any, request: Request) -> Response:
    """The review queue: hits grouped by story, newest first, with filters and actions."""
    desk = await Desk.open(datasette, request)
    filters = Filters.from_args(request.args)

    def load(conn: Any) -> tuple[queries.Queue, dict[str, WatchStats], dict[str, list[str]]]:
        return (
            queries.load_queue(conn, filters),
            queries.watch_stats(conn),
            queries.filter_options(conn),
        )

    page, stats, options = await desk.db.execute_fn(load)
    if filters.page > page.pages:
        # Answered here: a NotFound raised at a path ending in "/" makes Datasette redirect.
        message = f"No page {filters.page}: the queue has {page.pages} with these filters."
        body = await datasette.render_template(
            "error.html", {"title": "Not found", "error": message}, request=request
        )
        return Response.html(body, status=404)
    for group in page.groups:
        for hit in group.hits:
            _dress_hit(desk, hit, stats)
        for article in group.others:
            article["href"] = safe_href(article["url"])
            article["date"] = day(article["published_at"] or article["fetched_at"])
    here = request.path + (f"?{request.query_string}" if request.query_string else "")
    export_query = urlencode({key: value for key, value in filters.params().items() if value})
    return await desk.page(
        request,
        "newswatch_queue.html",
        {
            "queue": page,
            "filters": filters,
            "statuses": STATUSES,
            "watch_options": [
                (watch_id, desk.watch_name(watch_id), _precision_text(stats.get(watch_id)))
                for watch_id in options["watches"]
            ],
            "source_options": options["sources"],
            "language_options": options["languages"],
            "here": here,
            "next_page": (
                f"?{filters.query(page=filters.page + 1)}" if filters.page < page.pages else None
            ),
            "previous_page": (
                f"?{filters.query(page=filters.page - 1)}" if filters.page > 1 else None
            ),
            "export_csv": f"{datasette.urls.query(desk.db.name, 'review_queue', 'csv')}?"
            f"{export_query}",
            "export_json": f"{datasette.urls.query(desk.db.name, 'review_queue', 'json')}?"
            f"{export_query}&_shape=array",
        },
    )


def _dress_hit(desk: Desk, hit: dict[str, Any], stats: dict[str, WatchStats]) -> None:
    """Add what the template shows for a hit: safe link, highlighted snippet, precision,
    changes and removals, the article's page and the evidence pack."""
    hit["href"] = safe_href(hit["url"])
    hit["article_page"] = desk.url(f"article/{hit['article_id']}")
    hit["evidence_pack"] = desk.url(f"evidence/{hit['id']}.zip")
    hit["removed"] = day(hit.get("removed_at"))
    hit["article_removed"] = day(hit.get("article_removed_at"))
    hit["updated"] = day(hit.get("updated_at"))
    hit["snippet_html"] = highlight(hit["snippet"], hit["matched"])
    hit["snippet_dir"] = text_dir(hit["snippet"])
    hit["title_dir"] = text_dir(hit["title"])
    hit["date"] = day(hit["published_at"] or hit["fetched_at"])
    hit["watch_name"] = desk.watch_name(hit["watch_id"])
    hit["precision"] = _precision_text(stats.get(hit["watch_id"]))
    hit["reviewed"] = day(hit["reviewed_at"])


def _precision_text(stats: WatchStats | None) -> str:
    if stats is None or not stats.reviewed:
        return "precision – (nothing reviewed yet)"
    return f"precision {percent(stats.precision)} ({stats.relevant}/{stats.reviewed})"


async def verdict(datasette: Any, request: Request) -> Response:
    """POST: mark hits relevant / irrelevant / follow-up / new, and/or set their note."""
    if request.method != "POST":
        return Response.text("POST a verdict here", status=405, headers={"Allow": "POST"})
    wants_json = "application/json" in request.headers.get("accept", "")
    actor = writer(request)
    if actor is None:
        return _verdict_error(datasette, request, wants_json, 403, "Log in to record verdicts.")
    desk = await Desk.open(datasette, request)
    if not await datasette.permission_allowed(
        request.actor, REVIEW, resource=desk.db.name, default=False
    ):
        return _verdict_error(
            datasette,
            request,
            wants_json,
            403,
            f"{actor} may read the desk but not record verdicts (that needs the {REVIEW} "
            "permission).",
        )
    via = str(request.actor.get("newswatch") or "datasette")
    form = parse_qs((await request.post_body()).decode("utf-8", "replace"), keep_blank_values=True)
    hit_ids = [int(value) for value in form.get("hit_id", []) if value.isdigit()]
    status = (form.get("status") or [""])[-1] or None
    note = (form.get("note") or [None])[-1]
    note = note.strip()[: queries.MAX_NOTE] if note is not None else None
    if status is not None and status not in STATUSES:
        return _verdict_error(datasette, request, wants_json, 400, f"Unknown status {status!r}.")
    if not hit_ids or (status is None and note is None):
        return _verdict_error(
            datasette, request, wants_json, 400, "Choose hits and a verdict or a note."
        )
    now = utcnow()
    changed = await desk.db.execute_write_fn(
        lambda conn: queries.record_verdict(
            conn, hit_ids, status=status, note=note, actor=actor, now=now, via=via
        ),
        block=True,
    )
    if wants_json:
        return Response.json(
            {
                "ok": True,
                "hit_ids": changed,
                "status": status,
                "note": note,
                "reviewed_by": actor,
                "reviewed_at": now,
            }
        )
    what = f"marked {status}" if status else "noted"
    datasette.add_message(request, f"{len(changed)} hit{'s' * (len(changed) != 1)} {what}.")
    form_next = (form.get("next") or [""])[-1]
    return Response.redirect(safe_next(form_next, desk.url("")), status=303)


def _verdict_error(
    datasette: Any, request: Request, wants_json: bool, status: int, message: str
) -> Response:
    if wants_json:
        return Response.json({"ok": False, "error": message}, status=status)
    login = datasette.urls.path(f"{PREFIX}/login")
    return Response.html(
        f"<!DOCTYPE html><title>newswatch</title><p>{escape(message)}</p>"
        f'<p><a href="{escape(login)}">Log in</a></p>',
        status=status,
    )


async def login(datasette: Any, request: Request) -> Response:
    """GET: the login form. POST: check the account (or the shared password, or the name on
    this machine), within the attempt limits, then set the session cookie."""
    desk = await Desk.open(datasette, request, read=False)
    local = is_local(request.scope)
    with_accounts = await desk.db.execute_fn(accounts.has_accounts)
    context = {
        "next": safe_next(request.args.get("next"), desk.url("")),
        "accounts": with_accounts,
        "needs_password": with_accounts or desk.settings.password() is not None,
        "local": local,
        "error": "",
        "name": "",
    }
    if request.method != "POST":
        return await desk.page(request, "newswatch_login.html", context)
    form = await request.post_vars()
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    context.update(next=safe_next(form.get("next"), desk.url("")), name=name[:64])
    address = {f"address:{client_address(request.scope)}": accounts.ADDRESS_FAILURES}
    session: Session | None = None
    status = 403
    if with_accounts:
        attempt = await desk.db.execute_write_fn(
            lambda conn: accounts.attempt_login(
                conn, name.strip(), password, client_address(request.scope)
            ),
            block=True,
        )
        error, status = attempt.error, 429 if attempt.locked else 403
        if attempt.version is not None:
            session = Session(name.strip(), "account", attempt.version)
    else:
        error = await desk.db.execute_fn(lambda conn: accounts.locked_out(conn, address))
        status = 429 if error else 403
        if not error:
            outcome = check_login(desk.settings, name=name, password=password, local=local)
            session, error = outcome.session, outcome.error
            if session is None and error == "Wrong password.":
                await desk.db.execute_write_fn(
                    lambda conn: accounts.count_failure(conn, address), block=True
                )
    if session is None:
        context["error"] = error
        return await desk.page(request, "newswatch_login.html", context, status=status)
    response = Response.redirect(str(context["next"]), status=303)
    response.set_cookie(
        COOKIE,
        session_cookie(datasette, session),
        httponly=True,
        samesite="lax",
        secure=request.scheme == "https",
    )
    return response


async def logout(datasette: Any, request: Request) -> Response:
    """POST: end this browser's desk session (and a Datasette ``ds_actor`` one)."""
    if request.method != "POST":
        return Response.text("POST here to log out", status=405, headers={"Allow": "POST"})
    response = Response.redirect(datasette.urls.path(LOGIN_PATH), status=303)
    for cookie in (COOKIE, "ds_actor"):
        response.set_cookie(cookie, "", expires=0, max_age=0)
    return response


async def dashboard(datasette: Any, request: Request) -> Response:
    """Hits per watch per day (90 days), precision per watch, source health, alert delivery."""
    desk = await Desk.open(datasette, request)

    def load(conn: Any) -> dict[str, Any]:
        return {
            "daily": queries.daily_hits(conn),
            "stats": queries.watch_stats(conn),
            "sources": queries.source_health(conn),
            "alerts": queries.alert_health(conn),
            "last_hits": queries.last_hits(conn),
        }

    data = await desk.db.execute_fn(load)
    days, series = data["daily"]
    stats: dict[str, WatchStats] = data["stats"]
    watches = []
    last_hits = data["last_hits"]
    for watch_id in sorted(set(stats) | set(series) | set(desk.settings.watches)):
        counts = series.get(watch_id, [0] * len(days))
        name = desk.watch_name(watch_id)
        seen = last_hits.get(watch_id, {})
        watches.append(
            {
                "id": watch_id,
                "name": name,
                "stats": stats.get(watch_id, WatchStats(watch_id)),
                "precision": percent((stats.get(watch_id) or WatchStats(watch_id)).precision),
                "last_90_days": sum(counts),
                "chart": daily_bars(days, counts, name),
                "queue": desk.url("", watch=watch_id),
                "feed": desk.url(f"feed/{quote(watch_id, safe='')}.atom"),
                "last_hit": day(seen.get("last_hit_at")),
                "quiet": quiet_for(seen.get("last_hit_at"), seen.get("first_run_at")),
            }
        )
    for source in data["sources"]:
        source["last_ok"] = day(source.get("last_ok_at"))
        source["last_error_day"] = day(source.get("last_error_at"))
        source["last_new"] = day(source.get("last_new_article_at"))
        source["stale_day"] = day(source.get("stale_since"))
    for alert in data["alerts"]["problems"]:
        alert["next"] = day(alert["next_attempt_at"])
    return await desk.page(
        request,
        "newswatch_dashboard.html",
        {
            "watches": watches,
            "days": days,
            "sources": data["sources"],
            "alerts": data["alerts"],
        },
    )


def quiet_for(last_hit_at: str | None, first_run_at: str | None) -> str:
    """How long a watch has gone without a hit, in words: "today", "3 days", "12 days (no hit
    since it was first watched)"; "" when the desk knows neither time."""
    since = last_hit_at or first_run_at
    if not since:
        return ""
    try:
        days = max(0, (clock.now() - clock.parse(since)).days)
    except ValueError:
        return ""
    words = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
    return words if last_hit_at else f"{words} (no hit since it was first watched)"


async def search(datasette: Any, request: Request) -> Response:
    """Full-text search over article titles and text, with the matched words marked."""
    desk = await Desk.open(datasette, request)
    text = (request.args.get("q") or "").strip()[:500]
    filters = Filters.from_args(request.args)

    def load(conn: Any) -> tuple[bool, list[dict[str, Any]], dict[str, list[str]]]:
        available = queries.has_search(conn)
        rows = queries.search_articles(conn, text, filters) if available and text else []
        return available, rows, queries.filter_options(conn)

    available, rows, options = await desk.db.execute_fn(load)
    for row in rows:
        row["title_html"] = marked(row["title_marked"] or row["url"])
        row["snippet_html"] = marked(row["snippet"])
        row["snippet_dir"] = text_dir(row["snippet"])
        row["title_dir"] = text_dir(row["title_marked"])
        row["href"] = safe_href(row["url"])
        row["date"] = day(row["published_at"] or row["fetched_at"])
    articles = datasette.urls.table(desk.db.name, "articles")
    table_query = urlencode({"_search": text, "_sort_desc": "published_at"}) if text else ""
    return await desk.page(
        request,
        "newswatch_search.html",
        {
            "q": text,
            "filters": filters,
            "available": available,
            "results": rows,
            "source_options": options["sources"],
            "table_url": f"{articles}?{table_query}" if text else str(articles),
        },
    )


async def watch_feed(datasette: Any, request: Request) -> Response:
    """An Atom feed of one watch's hits marked relevant.

    A feed reader without a browser session passes an account's feed token
    (``?token=``, from ``newswatch users token``); the feed is then read as that account.
    Ids and links come from ``review_url`` when it is configured, so they stay the same
    whatever Host header a reader sends.
    """
    token = request.args.get("token")
    if token:
        desk = await Desk.open(datasette, request, read=False)
        account = await desk.db.execute_fn(lambda conn: accounts.feed_token_account(conn, token))
        if account is None:
            return Response.text("unknown or revoked feed token", status=403)
        await datasette.ensure_permissions(
            Session(account, "account").actor(), [("view-database", desk.db.name), "view-instance"]
        )
    else:
        desk = await Desk.open(datasette, request)
    watch_id = request.url_vars["watch"]

    def load(conn: Any) -> tuple[bool, list[dict[str, Any]]]:
        return queries.watch_has_hits(conn, watch_id), queries.relevant_hits(conn, watch_id)

    known, rows = await desk.db.execute_fn(load)
    if not known and watch_id not in desk.settings.watches:
        raise NotFound(f"no watch {watch_id!r}")
    feed_path = desk.url(f"feed/{quote(watch_id, safe='')}.atom")
    for row in rows:
        row["id_url"] = hit_id_url(desk, request, row["id"])
        row["desk_url"] = desk.absolute(request, desk.url(f"hit/{row['id']}"))
    body = atom_feed(
        title=f"newswatch: {desk.watch_name(watch_id)} (relevant hits)",
        feed_id=desk.absolute(request, feed_path)
        if desk.settings.review_url
        else _urn(desk, f"feed:{watch_id}"),
        feed_url=desk.absolute(request, feed_path),
        page_url=desk.absolute(request, desk.url("", watch=watch_id, status="relevant")),
        entries=rows,
        empty_updated=clock.iso_now(),
    )
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def hit_id_url(desk: Desk, request: Request, hit_id: int) -> str:
    """A hit's permanent id in feeds: its desk page under ``review_url``, else a URN
    made from the database's name (never from the request's Host)."""
    if desk.settings.review_url:
        return desk.absolute(request, desk.url(f"hit/{hit_id}"))
    return _urn(desk, f"hit:{hit_id}")


def _urn(desk: Desk, what: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"newswatch:{desk.db.name}:{what}").urn


async def hit_page(datasette: Any, request: Request) -> Response:
    """A hit's own address (feeds and alerts link here): its article's page, at the hit."""
    desk = await Desk.open(datasette, request)
    hit_id = int(request.url_vars["hit"])
    rows = await desk.db.execute_fn(
        lambda conn: conn.execute("SELECT article_id FROM hits WHERE id = ?", [hit_id]).fetchall()
    )
    if not rows:
        raise NotFound(f"no hit {hit_id}")
    return Response.redirect(desk.url(f"article/{rows[0][0]}") + f"#hit-{hit_id}")


def _database_folder(desk: Desk) -> Path:
    """The folder of the desk's database file (evidence lives beside it)."""
    return Path(str(desk.db.path)).parent


async def article_page(datasette: Any, request: Request) -> Response:
    """One article: its state (revisits, removal), every text it had with what changed
    between them, its hits and the evidence kept of each fetch."""
    desk = await Desk.open(datasette, request)
    article_id = int(request.url_vars["article"])
    article = await desk.db.execute_fn(lambda conn: queries.article_versions(conn, article_id))
    if article is None:
        raise NotFound(f"no article {article_id}")
    versions = article["versions"]
    changes = []
    for older, newer in itertools.pairwise(versions):
        changes.append(
            {
                "at": day(older["until"]),
                "title_changed": older["title"] != newer["title"],
                "old_title": older["title"],
                "new_title": newer["title"],
                "lines": text_diff(older["text"], newer["text"]),
            }
        )
    for hit in article["hits"]:
        hit["watch_name"] = desk.watch_name(hit["watch_id"])
        hit["evidence_pack"] = desk.url(f"evidence/{hit['id']}.zip")
    return await desk.page(
        request,
        "newswatch_article.html",
        {
            "article": article,
            "href": safe_href(article["url"]),
            "changes": list(reversed(changes)),  # the latest change first
            "day": day,
        },
    )


async def evidence_pack(datasette: Any, request: Request) -> Response:
    """A zip of one hit's evidence: its article's WARC records and a JSON manifest."""
    desk = await Desk.open(datasette, request)
    hit_id = int(request.url_vars["hit"])
    base = _database_folder(desk)
    packed = await desk.db.execute_fn(lambda conn: evidence.pack(conn, base, hit_id))
    if packed is None:
        raise NotFound(f"no hit {hit_id}")
    name, body = packed
    return Response(
        body,
        content_type="application/zip",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


async def removed(datasette: Any, request: Request) -> Response:
    """Articles found taken down and mentions gone from changed texts, newest first."""
    desk = await Desk.open(datasette, request)
    items = await desk.db.execute_fn(queries.removed_items)
    for row in items["articles"]:
        row["href"] = safe_href(row["url"])
        row["when"] = day(row["removed_at"])
        row["page"] = desk.url(f"article/{row['id']}")
        if row["hit_id"] is not None and row["evidence_records"]:
            row["evidence_pack"] = desk.url(f"evidence/{row['hit_id']}.zip")
    for row in items["mentions"]:
        row["href"] = safe_href(row["url"])
        row["when"] = day(row["removed_at"])
        row["watch_name"] = desk.watch_name(row["watch_id"])
        row["page"] = desk.url(f"article/{row['article_id']}")
        if row["evidence_records"]:
            row["evidence_pack"] = desk.url(f"evidence/{row['id']}.zip")
    export = datasette.urls.query(desk.db.name, "removed_articles")
    return await desk.page(request, "newswatch_removed.html", {**items, "export": export})
