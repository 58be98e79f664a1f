"""Email bodies from Jinja2 templates: sandboxed, HTML autoescaped, built-in fallbacks.

A channel may point ``template_dir`` at its own ``alert``, ``digest`` and
``notice`` templates (``.txt`` and ``.html`` each). They run in Jinja2's
sandbox, the HTML ones with autoescaping on, so scraped text cannot inject
markup. A template that is missing, does not compile or fails while rendering
is replaced by the built-in one below, with a warning: a broken template
never stops an alert.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from alerts.payload import AlertMessage, Digest, Notice, web_link

log = logging.getLogger(__name__)

SNIPPET_LIMIT = 1000  # characters of a snippet shown in a mail

_ALERT_TXT = """\
{{ watch_name }} was mentioned{% if updated_at %} in an updated article\
{% if source %} from {{ source }}{% endif %}{% elif source %} in {{ source }}{% endif %}\
{% if date %} ({{ date }}){% endif %}.{% if updated_at %} It changed at {{ updated_at }}.\
{% endif %}

{{ title }}
{{ url }}
{% if snippet %}
"{{ snippet }}"
{% endif %}
matched: {{ matched }}{% if confidence is not none %} - confidence {{ "%.2f"|format(confidence) }}\
{% endif %}
{% if others %}also reported by {{ others }} other article{{ "s" if others != 1 }}
{% endif %}{% if review_url %}
Review desk: {{ review_url }}
{% endif %}"""

_ALERT_HTML = """\
<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<p><strong>{{ watch_name }}</strong> was mentioned{% if updated_at %} in an updated article\
{% if source %} from {{ source }}{% endif %}{% elif source %} in {{ source }}{% endif %}\
{% if date %} ({{ date }}){% endif %}.{% if updated_at %} It changed at {{ updated_at }}.\
{% endif %}</p>
<p dir="auto"><a href="{{ url }}">{{ title or url }}</a></p>
{% if snippet %}<blockquote dir="auto">{{ snippet }}</blockquote>{% endif %}
<p style="color: #555">matched: {{ matched }}\
{% if confidence is not none %} &middot; confidence {{ "%.2f"|format(confidence) }}{% endif %}\
{% if others %} &middot; also reported by {{ others }} other article{{ "s" if others != 1 }}\
{% endif %}</p>
{% if review_url %}<p><a href="{{ review_url }}">Review desk</a></p>{% endif %}
</body></html>
"""

_DIGEST_TXT = """\
{{ total }} alert{{ "s" if total != 1 }} from newswatch.
{% for item in items %}
* {{ item.watch_name }}: {% if item.updated_at %}(updated article) {% endif %}{{ item.title }}
  {{ item.source }}{% if item.date %}, {{ item.date }}{% endif %}
  {{ item.url }}
{% if item.snippet %}  "{{ item.snippet }}"
{% endif %}{% endfor %}{% if more %}
... and {{ more }} more: see the review desk.
{% endif %}{% if review_url %}
Review desk: {{ review_url }}
{% endif %}"""

_DIGEST_HTML = """\
<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<p>{{ total }} alert{{ "s" if total != 1 }} from newswatch.</p>
<ul>
{% for item in items %}<li><strong>{{ item.watch_name }}</strong>:\
{% if item.updated_at %} (updated article){% endif %}
<a href="{{ item.url }}">{{ item.title or item.url }}</a>
<span style="color: #555">({{ item.source }}{% if item.date %}, {{ item.date }}{% endif %})</span>
{% if item.snippet %}<br><em>{{ item.snippet }}</em>{% endif %}</li>
{% endfor %}</ul>
{% if more %}<p>&hellip; and {{ more }} more: see the review desk.</p>{% endif %}
{% if review_url %}<p><a href="{{ review_url }}">Review desk</a></p>{% endif %}
</body></html>
"""

_NOTICE_TXT = """\
{{ title }}

{{ text }}
{% if link %}
{{ link }}
{% endif %}"""

_NOTICE_HTML = """\
<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<p><strong>{{ title }}</strong></p>
<p style="white-space: pre-wrap">{{ text }}</p>
{% if link %}<p><a href="{{ link }}">{{ link }}</a></p>{% endif %}
</body></html>
"""

BUILTIN: dict[str, str] = {
    "alert.txt": _ALERT_TXT,
    "alert.html": _ALERT_HTML,
    "digest.txt": _DIGEST_TXT,
    "digest.html": _DIGEST_HTML,
    "notice.txt": _NOTICE_TXT,
    "notice.html": _NOTICE_HTML,
}


def _environment(loader: jinja2.BaseLoader) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=loader,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.ChainableUndefined,
        keep_trailing_newline=True,
    )


_BUILTIN_ENV = _environment(jinja2.DictLoader(BUILTIN))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def message_context(message: AlertMessage) -> dict[str, Any]:
    """The variables an alert template sees (plain values; the template escapes)."""
    return {
        "watch_id": message.watch_id,
        "watch_name": message.watch_name,
        "title": message.title,
        "url": web_link(message.url),
        "source": message.source,
        "date": (message.published_at or "")[:10],
        "published_at": message.published_at,
        "language": message.language,
        "matched": message.matched,
        "snippet": _clip(message.snippet, SNIPPET_LIMIT),
        "confidence": message.confidence,
        "others": len(message.also_reported_by),
        "also_reported_by": list(message.also_reported_by),
        "review_url": web_link(message.review_url),
        "priority": message.priority,
        "updated_at": message.updated_at,
    }


def digest_context(digest: Digest) -> dict[str, Any]:
    """The variables a digest template sees."""
    return {
        "items": [message_context(item) for item in digest.items],
        "total": digest.total,
        "more": digest.more,
        "review_url": web_link(digest.review_url),
        "channel": digest.channel,
    }


def notice_context(notice: Notice) -> dict[str, Any]:
    """The variables a notice template sees."""
    return {
        **notice.data,
        "title": notice.title,
        "text": notice.text,
        "link": web_link(notice.link),
    }


class Templates:
    """Renders the text and HTML parts of alert, digest and notice emails."""

    def __init__(self, template_dir: str | None = None) -> None:
        self._custom = _environment(jinja2.FileSystemLoader(template_dir)) if template_dir else None

    def render(self, name: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """``(text, html)`` for template ``name`` (alert, digest or notice)."""
        return self._one(f"{name}.txt", context), self._one(f"{name}.html", context)

    def _one(self, filename: str, context: Mapping[str, Any]) -> str:
        if self._custom is not None:
            try:
                return self._custom.get_template(filename).render(context)
            except jinja2.TemplateNotFound:
                pass
            except Exception as exc:  # a user's template must never stop an alert
                log.warning(
                    "alerts: template %s failed (%s: %s); using the built-in one",
                    filename,
                    type(exc).__name__,
                    exc,
                )
        return _BUILTIN_ENV.get_template(filename).render(context)
