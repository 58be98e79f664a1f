"""URL canonicalization for deduplication: one spelling per article, whichever link led to it.

`canonicalize` builds on `w3lib.url.canonicalize_url`, which sorts the query, normalises
percent-encoding, IDNA-encodes the host, resolves dot segments and drops the fragment. It
keeps default ports, tracking parameters and mobile/AMP variants, so those are handled here.
courlan's `normalize_url` was measured too and not used: it keeps fragments, leaves
`%2f`/`%2F` apart, decodes punycode hosts, and its tracker pattern also drops ordinary
parameters (`gallery`, `source`, `uid`, `ref`) and mangles `?amp=1` into `?=1`.

Deliberate differences from those libraries (tests/test_urls.py runs their cases):
- from w3lib's `canonicalize_url` (called underneath): `www.`/`m.`/`amp.` host prefixes,
  default ports, user info, tracking and AMP parameters go; `&amp;` becomes `&`;
- from courlan's `normalize_url`: the fragment goes, `%2f` is upper-cased like the rest,
  punycode hosts stay punycode, only the named trackers go;
- from url-normalize: the host loses `www.`, and the query is sorted.
No path segment is ever dropped: `/tag/amp` is a tag page about AMP, not an AMP view of
`/tag`. Only AMP file forms (`story.amp.html`, `story.amp`) and AMP query forms are.
"""

from __future__ import annotations

import re
from functools import cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

import tldextract
from w3lib.url import canonicalize_url

__all__ = ["canonicalize", "registrable_domain", "same_site"]

# Host prefixes that name a variant of the same site, not a different one.
_HOST_PREFIXES = ("www.", "m.", "amp.")

_DEFAULT_PORTS = {"http": 80, "https": 443}

# Query parameters that only say how a reader arrived; compared lowercased. Campaign
# systems are listed by the parameters they document (Matomo/Piwik pk_ and mtm_, AT
# Internet/Piano at_, HubSpot hsa_, itm_), not by prefix: "at_home" or "pk_id" are a site's own.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
        "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "_ga", "_gl", "_hsenc", "_hsmi",
        "_openstat", "mc_cid", "mc_eid", "mkt_tok", "ref_src", "ref_url", "cmpid", "ocid",
        "icid", "ncid", "xtor", "xtref", "ito", "s_cid", "smid", "smtyp", "soc_src", "soc_trk",
        "wt.mc_id", "wt_mc_id", "guccounter", "guce_referrer", "guce_referrer_sig", "spm",
        "vero_id", "oly_anon_id", "oly_enc_id", "rb_clickid", "__twitter_impression",
        "clickid", "fb_ref", "fb_source", "fb_action_ids", "fb_action_types",
        "action_object_map", "action_type_map", "action_ref_map", "srsltid", "s_kwcid",
        "ef_id", "_branch_match_id", "sr_share", "mibextid", "trk", "trkcampaign",
        # Matomo / Piwik
        "pk_campaign", "pk_kwd", "pk_keyword", "pk_source", "pk_medium", "pk_content", "pk_cid",
        "mtm_campaign", "mtm_kwd", "mtm_keyword", "mtm_source", "mtm_medium", "mtm_content",
        "mtm_cid", "mtm_group", "mtm_placement",
        # AT Internet / Piano (BBC, Le Monde, ...)
        "at_medium", "at_campaign", "at_campaign_type", "at_platform", "at_creation",
        "at_variant", "at_format", "at_send_date", "at_link", "at_link_id", "at_link_type",
        "at_link_origin", "at_ptr_name", "at_bbc_team", "at_type", "at_recipient_id",
        "at_recipient_list", "at_emailtype", "at_general_placement", "at_detail_placement",
        "at_custom1", "at_custom2", "at_custom3", "at_custom4", "at_identifier",
        # HubSpot ads
        "hsa_acc", "hsa_cam", "hsa_grp", "hsa_ad", "hsa_src", "hsa_tgt", "hsa_kw", "hsa_mt",
        "hsa_net", "hsa_ver", "hsa_la", "hsa_ol",
        # internal-promotion campaign parameters
        "itm_source", "itm_medium", "itm_campaign", "itm_content", "itm_term", "itm_channel",
        "itm_audience", "stm_source", "stm_medium", "stm_campaign", "stm_content", "stm_term",
    }
)  # fmt: skip
# Google Analytics' utm_ family is open-ended (utm_id, utm_source_platform, ...).
_TRACKING_PREFIXES = ("utm_",)

# Query parameters that only select the AMP rendering of the same article.
_AMP_PARAMS = frozenset({"amp", "_amp", "outputtype=amp", "output=amp"})

# A query string escaped as HTML once too often (feeds that escape an escaped link).
_ESCAPED_AMPERSAND = re.compile(r"&amp;", re.IGNORECASE)

# Google's AMP cache and AMP viewer wrap the publisher's URL in their own.
_AMP_CACHE_PATH = re.compile(r"^/(?:c|v|wp)/(s/)?([^/]+)(/.*)?$")
_AMP_VIEWER_PATH = re.compile(r"^/amp/(s/)?([^/]+)(/.*)?$")

_MULTIPLE_SLASHES = re.compile(r"/{2,}")


@cache
def _tld_extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot: no network, no cache files written.
    return tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True
    )


def _unwrap_amp_cache(scheme: str, host: str, path: str) -> tuple[str, str, str]:
    """Turn a Google AMP cache or viewer URL back into the publisher's scheme, host and path."""
    if host.endswith("cdn.ampproject.org"):
        match = _AMP_CACHE_PATH.match(path)
    elif host in ("google.com", "www.google.com") or (
        host.startswith("www.google.") and path.startswith("/amp/")
    ):
        match = _AMP_VIEWER_PATH.match(path)
    else:
        return scheme, host, path
    if match is None:
        return scheme, host, path
    secure, inner_host, inner_path = match.groups()
    return ("https" if secure else "http"), inner_host.lower(), inner_path or "/"


def _strip_host_prefixes(host: str) -> str:
    changed = True
    while changed:
        changed = False
        for prefix in _HOST_PREFIXES:
            # Keep at least two labels: "m.kz" is a domain, not a mobile variant of "kz".
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix) :]
                changed = True
    return host


def _strip_amp_path(path: str) -> str:
    """The path without an AMP file form (``story.amp.html``, ``story.amp``); segments stay."""
    lowered = path.lower()
    if lowered.endswith(".amp.html"):
        path = path[: -len(".amp.html")] + ".html"
    elif lowered.endswith(".amp.htm"):
        path = path[: -len(".amp.htm")] + ".htm"
    elif lowered.endswith(".amp") and len(path) > len("/.amp"):
        path = path[: -len(".amp")]
    return path


def _is_dropped_param(piece: str) -> bool:
    name, _, value = piece.partition("=")
    name = unquote_plus(name).strip().lower()
    if not name:
        return True
    if name in _TRACKING_PARAMS or name.startswith(_TRACKING_PREFIXES):
        return True
    return name in _AMP_PARAMS or f"{name}={unquote_plus(value).lower()}" in _AMP_PARAMS


def _clean_query(query: str) -> str:
    while _ESCAPED_AMPERSAND.search(query):  # "&amp;amp;" was escaped twice
        query = _ESCAPED_AMPERSAND.sub("&", query)
    return "&".join(p for p in query.split("&") if p and not _is_dropped_param(p))


def canonicalize(url: str) -> str:
    """Return the canonical spelling of an http(s) URL, for use as a deduplication key.

    Lowercases scheme and host, strips `www.`/`m.`/`amp.` host prefixes, default ports,
    user info, AMP file and query forms (also Google AMP cache URLs), tracking parameters
    and the fragment; sorts the query and normalises percent-encoding. The path keeps its
    case. Anything that is not an http(s) URL, or cannot be parsed, is returned stripped
    but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return url
        host = parts.hostname.rstrip(".")
        port = parts.port
        scheme, host, path = _unwrap_amp_cache(scheme, host, parts.path)
        host = _strip_host_prefixes(host)
        netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
        if ":" in host:  # an IPv6 literal
            netloc = f"[{host}]" if port in (None, _DEFAULT_PORTS[scheme]) else f"[{host}]:{port}"
        path = _strip_amp_path(_MULTIPLE_SLASHES.sub("/", path))
        query = _clean_query(parts.query)
        return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))
    except ValueError:  # bad port, bad IPv6 literal, label too long for IDNA...
        return url


def registrable_domain(url: str) -> str:
    """Return the registrable domain of a URL's host (`news.bbc.co.uk` -> `bbc.co.uk`).

    Uses the Public Suffix List snapshot bundled with tldextract, private suffixes included
    (so two blogspot.com blogs are different sites). A host without a public suffix (an IP
    address, `localhost`) is returned whole; an unparseable URL gives "".
    """
    canonical = canonicalize(url)
    try:
        host = urlsplit(canonical).hostname or ""
    except ValueError:
        return ""
    if not host:
        return ""
    parts = _tld_extractor()(host)
    if parts.domain and parts.suffix:
        return f"{parts.domain}.{parts.suffix}"
    return host


def same_site(a: str, b: str) -> bool:
    """Tell whether two URLs belong to the same site (same registrable domain)."""
    domain = registrable_domain(a)
    return bool(domain) and domain == registrable_domain(b)
