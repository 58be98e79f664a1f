"""Datasette hooks: the desk's routes, its login gate, canned queries and menu links."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pluggy import HookimplMarker

from crawler.review import views
from crawler.review.access import PREFIX, App, DeskSettings, gate
from crawler.review.queries import CANNED_QUERIES

hookimpl = HookimplMarker("datasette")


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Callable[..., Any]]]:
    """The desk's pages under /-/newswatch/ (and / itself when configured as home)."""
    routes: list[tuple[str, Callable[..., Any]]] = [
        (rf"^{PREFIX}/?$", views.queue),
        (rf"^{PREFIX}/verdict$", views.verdict),
        (rf"^{PREFIX}/login$", views.login),
        (rf"^{PREFIX}/dashboard$", views.dashboard),
        (rf"^{PREFIX}/search$", views.search),
        (rf"^{PREFIX}/removed$", views.removed),
        (rf"^{PREFIX}/article/(?P<article>[0-9]+)$", views.article_page),
        (rf"^{PREFIX}/evidence/(?P<hit>[0-9]+)\.zip$", views.evidence_pack),
        (rf"^{PREFIX}/feed/(?P<watch>[^/]+)\.atom$", views.watch_feed),
        (rf"^{PREFIX}/static/(?P<name>[a-z0-9_.-]+)$", views.static),
    ]
    if datasette is not None and DeskSettings.of(datasette).home:
        routes.append((r"^/$", views.home))
    return routes


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[App], App]:
    """Send clients that must log in (not local, or local reads turned off) to the login page."""

    def wrap(app: App) -> App:
        return gate(datasette, app)

    return wrap


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
