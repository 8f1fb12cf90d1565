// The idiomatic layer over the generated bindings (package uniffi.itinera): coroutines for
// the blocking calls, and the sync client's listener as a Flow.
package com.itinera.sdk

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.withContext
import uniffi.itinera.Replica
import uniffi.itinera.SyncClient
import uniffi.itinera.SyncListener
import uniffi.itinera.SyncStatus

/** What the sync client reports, one event at a time. */
sealed interface SyncEvent {
    /** Records changed on this device because of a sync (ids as `automerge:` URLs). */
    data class RecordsChanged(val documents: List<String>) : SyncEvent

    /** Online, offline or syncing. */
    data class StatusChanged(val status: SyncStatus) : SyncEvent

    /** The server refused this device's changes to a document; see `discardLocalChanges`. */
    data class Rejected(val document: String, val reason: String) : SyncEvent
}

/**
 * The sync client's events as a Flow. Collecting it installs the client's listener; the flow
 * ends when the collector is cancelled.
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

/** Opens (or creates) the device's replica off the caller's thread. */
suspend fun openReplica(path: String, user: String): Replica =
    withContext(Dispatchers.IO) { Replica.open(path, user) }

/** Runs a replica call off the caller's thread (they write to storage before returning). */
suspend fun <T> Replica.io(block: Replica.() -> T): T = withContext(Dispatchers.IO) { block() }
