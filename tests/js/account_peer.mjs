// A JS device that opens an Itinera account, renames it, and waits for a tag another device
// adds. Prints the account as it finally sees it.
//
//   node account_peer.mjs <http base url> <token> <automerge url>
import { ImmutableString } from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [base, token, url] = process.argv.slice(2)
const repo = new Repo({
  network: [new WebSocketClientAdapter(`${base.replace(/^http/, "ws")}/sync?token=${token}`)],
  peerId: "js-account-peer",
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
// Itinera's register fields are plain strings: JS writes them as ImmutableString (a bare JS
// string would become collaborative text, which the server refuses for a register).
handle.change(account => { account.name = new ImmutableString("Lakeside Travel Ltd") })
await until("the vip tag", () => handle.doc().tags?.vip === true)
console.log(JSON.stringify(handle.doc(), (key, value) => (value instanceof ImmutableString ? value.toString() : value)))
repo.shutdown()
process.exit(0)
