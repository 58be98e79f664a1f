"""The desk's Datasette plugin: its hooks, with its ``static/`` and ``templates/`` beside them.

Datasette loads this package through the ``datasette`` entry point
``newswatch = "crawler.review.plugin"``, serves ``static/`` at
``/-/static-plugins/newswatch/`` and finds ``templates/``. It imports nothing
that loads Datasette's plugins (``datasette.app``, ``datasette.plugins``), so
the entry point never meets a half-imported module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pluggy import HookimplMarker

from crawler.review import access, views
from crawler.review.access import PREFIX, DeskSettings
from crawler.review.queries import CANNED_QUERIES

hookimpl = HookimplMarker("datasette")


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Callable[..., Any]]]:
    """The desk's pages under /-/newswatch/ (and / itself when configured as home)."""
    routes: list[tuple[str, Callable[..., Any]]] = [
        (rf"^{PREFIX}/?$", views.queue),
        (rf"^{PREFIX}/verdict$", views.verdict),
        (rf"^{PREFIX}/login$", views.login),
        (rf"^{PREFIX}/logout$", views.logout),
        (rf"^{PREFIX}/dashboard$", views.dashboard),
        (rf"^{PREFIX}/search$", views.search),
        (rf"^{PREFIX}/removed$", views.removed),
        (rf"^{PREFIX}/article/(?P<article>[0-9]+)$", views.article_page),
        (rf"^{PREFIX}/hit/(?P<hit>[0-9]+)$", views.hit_page),
        (rf"^{PREFIX}/evidence/(?P<hit>[0-9]+)\.zip$", views.evidence_pack),
        (rf"^{PREFIX}/feed/(?P<watch>[^/]+)\.atom$", views.watch_feed),
        (rf"^{PREFIX}/static/(?P<name>[A-Za-z0-9._-]+)$", views.old_static),
        (rf"^{PREFIX}/.+$", views.unknown),
    ]
    if datasette is not None and DeskSettings.of(datasette).home:
        routes.append((r"^/$", views.home))
    return routes


@hookimpl(tryfirst=True)
def actor_from_request(datasette: Any, request: Any) -> Any:
    """The actor of a desk session (checked against its account), noting where the client is."""
    access.note_client(request.scope)
    session = access.read_session(datasette, request.cookies)
    if session is None:
        return None
    return views.session_actor(datasette, session)


@hookimpl
def permission_allowed(datasette: Any, actor: Any, action: str, resource: Any) -> Any:
    """The desk's policy: no anonymous reads from afar; ``newswatch-review`` for verdicts."""
    return access.policy(datasette, actor, action, resource)


@hookimpl
def forbidden(datasette: Any, request: Any, message: str) -> Any:
    """An anonymous browser refused a page goes to the login form; other clients get a 401."""
    if request.actor:
        return None  # Datasette's own 403 page says what is missing
    return views.refuse_anonymous(datasette, request)


@hookimpl
def canned_queries(
    datasette: Any, database: str, actor: Any
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """The desk's canned queries, on the newswatch database only."""

    async def inner() -> dict[str, Any]:
        found = await views.find_database(datasette, DeskSettings.of(datasette))
        return dict(CANNED_QUERIES) if found is not None and found.name == database else {}

    return inner


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> list[dict[str, str]]:
    """Links to the desk in Datasette's menu, on every page."""
    return [
        {"href": datasette.urls.path(f"{PREFIX}/"), "label": "Review queue"},
        {"href": datasette.urls.path(f"{PREFIX}/dashboard"), "label": "Review dashboard"},
        {"href": datasette.urls.path(f"{PREFIX}/search"), "label": "Search articles"},
    ]
