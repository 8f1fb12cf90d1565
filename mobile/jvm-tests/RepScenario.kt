// A sales rep on two devices, through the Kotlin bindings on the JVM and a real Itinera server.
// Run by tests/tests/kotlin_sdk.rs, which starts the server and passes ITINERA_SYNC_URL,
// ITINERA_TOKEN_PHONE, ITINERA_TOKEN_TABLET and ITINERA_WORKDIR. Prints "N passed, M failed".

import com.itinera.sdk.SyncEvent
import com.itinera.sdk.events
import com.itinera.sdk.io
import com.itinera.sdk.openReplica
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import uniffi.itinera.ContactInput
import uniffi.itinera.ItineraException
import uniffi.itinera.SyncClient
import uniffi.itinera.SyncStatus
import java.io.File

fun env(name: String): String = System.getenv(name) ?: error("$name is not set")

fun anAccountAndACallLoggedOfflineReachTheSecondDevice() = runBlocking {
    val work = env("ITINERA_WORKDIR")
    val phone = openReplica(File(work, "phone.redb").path, "ana")
    val account = phone.io { createAccount("Alpine Schools", "north") }
    phone.io {
        addContact(account, ContactInput("Mira", "Bauer", "Head teacher", "Mira@Alpine.example", null, "de"))
        logActivity(account, "call", "Spring trip", "Wants 3 days in May", null)
    }
    check(phone.pendingDocuments() == listOf(account)) { "pending: ${phone.pendingDocuments()}" }

    val client = SyncClient(phone, env("ITINERA_SYNC_URL"), env("ITINERA_TOKEN_PHONE"))
    val online = launch { withTimeout(30_000) { client.events().filterIsInstance<SyncEvent.StatusChanged>().first { it.status == SyncStatus.ONLINE } } }
    val report = client.syncNow()
    online.join()
    check(report.documentsSent == 1u) { "sent: ${report.documentsSent}" }
    check(report.rejected.isEmpty()) { "rejected: ${report.rejected}" }
    check(phone.pendingDocuments().isEmpty())

    val tablet = openReplica(File(work, "tablet.redb").path, "ana")
    val other = SyncClient(tablet, env("ITINERA_SYNC_URL"), env("ITINERA_TOKEN_TABLET"))
    val changed = launch { withTimeout(30_000) { other.events().filterIsInstance<SyncEvent.RecordsChanged>().first { account in it.documents } } }
    other.syncNow()
    changed.join()
    val accounts = tablet.myAccounts()
    check(accounts.map { it.name } == listOf("Alpine Schools")) { "accounts: $accounts" }
    check(accounts[0].contacts[0].emails == listOf("mira@alpine.example"))
    val calls = tablet.activities(account)
    check(calls.size == 1 && calls[0].kind == "call" && calls[0].subject == "Spring trip") { "activities: $calls" }
}

fun errorsCrossAsItineraException() = runBlocking {
    val replica = openReplica(File(env("ITINERA_WORKDIR"), "errors.redb").path, "ana")
    try {
        replica.account("not-an-id")
        error("an invalid id was accepted")
    } catch (expected: ItineraException.Invalid) {
    }
    val client = SyncClient(replica, "ws://127.0.0.1:9/sync", "itn_nobody")
    try {
        client.syncNow()
        error("a sync with no server succeeded")
    } catch (expected: ItineraException.Offline) {
    }
}

fun main() {
    val tests = listOf(
        "an account and a call logged offline reach the second device" to ::anAccountAndACallLoggedOfflineReachTheSecondDevice,
        "errors cross as ItineraException" to ::errorsCrossAsItineraException,
    )
    var failed = 0
    for ((name, test) in tests) {
        try {
            test()
            println("ok: $name")
        } catch (e: Throwable) {
            failed++
            println("FAILED: $name: $e")
            e.printStackTrace()
        }
    }
    println("${tests.size - failed} passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}
