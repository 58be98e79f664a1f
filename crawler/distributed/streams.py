"""The shared request queue: one Redis stream per spider, read through a consumer group.

Why streams and not a processing list: a consumer group keeps, per worker, every
entry it has read and not yet acknowledged (the pending entries list), so "which
requests did the dead worker hold" is one ``XPENDING`` away, with no list per worker
to sweep and no timestamps of our own. A worker acknowledges an entry only once what
it led to (pages, further requests, source reports) is in Redis; when a worker's
heartbeat key expires the ingest side puts its pending entries back at the end of
the stream (``give_back``), for any worker. Entries are chosen by their holder's
heartbeat, not by how long they have been pending (``XAUTOCLAIM``'s min-idle-time),
so a slow download on a live worker is never fetched twice; an entry whose holders
died ``MAX_RETURNS`` times is dropped and reported, so one page that kills workers
cannot kill them all.

Every entry has the fields ``r`` (the scrapy-redis-encoded request), ``s`` (its
source), ``u`` (its URL), ``c`` (the ingest cycle it belongs to) and ``n`` (how often
a dead holder gave it back). The hash ``outstanding_key(cycle)`` counts per source
the entries added and not yet acknowledged: a source whose count is above zero when
a cycle ends had work left undone, and keeps its stored validators.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, cast

import redis

from crawler.distributed.keys import GROUP, SPIDERS, WORKER_KEY, outstanding_key, queue_key

log = logging.getLogger(__name__)

MAX_RETURNS = 3  # times an entry's holder may die before the entry is dropped

# KEYS[1] stream, KEYS[2] outstanding hash; ARGV[1] group, ARGV[2] id, ARGV[3] source.
_ACK = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[2], ARGV[3], -1)
  return 1
end
return 0
"""

# A new entry, marked seen in the shared dupefilter in the same step: a worker killed
# between the two would leave a request seen and never queued (lost for good), so they
# are one script. Returns 0, queuing nothing, when the request was seen already.
# KEYS[1] stream, KEYS[2] outstanding hash, KEYS[3] dupefilter set; ARGV[1] fingerprint
# ('' for a request not filtered), ARGV[2] source, ARGV[3] hash TTL, ARGV[4..] fields.
_ADD = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[3], ARGV[1]) == 0 then
  return 0
end
redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""

# A taken entry replaced by a new one (a redirect, a retry): the new entry is added only
# if the old one was still held and the new request was not seen (it is marked seen in
# the same step), and the source's count stays as it is. Returns 1 replaced, 0 not held,
# -1 seen already (the held entry is left as it was).
# KEYS[1] stream, KEYS[2] dupefilter set; ARGV[1] group, ARGV[2] id held, ARGV[3]
# fingerprint ('' for a request not filtered), ARGV[4..] the new entry's fields.
_REPLACE = """
if ARGV[3] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[3]) == 1 then
  return -1
end
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, 4))
  if ARGV[3] ~= '' then redis.call('SADD', KEYS[2], ARGV[3]) end
  return 1
end
return 0
"""

# Put held entries back at the end of the stream, or drop those given back too often.
# KEYS[1] stream; ARGV[1] group, ARGV[2] '1' if the holder died, ARGV[3] MAX_RETURNS,
# ARGV[4..] ids. Returns the fields of the entries dropped.
_GIVE_BACK = """
local dropped = {}
for i = 4, #ARGV do
  local found = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])
  if #found > 0 and redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
    local fields = found[1][2]
    local copy, returns = {}, 0
    for j = 1, #fields, 2 do
      if fields[j] == 'n' then
        returns = tonumber(fields[j + 1])
      else
        table.insert(copy, fields[j])
        table.insert(copy, fields[j + 1])
      end
    end
    if ARGV[2] == '1' then returns = returns + 1 end
    redis.call('XDEL', KEYS[1], ARGV[i])
    if returns >= tonumber(ARGV[3]) then
      table.insert(dropped, fields)
    else
      table.insert(copy, 'n')
      table.insert(copy, tostring(returns))
      redis.call('XADD', KEYS[1], '*', unpack(copy))
    end
  end
end
return dropped
"""


@dataclass(frozen=True)
class Dropped:
    """An entry dropped after its holders died ``MAX_RETURNS`` times."""

    source: str
    url: str


def ensure_group(server: redis.Redis, stream: str) -> None:
    """Create the stream and its consumer group if they do not exist yet."""
    try:
        server.xgroup_create(stream, GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def fields_of(entry: Any) -> dict[str, str]:
    """An entry's fields as text (XREADGROUP gives a dict, a script a flat list)."""
    if isinstance(entry, dict):
        pairs = list(entry.items())
    else:
        pairs = list(zip(entry[::2], entry[1::2], strict=True))
    return {_text(key): _text(value) for key, value in pairs if _text(key) != "r"}


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Seen:
    """Where a filtered request is marked seen: the shared dupefilter set and its
    fingerprint there."""

    key: str
    fingerprint: str


def add(
    server: redis.Redis,
    stream: str,
    fields: dict[str, str | bytes],
    cycle: str,
    seen: Seen | None = None,
) -> bool:
    """Queue one request (and count it as outstanding for its source); with ``seen``,
    only if it was not seen before, marking it seen in the same step. False: seen."""
    flat = [part for pair in fields.items() for part in pair]
    script = server.register_script(_ADD)
    keys = [stream, outstanding_key(cycle), seen.key if seen else f"{stream}:unused"]
    args = [seen.fingerprint if seen else "", str(fields["s"]), 7 * 24 * 3600, *flat]
    return bool(script(keys=keys, args=args))


def replace(
    server: redis.Redis,
    stream: str,
    held: str,
    fields: dict[str, str | bytes],
    seen: Seen | None = None,
) -> int:
    """Queue a request in place of the held entry it replaces (with ``seen``, only if not
    seen before, marking it seen in the same step): 1 replaced, 0 the entry was not held,
    -1 the request was seen already and the held entry is left as it was."""
    flat = [part for pair in fields.items() for part in pair]
    script = server.register_script(_REPLACE)
    keys = [stream, seen.key if seen else f"{stream}:unused"]
    return int(script(keys=keys, args=[GROUP, held, seen.fingerprint if seen else "", *flat]))


def ack(server: redis.Redis, stream: str, entry: str, source: str, cycle: str) -> bool:
    """Acknowledge a held entry: done, its results in Redis. False if it was not held (a
    dead-seeming worker's entry, given back meanwhile)."""
    script = server.register_script(_ACK)
    return bool(script(keys=[stream, outstanding_key(cycle)], args=[GROUP, entry, source]))


def give_back(
    server: redis.Redis, stream: str, entries: list[str], *, died: bool = False
) -> list[Dropped]:
    """Put held entries back in the queue for any worker (``died``: their holder's heartbeat
    expired, which counts towards ``MAX_RETURNS``); return those dropped instead."""
    if not entries:
        return []
    script = server.register_script(_GIVE_BACK)
    found = script(keys=[stream], args=[GROUP, "1" if died else "0", MAX_RETURNS, *entries])
    dropped = []
    for raw in cast(list[Any], found):
        fields = fields_of(raw)
        server.hincrby(outstanding_key(fields.get("c", "0")), fields.get("s", ""), -1)
        dropped.append(Dropped(fields.get("s", ""), fields.get("u", "")))
    return dropped


def reclaim(server: redis.Redis) -> tuple[int, list[Dropped]]:
    """Give back the entries of every worker whose heartbeat has expired; return how many
    went back, and those dropped instead. A dead worker with none left is forgotten."""
    returned, dropped = 0, []
    for spider in SPIDERS:
        stream = queue_key(spider)
        try:
            consumers = server.xinfo_consumers(stream, GROUP)
        except redis.ResponseError:  # no stream or group yet
            continue
        for consumer in consumers:
            name = _text(consumer["name"])
            if server.exists(WORKER_KEY % {"worker": name}):
                continue
            if int(consumer["pending"]):
                held = server.xpending_range(stream, GROUP, "-", "+", 10_000, consumername=name)
                ids = [_text(entry["message_id"]) for entry in held]
                lost = give_back(server, stream, ids, died=True)
                returned += len(ids) - len(lost)
                dropped += lost
                log.warning(
                    "crawl worker %s stopped answering; %d requests it held are queued again",
                    name,
                    len(ids) - len(lost),
                )
            else:
                server.xgroup_delconsumer(stream, GROUP, name)
    return returned, dropped


def depth(server: redis.Redis) -> dict[str, dict[str, int]]:
    """Per spider: requests waiting for a worker, and held by one."""
    found: dict[str, dict[str, int]] = {}
    for spider in SPIDERS:
        stream = queue_key(spider)
        pipe = server.pipeline(transaction=False)
        pipe.xlen(stream)
        pipe.exists(stream)
        length, exists = pipe.execute()
        held = 0
        if exists:
            try:
                held = int(server.xpending(stream, GROUP)["pending"])
            except redis.ResponseError:
                held = 0
        found[spider] = {"waiting": int(length) - held, "held": held}
    return found


def workers(server: redis.Redis) -> list[dict[str, Any]]:
    """The live workers' heartbeats (host, pid, spider, busy, held requests, cycle)."""
    keys = sorted(server.scan_iter(match=WORKER_KEY % {"worker": "*"}, count=1000))
    values = server.mget(keys) if keys else []
    beats = []
    for value in cast(list[Any], values):
        if value is None:
            continue
        try:
            beats.append(json.loads(value))
        except ValueError:
            continue
    return beats
