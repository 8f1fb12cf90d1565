// The unmodified JS automerge-repo client as a phone would run it: a Repo with its NodeFS
// storage in a folder that outlives the process, asking the server for every document it
// holds (automerge-repo has no index: the list of ids comes from a file). Timed from the
// moment it connects until every document is caught up: each has heard from the server in
// this session, and the server's heads equal its own. Run once on an empty folder for a
// first sync, and again on the same folder to reconnect.
//
//   node tests/bench/device-client.mjs WS_URL STORAGE_DIR IDS_FILE
//
// Prints one JSON line: {"seconds": …, "documents": …}.
import { readFileSync } from "node:fs"
import * as A from "@automerge/automerge"
import { Repo } from "@automerge/automerge-repo"
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"

const [url, storageDir, idsFile] = process.argv.slice(2)
if (!url || !storageDir || !idsFile) {
  console.error("usage: node device-client.mjs WS_URL STORAGE_DIR IDS_FILE")
  process.exit(2)
}
// Automerge URLs; the repo's events name documents by their bare id.
const urls = JSON.parse(readFileSync(idsFile, "utf8"))
const ids = urls.map(url => url.replace(/^automerge:/, ""))

const started = performance.now()
const repo = new Repo({
  network: [new WebSocketClientAdapter(url)],
  storage: new NodeFSStorageAdapter(storageDir),
  peerId: `js-device-${process.pid}`,
})

// The server's heads per document as this session last heard them (a sync state loaded from
// storage has none until the server speaks).
const theirHeads = new Map()
const handles = new Map()
const pending = new Set(ids)
let done
const finished = new Promise(resolve => { done = resolve })

const same = (a, b) => a.length === b.length && [...a].sort().join() === [...b].sort().join()
function check(id) {
  const handle = handles.get(id)
  const heads = theirHeads.get(id)
  if (!handle || !heads || !pending.has(id)) return
  const doc = handle.doc()
  if (doc && same(A.getHeads(doc), heads)) {
    pending.delete(id)
    if (pending.size === 0) done()
  }
}

repo.synchronizer.on("sync-state", ({ documentId, syncState }) => {
  if (!syncState.theirHeads) return
  theirHeads.set(documentId, syncState.theirHeads)
  // The event fires inside the document's update: look at the heads once it is applied.
  setImmediate(() => check(documentId))
})

// At most this many finds in flight, as an app pages through its records. With 10,000 at once
// (or 1,000) the client's event loop is busy for so long that it misses the server's
// WebSocket pings, the server drops it, and documents in flight end up "unavailable".
const IN_FLIGHT = 100
let next = 0
async function findSome() {
  while (next < ids.length) {
    const id = ids[next++]
    const handle = await repo.find(`automerge:${id}`)
    handles.set(id, handle)
    handle.on("change", () => setImmediate(() => check(id)))
    check(id)
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, findSome))
const timer = setTimeout(() => {
  console.error(`device-client: ${pending.size} of ${ids.length} documents never caught up`)
  process.exit(1)
}, 600_000)
await finished
const seconds = (performance.now() - started) / 1000
clearTimeout(timer)
await repo.flush()
console.log(JSON.stringify({ seconds, documents: ids.length }))
await repo.shutdown()
process.exit(0)
