// A JS device that opens an Itinera account, waits for the rename another device makes, tags
// it vip, and waits for the tag "both" (which the test writes once the renaming device saw the
// vip tag: so this device's change has left it). Prints the account as it finally sees it.
//
//   node tag_peer.mjs <http base url> <token> <automerge url>
import { connect, printed, until } from "./itinera_peer.mjs"

const [base, token, url] = process.argv.slice(2)
const repo = await connect(base, token, "js-tag-peer")

const handle = await repo.find(url)
await until("the rename", () => String(handle.doc().name) === "Lakeside Travel Ltd")
handle.change(account => { account.tags.vip = true })
await until("the tag both", () => handle.doc().tags?.both === true)
console.log(printed(handle.doc()))
repo.shutdown()
process.exit(0)
