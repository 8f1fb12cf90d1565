// What the JS devices of the end-to-end tests share: a Repo connected to an Itinera server,
// waiting on what the sync brings about, and printing a document as plain JSON.
import { ImmutableString } from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

// A Repo synced with the server at `base` (its http URL) as the holder of `token`.
export async function connect(base, token, peerId) {
  const repo = new Repo({
    network: [new WebSocketClientAdapter(`${base.replace(/^http/, "ws")}/sync?token=${token}`)],
    peerId,
  })
  await repo.networkSubsystem.whenReady()
  return repo
}

// Waits for a condition the sync will bring about, failing loudly after 15 seconds.
export async function until(what, condition) {
  const deadline = Date.now() + 15_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

// The document as JSON, Itinera's registers (ImmutableString) as the strings they hold.
export function printed(doc) {
  return JSON.stringify(doc, (key, value) => (value instanceof ImmutableString ? value.toString() : value))
}
