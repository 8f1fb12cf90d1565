"""A sales rep's phone through the Python SDK, for the web app's end-to-end test.

    device.py show ACCOUNT         syncs, then prints the account as the phone holds it (JSON)
    device.py rename ACCOUNT NAME  renames the account on the phone, then syncs
    device.py rename-offline ACCOUNT NAME   renames it on the phone without syncing
    device.py sync                 syncs what the phone holds

The phone's replica lives in ITINERA_WORKDIR and syncs with ITINERA_SYNC_URL as the user whose
token is ITINERA_DEVICE_TOKEN (ITINERA_DEVICE_USER names them).
"""

import asyncio
import json
import os
import sys

import itinera


def phone():
    user = os.environ["ITINERA_DEVICE_USER"]
    path = os.path.join(os.environ["ITINERA_WORKDIR"], f"{user}-phone.redb")
    replica = itinera.Replica.open(path, user)
    client = itinera.SyncClient(replica, os.environ["ITINERA_SYNC_URL"], os.environ["ITINERA_DEVICE_TOKEN"])
    return replica, client


def sync(client):
    report = asyncio.run(client.sync_now())
    if report.rejected:
        raise SystemExit(f"the server refused: {report.rejected}")


def main(command, account=None, *rest):
    replica, client = phone()
    if command == "show":
        sync(client)
        view = replica.account(account)
        if view is None:
            raise SystemExit(f"the phone does not hold {account}")
        print(json.dumps({"name": view.name, "city": view.city, "territory": view.territory, "owner": view.owner}))
    elif command == "rename":
        sync(client)
        replica.update_account(account, rest[0], None, None)
        sync(client)
        if replica.pending_documents():
            raise SystemExit(f"not acknowledged: {replica.pending_documents()}")
        print(json.dumps({"renamed": rest[0]}))
    elif command == "rename-offline":
        replica.update_account(account, rest[0], None, None)
        print(json.dumps({"pending": replica.pending_documents()}))
    elif command == "sync":
        sync(client)
        print(json.dumps({"pending": replica.pending_documents()}))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(*sys.argv[1:])
