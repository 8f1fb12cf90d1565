// A JS device that opens an Itinera account, renames it, and waits for a tag another device
// adds. Prints the account as it finally sees it.
//
//   node account_peer.mjs <http base url> <token> <automerge url>
import { ImmutableString } from "@automerge/automerge"
import { connect, printed, until } from "./itinera_peer.mjs"

const [base, token, url] = process.argv.slice(2)
const repo = await connect(base, token, "js-account-peer")

const handle = await repo.find(url)
// Itinera's register fields are plain strings: JS writes them as ImmutableString (a bare JS
// string would become collaborative text, which the server refuses for a register).
handle.change(account => { account.name = new ImmutableString("Lakeside Travel Ltd") })
await until("the vip tag", () => handle.doc().tags?.vip === true)
console.log(printed(handle.doc()))
repo.shutdown()
process.exit(0)
