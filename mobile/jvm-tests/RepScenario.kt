// A sales rep on two devices, through the Kotlin bindings on the JVM and a real Itinera server.
// Run by tests/tests/kotlin_sdk.rs, which starts the server and passes ITINERA_SYNC_URL,
// ITINERA_TOKEN_PHONE, ITINERA_TOKEN_TABLET and ITINERA_WORKDIR. Prints "N passed, M failed".

import com.itinera.sdk.ContactInput
import com.itinera.sdk.ItineraException
import com.itinera.sdk.SyncClient
import com.itinera.sdk.SyncEvent
import com.itinera.sdk.SyncOptions
import com.itinera.sdk.SyncStatus
import com.itinera.sdk.TokenProvider
import com.itinera.sdk.events
import com.itinera.sdk.io
import com.itinera.sdk.observeMyAccounts
import com.itinera.sdk.observeStatus
import com.itinera.sdk.openReplica
import kotlinx.coroutines.flow.filterIsInstance
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import java.io.File
import java.net.HttpURLConnection
import java.net.URI
import java.util.concurrent.atomic.AtomicInteger

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

fun overTls(replica: com.itinera.sdk.Replica, token: String): SyncClient =
    SyncClient.withOptions(replica, env("ITINERA_WSS_URL"), token, SyncOptions(env("ITINERA_CA_PEM")))

fun aListFlowEmitsAfterALocalAndARemoteWrite() = runBlocking {
    val work = env("ITINERA_WORKDIR")
    val phone = openReplica(File(work, "flow-phone.redb").path, "ana")
    val tablet = openReplica(File(work, "flow-tablet.redb").path, "ana")
    val phoneClient = overTls(phone, env("ITINERA_TOKEN_PHONE"))
    val tabletClient = overTls(tablet, env("ITINERA_TOKEN_TABLET"))
    tabletClient.start()
    withTimeout(60_000) { tabletClient.observeStatus().first { it == SyncStatus.ONLINE } }
    val accounts = tablet.observeMyAccounts()
    tablet.io { createAccount("Written here", "north") }
    withTimeout(60_000) { accounts.first { list -> list.any { it.name == "Written here" } } }
    val remote = phone.io { createAccount("Written elsewhere", "north") }
    phoneClient.syncNow()
    // The tablet never calls sync: the open connection brings the change.
    withTimeout(60_000) { accounts.first { list -> list.any { it.id == remote } } }
    tabletClient.stop()
}

fun aRevokedTokenIsReplacedByTheAppsProvider() = runBlocking {
    val replica = openReplica(File(env("ITINERA_WORKDIR"), "refresh.redb").path, "ana")
    val client = overTls(replica, env("ITINERA_TOKEN_REVOKED"))
    val asked = AtomicInteger(0)
    client.setTokenProvider(object : TokenProvider {
        override fun refreshToken(reason: String): String? {
            asked.incrementAndGet()
            return env("ITINERA_TOKEN_FRESH")
        }
    })
    client.start()
    withTimeout(60_000) { client.observeStatus().first { it == SyncStatus.ONLINE } }
    val revoke = URI(env("ITINERA_HTTP_BASE") + "/api/v1/tokens/revoke").toURL().openConnection() as HttpURLConnection
    revoke.requestMethod = "POST"
    revoke.doOutput = true
    revoke.setRequestProperty("Authorization", "Bearer " + env("ITINERA_ADMIN_TOKEN"))
    revoke.setRequestProperty("Content-Type", "application/json")
    revoke.outputStream.use { it.write("{\"token\":\"${env("ITINERA_TOKEN_REVOKED")}\"}".toByteArray()) }
    check(revoke.responseCode == 200) { "revoke: ${revoke.responseCode}" }
    withTimeout(60_000) {
        while (asked.get() == 0) kotlinx.coroutines.delay(50)
        client.observeStatus().first { it == SyncStatus.ONLINE }
    }
    val account = replica.io { createAccount("After the new token", "north") }
    withTimeout(60_000) { while (account in replica.pendingDocuments()) kotlinx.coroutines.delay(50) }
    client.stop()
}

fun main() {
    val tests = listOf(
        "an account and a call logged offline reach the second device" to ::anAccountAndACallLoggedOfflineReachTheSecondDevice,
        "errors cross as ItineraException" to ::errorsCrossAsItineraException,
        "a list Flow emits after a local and a remote write, over wss" to ::aListFlowEmitsAfterALocalAndARemoteWrite,
        "a revoked token is replaced by the app's provider, over wss" to ::aRevokedTokenIsReplacedByTheAppsProvider,
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
