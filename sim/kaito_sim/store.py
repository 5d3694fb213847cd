"""In-memory object store with a global resourceVersion and a bounded event window.

Stored objects are never mutated in place: every write stores a new dict, so readers
may serialise what they got without holding the lock.
"""

from __future__ import annotations

import bisect
import builtins  # builtins.list: Store.list shadows it in the class body
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .util import new_uid, rfc3339

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped


@dataclass(frozen=True)
class Event:
    rv: int
    key: str  # resource type key "group/plural"
    type: str  # ADDED | MODIFIED | DELETED
    obj: dict
    old: dict | None = None


class Store:
    def __init__(self, event_window: int = 10000) -> None:
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self._data: dict[str, dict[Key, dict]] = {}
        self._sorted: dict[str, list[Key]] = {}
        self._events: list[Event] = []
        self._event_rvs: list[int] = []
        self.window = max(1, int(event_window))
        self.oldest_rv = 0  # watches from an RV below this get 410 Expired
        self._owners: dict[str, set[tuple[str, str, str]]] = {}
        self._listeners: list[Callable[[Event], None]] = []

    # ----- listeners (called under the lock; must be quick) -----
    def add_listener(self, fn: Callable[[Event], None]) -> None:
        with self.lock:
            self._listeners.append(fn)

    # ----- reads -----
    def get(self, key: str, ns: str, name: str) -> dict | None:
        with self.lock:
            return self._data.get(key, {}).get((ns or "", name))

    def _sorted_keys(self, key: str) -> builtins.list[Key]:
        """The (namespace, name) keys of a type in order, sorted once until the next write (hold the lock)."""
        keys = self._sorted.get(key)
        if keys is None:
            keys = self._sorted[key] = sorted(self._data.get(key, {}))
        return keys

    def list(self, key: str, ns: str | None = None) -> list[dict]:
        """All objects of a type (optionally one namespace), sorted by namespace/name."""
        with self.lock:
            bucket = self._data.get(key, {})
            keys = self._sorted_keys(key)
            if ns is None:
                return [bucket[k] for k in keys]
            lo = bisect.bisect_left(keys, (ns, ""))
            out = []
            for k in keys[lo:]:
                if k[0] != ns:
                    break
                out.append(bucket[k])
            return out

    def list_after(self, key: str, ns: str | None, after: Key | None) -> tuple[builtins.list[dict], int]:
        """Objects strictly after `after` in (namespace, name) order, plus the current RV."""
        with self.lock:
            bucket = self._data.get(key, {})
            keys = self._sorted_keys(key)
            start = bisect.bisect_right(keys, after) if after else 0
            if ns is not None:
                start = max(start, bisect.bisect_left(keys, (ns, "")))
            out = []
            for k in keys[start:]:
                if ns is not None and k[0] != ns:
                    break
                out.append(bucket[k])
            return out, self.rv

    def count(self, key: str) -> int:
        with self.lock:
            return len(self._data.get(key, {}))

    def dependents(self, owner_uid: str) -> builtins.list[tuple[str, str, str]]:
        with self.lock:
            return sorted(self._owners.get(owner_uid, ()))

    # ----- writes -----
    def _next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def _index_owners(self, key: str, obj: dict, add: bool) -> None:
        meta = obj.get("metadata") or {}
        ref = (key, meta.get("namespace", "") or "", meta.get("name", ""))
        for o in meta.get("ownerReferences") or []:
            uid = o.get("uid")
            if not uid:
                continue
            if add:
                self._owners.setdefault(uid, set()).add(ref)
            else:
                s = self._owners.get(uid)
                if s is not None:
                    s.discard(ref)
                    if not s:
                        del self._owners[uid]

    def _emit(self, ev: Event) -> None:
        self._events.append(ev)
        self._event_rvs.append(ev.rv)
        if len(self._events) > 2 * self.window:
            drop = len(self._events) - self.window
            self.oldest_rv = self._events[drop - 1].rv
            del self._events[:drop]
            del self._event_rvs[:drop]
        for fn in self._listeners:
            fn(ev)
        self.cond.notify_all()

    def put(self, key: str, obj: dict, *, fill: bool = True) -> dict:
        """Create or replace. Sets resourceVersion (and uid/creationTimestamp when missing)."""
        with self.lock:
            meta = dict(obj.get("metadata") or {})
            ns, name = meta.get("namespace", "") or "", meta["name"]
            bucket = self._data.setdefault(key, {})
            old = bucket.get((ns, name))
            rv = self._next_rv()
            if fill:
                if old is not None:
                    ometa = old.get("metadata") or {}
                    meta.setdefault("uid", ometa.get("uid"))
                    meta.setdefault("creationTimestamp", ometa.get("creationTimestamp"))
                meta.setdefault("uid", new_uid())
                meta.setdefault("creationTimestamp", rfc3339())
                if meta.get("uid") is None:
                    meta["uid"] = new_uid()
                if meta.get("creationTimestamp") is None:
                    meta["creationTimestamp"] = rfc3339()
            meta["resourceVersion"] = str(rv)
            new = dict(obj)
            new["metadata"] = meta
            if old is not None:
                self._index_owners(key, old, False)
            else:
                self._sorted.pop(key, None)
            bucket[(ns, name)] = new
            self._index_owners(key, new, True)
            self._emit(Event(rv, key, "MODIFIED" if old is not None else "ADDED", new, old))
            return new

    def remove(self, key: str, ns: str, name: str) -> dict | None:
        with self.lock:
            bucket = self._data.get(key, {})
            old = bucket.pop((ns or "", name), None)
            if old is None:
                return None
            self._sorted.pop(key, None)
            self._index_owners(key, old, False)
            rv = self._next_rv()
            final = dict(old)
            final["metadata"] = dict(old.get("metadata") or {}, resourceVersion=str(rv))
            self._emit(Event(rv, key, "DELETED", final, old))
            return final

    # ----- watch support -----
    def wait_events_after(self, rv: int, timeout: float) -> builtins.list[Event]:
        with self.cond:
            i = bisect.bisect_right(self._event_rvs, rv)
            if i >= len(self._events):
                self.cond.wait(timeout)
                i = bisect.bisect_right(self._event_rvs, rv)
            return self._events[i:]

    def wake_all(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def keys(self) -> Iterable[str]:
        with self.lock:
            return list(self._data)
