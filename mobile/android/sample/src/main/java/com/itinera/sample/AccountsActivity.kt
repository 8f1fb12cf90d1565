// A rep's accounts, offline first: the list comes from the device's replica, the button syncs,
// and the list refreshes whenever a sync brings changes.
package com.itinera.sample

import android.app.Activity
import android.os.Bundle
import android.widget.ArrayAdapter
import android.widget.Button
import android.widget.LinearLayout
import android.widget.ListView
import android.widget.TextView
import androidx.lifecycle.lifecycleScope
import com.itinera.sdk.SyncEvent
import com.itinera.sdk.events
import com.itinera.sdk.io
import com.itinera.sdk.openReplica
import kotlinx.coroutines.MainScope
import kotlinx.coroutines.launch
import uniffi.itinera.ItineraException
import uniffi.itinera.Replica
import uniffi.itinera.SyncClient

class AccountsActivity : Activity() {
    private val scope = MainScope()
    private lateinit var replica: Replica
    private lateinit var client: SyncClient
    private lateinit var status: TextView
    private lateinit var adapter: ArrayAdapter<String>

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        status = TextView(this)
        adapter = ArrayAdapter(this, android.R.layout.simple_list_item_1)
        val list = ListView(this).apply { adapter = this@AccountsActivity.adapter }
        val sync = Button(this).apply { text = "Sync" }
        setContentView(LinearLayout(this).apply {
            orientation = LinearLayout.VERTICAL
            addView(status)
            addView(sync)
            addView(list)
        })
        scope.launch {
            replica = openReplica(filesDir.resolve("itinera.redb").path, "sam")
            client = SyncClient(replica, BuildConfig.ITINERA_SYNC_URL, BuildConfig.ITINERA_TOKEN)
            launch {
                client.events().collect { event ->
                    when (event) {
                        is SyncEvent.StatusChanged -> status.text = event.status.name.lowercase()
                        is SyncEvent.RecordsChanged -> refresh()
                        is SyncEvent.Rejected -> status.text = "refused: ${event.reason}"
                    }
                }
            }
            client.startBackground(60_000u)
            refresh()
        }
        sync.setOnClickListener {
            scope.launch {
                try {
                    val report = client.syncNow()
                    status.text = "synced: ${report.documentsSent} sent, ${report.documentsReceived} received"
                } catch (e: ItineraException) {
                    status.text = e.message
                }
                refresh()
            }
        }
    }

    private suspend fun refresh() {
        val accounts = replica.io { myAccounts() }
        adapter.clear()
        adapter.addAll(accounts.map { "${it.name} · ${it.contacts.size} contacts" })
    }

    override fun onDestroy() {
        if (::client.isInitialized) client.stopBackground()
        super.onDestroy()
    }
}
