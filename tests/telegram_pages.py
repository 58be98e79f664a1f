"""Invented Telegram channel previews for tests, in the markup of https://t.me/s/<channel>.

``write_channel(root, "steppe_rights", posts)`` writes what ``tests/server.py`` serves at
``/s/steppe_rights`` (the newest ``per_page`` posts) and ``/s/steppe_rights?before=N``
(the ``per_page`` posts before post N), for every N, as Telegram answers any ``before``.
A test rewrites the channel between runs to add posts.
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TgPost:
    """One invented post; ``text`` is the message's inner HTML ("" for a photo alone)."""

    id: int
    text: str = ""
    when: str = "2026-11-20T08:00:00+00:00"
    forwarded: tuple[str, str] | None = None  # (origin's name, its t.me URL)
    preview: tuple[str, str, str] | None = None  # (URL, title, description)
    photo: bool = False


def post_html(channel: str, post: TgPost) -> str:
    """One ``.tgme_widget_message`` block, as the preview shows a post."""
    parts = [
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        '<div class="tgme_widget_message text_not_supported_wrap js-widget_message" '
        f'data-post="{channel}/{post.id}">',
        '<div class="tgme_widget_message_bubble">',
    ]
    if post.forwarded:
        name, url = post.forwarded
        parts.append(
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
            f'<a class="tgme_widget_message_forwarded_from_name" href="{html.escape(url)}">'
            f'<span dir="auto">{html.escape(name)}</span></a></div>'
        )
    if post.photo:
        parts.append(
            f'<a class="tgme_widget_message_photo_wrap" href="https://t.me/{channel}/{post.id}" '
            "style=\"width:800px;background-image:url('https://cdn.example/p.jpg')\">"
            '<div class="tgme_widget_message_photo" style="padding-top:75%"></div></a>'
        )
    if post.text:
        parts.append(
            f'<div class="tgme_widget_message_text js-message_text" dir="auto">{post.text}</div>'
        )
    if post.preview:
        url, title, description = post.preview
        parts.append(
            f'<a class="tgme_widget_message_link_preview" href="{html.escape(url)}">'
            '<div class="link_preview_site_name accent_color" dir="auto">Northern Courier</div>'
            f'<div class="link_preview_title" dir="auto">{html.escape(title)}</div>'
            f'<div class="link_preview_description" dir="auto">{html.escape(description)}</div>'
            "</a>"
        )
    parts.append(
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        '<span class="tgme_widget_message_views">120</span>'
        '<span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/{channel}/{post.id}">'
        f'<time datetime="{post.when}" class="time">08:00</time></a></span></div></div>'
    )
    parts.append("</div></div></div>")
    return "\n".join(parts)


def render_page(channel: str, posts: list[TgPost], older: int | None) -> str:
    """A preview page holding ``posts`` (oldest first); ``older`` is the ``before`` of the
    page of older posts, if there are any."""
    more = (
        f'<link rel="prev" href="/s/{channel}?before={older}">' if older is not None else ""
    )
    anchor = (
        '<div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{channel}?before={older}" class="tme_messages_more js-messages_more" '
        f'data-before="{older}"></a></div>'
        if older is not None
        else ""
    )
    body = "\n".join(post_html(channel, post) for post in posts)
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Steppe Rights Monitor – Telegram</title>
<link rel="canonical" href="https://t.me/s/{channel}">
{more}
</head>
<body class="widget_frame_base tgme_webpreview">
<main class="tgme_main"><section class="tgme_channel_history js-message_history">
{anchor}
{body}
</section></main>
<div class="tgme_channel_info"><div class="tgme_channel_info_header">
<div class="tgme_channel_info_header_title"><span dir="auto">Steppe Rights Monitor</span></div>
<div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div>
</div></div>
</body>
</html>
"""


def embed_page(channel: str, post: TgPost | None) -> str:
    """One post's own page (``?embed=1``), or Telegram's "Post not found" for none."""
    body = (
        post_html(channel, post)
        if post is not None
        else '<div class="tgme_widget_message_error">Post not found</div>'
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram Widget</title>'
        f'</head><body class="body_widget_post emoji_image">{body}</body></html>'
    )


def write_channel(
    root: Path, channel: str, posts: list[TgPost], per_page: int = 5, last_id: int = 0
) -> None:
    """Write the channel's newest page, its page before every post id and every post's own
    page, up to ``last_id`` (the newest id the channel ever had: later posts deleted)."""
    folder = root / "s" / channel
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ordered = sorted(posts, key=lambda post: post.id)

    def page(before: int | None) -> str:
        shown = [p for p in ordered if before is None or p.id < before][-per_page:]
        older = shown[0].id if shown and shown[0].id > ordered[0].id else None
        return render_page(channel, shown, older)

    (folder / "index.html").write_text(page(None), encoding="utf-8")
    if ordered:
        for before in range(ordered[0].id, ordered[-1].id + 2):
            (folder / f"before-{before}.html").write_text(page(before), encoding="utf-8")
        by_id = {post.id: post for post in ordered}
        for number in range(1, max(last_id, ordered[-1].id) + 1):
            (folder / f"post-{number}.html").write_text(
                embed_page(channel, by_id.get(number)), encoding="utf-8"
            )
