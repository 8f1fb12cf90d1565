// A JS device that opens one document and prints it as it finally sees it, once it holds
// every key given (or fails after 15 seconds).
//
//   node read_document.mjs <http base url> <token> <automerge url> [key ...]
import { connect, printed, until } from "./itinera_peer.mjs"

const [base, token, url, ...keys] = process.argv.slice(2)
const repo = await connect(base, token, "js-reader")

const handle = await repo.find(url)
await until(keys.join(", "), () => keys.every(key => handle.doc()[key] !== undefined))
console.log(printed(handle.doc()))
repo.shutdown()
process.exit(0)
