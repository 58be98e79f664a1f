"""Match: the watchlist compiled into one automaton; names in every form, cases as queries."""

from crawler.matching.matcher import Matcher, hide_names, snippet
from crawler.matching.query import Query, compile_query

__all__ = ["Matcher", "Query", "compile_query", "hide_names", "snippet"]
