// The Node automerge-repo sync server Itinera's benchmarks compare against: a Repo with the
// websocket server adapter and the nodefs storage adapter, announcing nothing (`sharePolicy`
// false: peers ask for what they want), with the package defaults otherwise (sync and save
// throttled to 100 ms, no fsync).
//
//   node tests/bench/node-server.mjs DATA_DIR PORT
//
// Prints "node listening on 127.0.0.1:PORT" once it accepts connections; exits on SIGTERM.
import { Repo } from "@automerge/automerge-repo"
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket"
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs"
import { WebSocketServer } from "ws"

const [dataDir, port] = process.argv.slice(2)
if (!dataDir || !port) {
  console.error("usage: node node-server.mjs DATA_DIR PORT")
  process.exit(2)
}

const socket = new WebSocketServer({ host: "127.0.0.1", port: Number(port) })
socket.on("listening", () => console.log(`node listening on 127.0.0.1:${port}`))

const repo = new Repo({
  network: [new NodeWSServerAdapter(socket)],
  storage: new NodeFSStorageAdapter(dataDir),
  peerId: `node-sync-server-${port}`,
  sharePolicy: async () => false,
})

async function stop() {
  socket.close()
  await repo.flush().catch(() => {})
  process.exit(0)
}
process.on("SIGTERM", stop)
process.on("SIGINT", stop)
