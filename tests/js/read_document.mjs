// A JS device that opens one document and prints it as it finally sees it, once it holds
// every key given (or fails after 15 seconds).
//
//   node read_document.mjs <http base url> <token> <automerge url> [key ...]
import { ImmutableString } from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [base, token, url, ...keys] = process.argv.slice(2)
const repo = new Repo({
  network: [new WebSocketClientAdapter(`${base.replace(/^http/, "ws")}/sync?token=${token}`)],
  peerId: "js-reader",
})
await repo.networkSubsystem.whenReady()

const handle = await repo.find(url)
const deadline = Date.now() + 15_000
while (!keys.every(key => handle.doc()[key] !== undefined)) {
  if (Date.now() > deadline) throw new Error(`timed out waiting for ${keys.join(", ")}`)
  await new Promise(resolve => setTimeout(resolve, 20))
}
console.log(JSON.stringify(handle.doc(), (key, value) => (value instanceof ImmutableString ? value.toString() : value)))
repo.shutdown()
process.exit(0)
