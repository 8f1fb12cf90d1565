// A JS device that opens an Itinera account, waits for the rename another device makes, tags
// it vip, and waits for the tag "both" (which the test writes once the renaming device saw the
// vip tag: so this device's change has left it). Prints the account as it finally sees it.
//
//   node tag_peer.mjs <http base url> <token> <automerge url>
import { ImmutableString } from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [base, token, url] = process.argv.slice(2)
const repo = new Repo({
  network: [new WebSocketClientAdapter(`${base.replace(/^http/, "ws")}/sync?token=${token}`)],
  peerId: "js-tag-peer",
})
await repo.networkSubsystem.whenReady()

async function until(what, condition) {
  const deadline = Date.now() + 15_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const handle = await repo.find(url)
await until("the rename", () => String(handle.doc().name) === "Lakeside Travel Ltd")
handle.change(account => { account.tags.vip = true })
await until("the tag both", () => handle.doc().tags?.both === true)
console.log(JSON.stringify(handle.doc(), (key, value) => (value instanceof ImmutableString ? value.toString() : value)))
repo.shutdown()
process.exit(0)
