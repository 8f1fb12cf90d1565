"""The server's decisions as a rep's two devices see them, through the Python bindings.

Both devices post invoices offline; after they sync, the invoices in a series the company uses
carry consecutive legal numbers, and the one posted in a series it does not use has none.
Run by tests/tests/python_sdk.rs (see test_rep_scenario.py for the environment).
"""

import asyncio
import os
import time
import unittest

import itinera


def line():
    return itinera.InvoiceLineInput(
        description="Danube Bend", quantity=2, unit_price_minor=39000, vat_rate_bp=2700
    )


class AuthorityScenario(unittest.TestCase):
    def test_invoices_posted_offline_on_two_devices_are_numbered_without_a_gap(self):
        work = os.environ["ITINERA_WORKDIR"]
        url = os.environ["ITINERA_SYNC_URL"]
        phone = itinera.Replica.open(os.path.join(work, "numbers-phone.redb"), "ana")
        tablet = itinera.Replica.open(os.path.join(work, "numbers-tablet.redb"), "ana")
        phone.set_invoice_prefix("PHONE")
        tablet.set_invoice_prefix("TABLET")
        customer = phone.create_account("Lakeside Schools", "north")

        # Offline: each device drafts and posts; one of them in a series nobody set up.
        posted = []
        for replica in (phone, tablet):
            invoice = replica.create_invoice_draft(customer, "EUR", "A", [line()])
            replica.post_invoice(invoice)
            posted.append((replica, invoice))
        stray = tablet.create_invoice_draft(customer, "EUR", "QQ", [line()])
        tablet.post_invoice(stray)

        clients = [
            itinera.SyncClient(phone, url, os.environ["ITINERA_TOKEN_PHONE"]),
            itinera.SyncClient(tablet, url, os.environ["ITINERA_TOKEN_TABLET"]),
        ]
        deadline = time.monotonic() + 30
        while True:
            for client in clients:
                asyncio.run(client.sync_now())
            numbers = [replica.invoice(invoice).legal_number for replica, invoice in posted]
            if all(numbers) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(all(numbers), numbers)
        prefixes = {number.rsplit("-", 1)[0] for number in numbers}
        self.assertEqual(len(prefixes), 1, numbers)
        self.assertTrue(prefixes.pop().endswith("-A"), numbers)
        self.assertEqual(sorted(number.rsplit("-", 1)[1] for number in numbers), ["000001", "000002"])
        self.assertIsNone(tablet.invoice(stray).legal_number, "series QQ is not the company's")


if __name__ == "__main__":
    unittest.main()
