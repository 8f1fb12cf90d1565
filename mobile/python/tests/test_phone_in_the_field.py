"""Phones in the field through the Python package, over wss:// with a certificate authority
made by the test: changes reach an open device without a sync call, a watch emits after a
local and a remote write, a revoked token is replaced through the app's provider, and a
script with a client at module level exits cleanly.

Run by tests/tests/python_sdk.rs, which starts the server behind a TLS proxy and passes
ITINERA_WSS_URL, ITINERA_CA_PEM, ITINERA_TOKEN_PHONE, ITINERA_TOKEN_TABLET,
ITINERA_TOKEN_REVOKED, ITINERA_TOKEN_FRESH, ITINERA_ADMIN_TOKEN, ITINERA_HTTP_BASE and ITINERA_WORKDIR.
"""

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import unittest
import urllib.request

import itinera

WAIT = 60.0


def env(name):
    return os.environ[name]


def client(replica, token):
    options = itinera.SyncOptions(pinned_ca_pem=env("ITINERA_CA_PEM"))
    return itinera.SyncClient.with_options(replica, env("ITINERA_WSS_URL"), token, options)


def open_replica(name, user="ana"):
    return itinera.Replica.open(os.path.join(env("ITINERA_WORKDIR"), name), user)


async def first_matching(iterator, predicate):
    async for value in iterator:
        if predicate(value):
            return value


async def status_becomes(sync_client, wanted):
    return await first_matching(sync_client.observe_status(), lambda status: status == wanted)


class PhoneInTheField(unittest.IsolatedAsyncioTestCase):
    async def test_a_change_reaches_an_open_device_and_the_watch_emits(self):
        phone = open_replica("live-phone.redb")
        tablet = open_replica("live-tablet.redb")
        phone_client = client(phone, env("ITINERA_TOKEN_PHONE"))
        tablet_client = client(tablet, env("ITINERA_TOKEN_TABLET"))
        accounts = tablet.observe_my_accounts()
        self.assertEqual(await accounts.__anext__(), [])
        tablet_client.start()
        await asyncio.wait_for(status_becomes(tablet_client, itinera.SyncStatus.ONLINE), WAIT)

        # Other scenarios of the run write ana's accounts too: the watch may first emit what the
        # first sync brought; the local write is in an emission of its own soon after.
        written = tablet.create_account("Written here", "north")
        local = await asyncio.wait_for(
            first_matching(accounts, lambda views: any(v.id == written for v in views)), WAIT
        )
        self.assertIn("Written here", [a.name for a in local])

        account = phone.create_account("Written elsewhere", "north")
        await phone_client.sync_now()
        remote = await asyncio.wait_for(
            first_matching(accounts, lambda views: any(v.id == account for v in views)), WAIT
        )
        self.assertIn("Written elsewhere", [a.name for a in remote])
        tablet_client.stop()

    async def test_a_revoked_token_is_replaced_by_the_apps_provider(self):
        asked = []

        class Provider(itinera.TokenProvider):
            def refresh_token(self, reason):
                asked.append(reason)
                return env("ITINERA_TOKEN_FRESH")

        replica = open_replica("refresh.redb")
        sync_client = client(replica, env("ITINERA_TOKEN_REVOKED"))
        sync_client.set_token_provider(Provider())
        sync_client.start()
        await asyncio.wait_for(status_becomes(sync_client, itinera.SyncStatus.ONLINE), WAIT)

        request = urllib.request.Request(
            env("ITINERA_HTTP_BASE") + "/api/v1/tokens/revoke",
            data=json.dumps({"token": env("ITINERA_TOKEN_REVOKED")}).encode(),
            headers={
                "Authorization": "Bearer " + env("ITINERA_ADMIN_TOKEN"),
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with urllib.request.urlopen(request) as answer:
            self.assertEqual(answer.status, 200)

        async def asked_and_online():
            while not asked:
                await asyncio.sleep(0.05)
            await status_becomes(sync_client, itinera.SyncStatus.ONLINE)

        await asyncio.wait_for(asked_and_online(), WAIT)
        self.assertIn("access has ended", asked[0])
        account = replica.create_account("After the new token", "north")

        async def acknowledged():
            while account in replica.pending_documents():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(acknowledged(), WAIT)
        sync_client.stop()


class ScriptAtModuleLevel(unittest.TestCase):
    def test_a_script_with_a_client_at_module_level_exits_cleanly(self):
        script = textwrap.dedent(
            """
            import asyncio, os, itinera
            replica = itinera.Replica.open(os.environ["REPLICA"], "ana")
            account = replica.create_account("Alpine Schools", "north")
            replica.log_activity(account, "call", "Spring trip", "Wants 3 days in May", None)
            options = itinera.SyncOptions(pinned_ca_pem=os.environ["ITINERA_CA_PEM"])
            client = itinera.SyncClient.with_options(
                replica, os.environ["ITINERA_WSS_URL"], os.environ["ITINERA_TOKEN_PHONE"], options
            )
            client.set_listener(type("L", (itinera.SyncListener,), {
                "records_changed": lambda self, d: None,
                "status_changed": lambda self, s: print("status", s),
                "document_rejected": lambda self, d, r: None,
            })())
            client.start_background(60_000)
            report = asyncio.run(client.sync_now())
            print("sent", report.documents_sent)
            """
        )
        child = dict(os.environ, REPLICA=os.path.join(env("ITINERA_WORKDIR"), "script.redb"))
        done = subprocess.run(
            [sys.executable, "-c", script], env=child, capture_output=True, text=True, timeout=120
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("sent 1", done.stdout)


if __name__ == "__main__":
    unittest.main()
