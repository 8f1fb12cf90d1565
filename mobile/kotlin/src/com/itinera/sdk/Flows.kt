// The idiomatic layer over the generated bindings (package com.itinera.sdk, named in
// bindings/uniffi.toml): Flows over the replica's watches and the client's status, and
// coroutines for the blocking calls.
package com.itinera.sdk

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.withContext

/** What the sync client reports, one event at a time. */
sealed interface SyncEvent {
    /** Records changed on this device because of a sync (ids as `automerge:` URLs). */
    data class RecordsChanged(val documents: List<String>) : SyncEvent

    /** Online, offline, syncing or signed out. */
    data class StatusChanged(val status: SyncStatus) : SyncEvent

    /** The server refused this device's changes to a document; see `discardLocalChanges`. */
    data class Rejected(val document: String, val reason: String) : SyncEvent
}

/**
 * The sync client's events as a Flow. Collecting it installs the client's listener; the flow
 * ends when the collector is cancelled. For what the app shows, prefer the state flows below
 * ([observeStatus], [observeMyAccounts]…): they start with the current value, so a collector
 * that starts after the sync misses nothing.
 */
fun SyncClient.events(): Flow<SyncEvent> = callbackFlow {
    setListener(object : SyncListener {
        override fun recordsChanged(documents: List<String>) {
            trySend(SyncEvent.RecordsChanged(documents))
        }

        override fun statusChanged(status: SyncStatus) {
            trySend(SyncEvent.StatusChanged(status))
        }

        override fun documentRejected(document: String, reason: String) {
            trySend(SyncEvent.Rejected(document, reason))
        }
    })
    awaitClose { }
}

/** A watch as a cold Flow: its current value, then a new one after each change. */
private fun <T> watching(next: suspend () -> T): Flow<T> =
    flow { while (true) emit(next()) }.flowOn(Dispatchers.IO)

/** The user's accounts now and after every local write or synced change. */
fun Replica.observeMyAccounts(): Flow<List<AccountView>> {
    val watch = watchMyAccounts()
    return watching { watch.next() }
}

/** One account now (`null` while the device does not hold it) and after every change. */
fun Replica.observeAccount(account: String): Flow<AccountView?> {
    val watch = watchAccount(account)
    return watching { watch.next() }
}

/** The user's bookings now and after every change. */
fun Replica.observeMyBookings(): Flow<List<BookingView>> {
    val watch = watchMyBookings()
    return watching { watch.next() }
}

/** The departures on this device now and after every change. */
fun Replica.observeMyDepartures(): Flow<List<DepartureView>> {
    val watch = watchMyDepartures()
    return watching { watch.next() }
}

/** The user's open leads now and after every change. */
fun Replica.observeMyLeads(): Flow<List<LeadView>> {
    val watch = watchMyLeads()
    return watching { watch.next() }
}

/** The sync status now and each time it changes. */
fun SyncClient.observeStatus(): Flow<SyncStatus> {
    val watch = watchStatus()
    return watching { watch.next() }
}

/** Opens (or creates) the device's replica off the caller's thread. */
suspend fun openReplica(path: String, user: String): Replica =
    withContext(Dispatchers.IO) { Replica.open(path, user) }

/** Runs replica calls off the caller's thread (they write to storage before returning). */
suspend fun <T> Replica.io(block: Replica.() -> T): T = withContext(Dispatchers.IO) { block() }
