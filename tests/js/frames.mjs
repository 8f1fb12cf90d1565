// Real automerge-repo frames for the Rust protocol tests.
//
//   node frames.mjs capture   prints "<direction> <hex>" for every frame a JS client repo and a
//                             JS server repo exchange over a real WebSocket on 127.0.0.1
//   node frames.mjs decode    reads hex frames on stdin, one a line, and prints, one line each,
//                             the frame as automerge-repo's own CBOR decoder reads it (keys
//                             sorted, bytes as {"$bytes": hex}), or {"$error": ...}
import { Repo, cbor } from "@automerge/automerge-repo"
import { WebSocketClientAdapter, WebSocketServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const toHex = bytes => Buffer.from(bytes).toString("hex")

function normalise(value) {
  if (value instanceof Uint8Array) return { $bytes: toHex(value) }
  if (Array.isArray(value)) return value.map(normalise)
  if (value && typeof value === "object") {
    const out = {}
    for (const key of Object.keys(value).sort()) out[key] = normalise(value[key])
    return out
  }
  return value
}

const decodedType = hex => cbor.decode(Buffer.from(hex, "hex")).type
const sameHeads = (a, b) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort())

// Waits for a condition the protocol will bring about, failing loudly after ten seconds.
async function until(condition) {
  const deadline = Date.now() + 10_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for frames: " + condition)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

async function capture() {
  const frames = []
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 })
  await new Promise(resolve => wss.on("listening", resolve))
  wss.on("connection", socket => {
    socket.on("message", data => frames.push({ direction: "to_server", hex: toHex(data) }))
    const send = socket.send.bind(socket)
    socket.send = (data, ...rest) => {
      frames.push({ direction: "to_client", hex: toHex(new Uint8Array(data)) })
      return send(data, ...rest)
    }
  })
  const dir = mkdtempSync(join(tmpdir(), "itinera-frames-"))
  const server = new Repo({
    network: [new WebSocketServerAdapter(wss)],
    storage: new NodeFSStorageAdapter(join(dir, "server")),
    peerId: "js-server",
    sharePolicy: async () => false,
    enableRemoteHeadsGossiping: true,
  })
  const { port } = wss.address()
  const client = new Repo({
    network: [new WebSocketClientAdapter(`ws://127.0.0.1:${port}`)],
    storage: new NodeFSStorageAdapter(join(dir, "client")),
    peerId: "js-client",
    enableRemoteHeadsGossiping: true,
  })
  await client.networkSubsystem.whenReady()

  const handle = client.create({ title: "Danube bend", seats: 12 })
  handle.change(doc => { doc.seats = 11 })
  await until(() => {
    const onServer = server.handles[handle.documentId]
    return onServer?.isReady() && sameHeads(onServer.heads(), handle.heads())
  })
  const serverStorage = await server.storageId()
  if (serverStorage) client.subscribeToRemotes([serverStorage])
  handle.broadcast({ cursor: 3 })
  handle.change(doc => { doc.note = "pick-up at 7:30" })
  try {
    await client.find("automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh", { allowableStates: ["unavailable"] })
  } catch (e) { /* unavailable is what we want to see on the wire */ }
  await until(() => frames.some(f => f.direction === "to_client" && decodedType(f.hex) === "doc-unavailable"))
  await until(() => frames.some(f => f.direction === "to_server" && decodedType(f.hex) === "ephemeral"))

  await until(() => frames.some(f => f.direction === "to_server" && decodedType(f.hex) === "remote-subscription-change"))
  for (const { direction, hex } of frames) console.log(`${direction} ${hex}`)
  rmSync(dir, { recursive: true, force: true })
  client.shutdown()
  server.shutdown()
  wss.close()
  process.exit(0)
}

async function decode() {
  let input = ""
  for await (const chunk of process.stdin) input += chunk
  for (const hex of input.split("\n").map(line => line.trim()).filter(Boolean)) {
    try {
      console.log(JSON.stringify(normalise(cbor.decode(Buffer.from(hex, "hex")))))
    } catch (e) {
      console.log(JSON.stringify({ $error: String(e) }))
    }
  }
}

const mode = process.argv[2]
if (mode === "capture") await capture()
else if (mode === "decode") await decode()
else { console.error("usage: node frames.mjs capture|decode"); process.exit(2) }
