"""Itinera's device SDK for Python: an offline replica of a tour operator's records and its
sync client, over the native library built from Rust (UniFFI bindings in ``itinera._ffi``).

Everything the native library exports is here (``Replica``, ``SyncClient``, the views, the
``ItineraError`` exceptions). This layer adds what Python code expects:

- async iterators over the replica's watches (``async for accounts in
  replica.observe_my_accounts():``), which yield the current value first and then a new one
  after every local write or synced change that touches it;
- sync clients closed when the interpreter exits, so that a script with a client at module
  level ends cleanly (no native thread calls into a finishing interpreter).

``await client.sync_now()`` runs on the client's own thread and never blocks the event loop.
"""

from __future__ import annotations

import atexit
import weakref
from typing import AsyncIterator, Optional

from ._ffi import *  # noqa: F401,F403
from ._ffi import (
    AccountView,
    BookingView,
    DepartureView,
    LeadView,
    Replica,
    SyncClient,
    SyncStatus,
)

_clients: "weakref.WeakSet[SyncClient]" = weakref.WeakSet()


def _track(init):
    def tracked(self, *args, **kwargs):
        init(self, *args, **kwargs)
        _clients.add(self)

    return tracked


SyncClient.__init__ = _track(SyncClient.__init__)  # type: ignore[method-assign]
_with_options = SyncClient.with_options


def _with_options_tracked(*args, **kwargs):
    client = _with_options(*args, **kwargs)
    _clients.add(client)
    return client


SyncClient.with_options = staticmethod(_with_options_tracked)  # type: ignore[method-assign]


@atexit.register
def _close_clients() -> None:
    # Before the interpreter finishes: afterwards a native thread entering Python aborts it.
    for client in list(_clients):
        client.shut_down()


async def _iterate(watch) -> AsyncIterator:
    while True:
        yield await watch.next()


def _observe_my_accounts(self: Replica) -> AsyncIterator[list[AccountView]]:
    """The user's accounts now, then after every change to them."""
    return _iterate(self.watch_my_accounts())


def _observe_account(self: Replica, account: str) -> AsyncIterator[Optional[AccountView]]:
    """One account now (``None`` while the device does not hold it), then after every change."""
    return _iterate(self.watch_account(account))


def _observe_my_bookings(self: Replica) -> AsyncIterator[list[BookingView]]:
    """The user's bookings now, then after every change."""
    return _iterate(self.watch_my_bookings())


def _observe_my_departures(self: Replica) -> AsyncIterator[list[DepartureView]]:
    """The departures on this device now, then after every change."""
    return _iterate(self.watch_my_departures())


def _observe_my_leads(self: Replica) -> AsyncIterator[list[LeadView]]:
    """The user's open leads now, then after every change."""
    return _iterate(self.watch_my_leads())


def _observe_status(self: SyncClient) -> AsyncIterator[SyncStatus]:
    """The sync status now, then each time it changes."""
    return _iterate(self.watch_status())


Replica.observe_my_accounts = _observe_my_accounts  # type: ignore[attr-defined]
Replica.observe_account = _observe_account  # type: ignore[attr-defined]
Replica.observe_my_bookings = _observe_my_bookings  # type: ignore[attr-defined]
Replica.observe_my_departures = _observe_my_departures  # type: ignore[attr-defined]
Replica.observe_my_leads = _observe_my_leads  # type: ignore[attr-defined]
SyncClient.observe_status = _observe_status  # type: ignore[attr-defined]
