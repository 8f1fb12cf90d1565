"""A sales rep on two devices, through the Python bindings and a real Itinera server.

Run by tests/tests/python_sdk.rs, which starts the server and passes ITINERA_SYNC_URL,
ITINERA_TOKEN_PHONE, ITINERA_TOKEN_TABLET and ITINERA_WORKDIR.
"""

import asyncio
import os
import threading
import unittest

import itinera


class Heard(itinera.SyncListener):
    """What the app's listener heard. The SDK calls listeners on a thread of its own, so what a
    sync reports may arrive just after the call that made it returns: tests wait for it."""

    def __init__(self):
        self.statuses = []
        self.changed = []
        self.rejected = []
        self._heard = threading.Condition()

    def _note(self, change):
        with self._heard:
            change()
            self._heard.notify_all()

    def records_changed(self, documents):
        self._note(lambda: self.changed.extend(documents))

    def status_changed(self, status):
        self._note(lambda: self.statuses.append(status))

    def document_rejected(self, document, reason):
        self._note(lambda: self.rejected.append((document, reason)))

    def wait_for(self, what, timeout=20):
        """Waits until `what()` holds (a generous timeout, not a timing assertion)."""
        with self._heard:
            return self._heard.wait_for(what, timeout)


class RepScenario(unittest.TestCase):
    def setUp(self):
        self.url = os.environ["ITINERA_SYNC_URL"]
        self.work = os.environ["ITINERA_WORKDIR"]

    def test_an_account_and_a_call_logged_offline_reach_the_second_device(self):
        phone = itinera.Replica.open(os.path.join(self.work, "phone.redb"), "ana")
        account = phone.create_account("Alpine Schools", "north")
        phone.add_contact(account, itinera.ContactInput(first_name="Mira", last_name="Bauer", title="Head teacher", email="Mira@Alpine.example", phone=None, language="de"))
        phone.log_activity(account, "call", "Spring trip", "Wants 3 days in May", None)
        self.assertEqual(phone.pending_documents(), [account])

        client = itinera.SyncClient(phone, self.url, os.environ["ITINERA_TOKEN_PHONE"])
        heard = Heard()
        client.set_listener(heard)
        report = asyncio.run(client.sync_now())
        self.assertEqual(report.documents_sent, 1)
        self.assertEqual(report.rejected, [])
        self.assertEqual(phone.pending_documents(), [])
        self.assertTrue(
            heard.wait_for(lambda: heard.statuses[-1:] == [itinera.SyncStatus.ONLINE]),
            heard.statuses,
        )

        tablet = itinera.Replica.open(os.path.join(self.work, "tablet.redb"), "ana")
        other = itinera.SyncClient(tablet, self.url, os.environ["ITINERA_TOKEN_TABLET"])
        seen = Heard()
        other.set_listener(seen)
        asyncio.run(other.sync_now())
        self.assertTrue(seen.wait_for(lambda: account in seen.changed), seen.changed)
        # Other scenarios of the run write ana's accounts too: this one is found by its id.
        [view] = [v for v in tablet.my_accounts() if v.id == account]
        self.assertEqual(view.name, "Alpine Schools")
        self.assertEqual(view.contacts[0].emails, ["mira@alpine.example"])
        [call] = tablet.activities(account)
        self.assertEqual((call.kind, call.subject), ("call", "Spring trip"))
        self.assertEqual([a.name for a in tablet.search_accounts("mira@alpine.example")], ["Alpine Schools"])

    def test_errors_cross_as_one_exception_type(self):
        replica = itinera.Replica.open(os.path.join(self.work, "errors.redb"), "ana")
        with self.assertRaises(itinera.ItineraError.Invalid):
            replica.account("not-an-id")
        with self.assertRaises(itinera.ItineraError.Invalid):
            replica.move_opportunity(replica.create_account("X", "north"), "o-1", "sideways")
        client = itinera.SyncClient(replica, "ws://127.0.0.1:9/sync", "itn_nobody")
        with self.assertRaises(itinera.ItineraError.Offline):
            asyncio.run(client.sync_now())


if __name__ == "__main__":
    unittest.main()
