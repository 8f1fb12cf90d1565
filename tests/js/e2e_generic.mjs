// An ordinary automerge-repo app against Itinera's server, with the unmodified JS client.
//
//   node e2e_generic.mjs <http base url> <token A> <token B> <token C>
//
// A creates a document; B (A's second device) finds it; both change it and converge; C (another
// user) must find it unavailable. Prints one JSON line with what each saw.
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"

const [base, tokenA, tokenB, tokenC] = process.argv.slice(2)
const wsUrl = base.replace(/^http/, "ws") + "/sync"

function client(token, peerId) {
  return new Repo({ network: [new WebSocketClientAdapter(`${wsUrl}?token=${token}`)], peerId })
}

// Waits for a condition the sync will bring about, failing loudly after 15 seconds.
async function until(what, condition) {
  const deadline = Date.now() + 15_000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const a = client(tokenA, "phone-a")
const b = client(tokenB, "phone-b")
const c = client(tokenC, "phone-c")
await Promise.all([a, b, c].map(repo => repo.networkSubsystem.whenReady()))

const handleA = a.create({ title: "Danube bend", seats: 12 })
const id = handleA.url.replace("automerge:", "")
await until("the server to store the document", async () => {
  const response = await fetch(`${base}/api/v1/documents/${id}`, { headers: { Authorization: `Bearer ${tokenA}` } })
  return response.status === 200
})

const handleB = await b.find(handleA.url)
const seenByB = structuredClone(handleB.doc())
handleA.change(doc => { doc.seats = 11 })
handleB.change(doc => { doc.note = "pick-up at 7:30" })
await until("A and B to converge", () =>
  handleA.doc().note === "pick-up at 7:30" && handleB.doc().seats === 11)

let third
try {
  const handleC = await c.find(handleA.url, { allowableStates: ["unavailable"] })
  third = handleC.state
} catch (error) {
  third = String(error.message).includes("unavailable") ? "unavailable" : `error: ${error.message}`
}

console.log(JSON.stringify({ url: handleA.url, seenByB, a: handleA.doc(), b: handleB.doc(), third }))
for (const repo of [a, b, c]) repo.shutdown()
process.exit(0)
