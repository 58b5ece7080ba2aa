// Platform callbacks written in Kotlin, the way an app writes them: a clock
// the test moves by hand, and an AlertListener that records what the wallet
// tells it (an app would post a notification instead).
package app.billfold.core

import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicLong

/** 2026-11-23T12:00:00Z: a Monday, 13:00 in Paris. */
const val NOV_23_2026_NOON_UTC = 1_795_435_200_000L
const val DAY_MS = 86_400_000L

class ManualClock(start: Long = NOV_23_2026_NOON_UTC) : Clock {
    private val now = AtomicLong(start)
    var reads = AtomicLong(0)
        private set

    override fun nowMillis(): Long {
        reads.incrementAndGet()
        return now.get()
    }

    fun set(ms: Long) = now.set(ms)
    fun advance(ms: Long) = now.addAndGet(ms)
}

class RecordingListener : AlertListener {
    val alerts = CopyOnWriteArrayList<Alert>()
    val transactions = CopyOnWriteArrayList<LedgerEntry>()

    override fun onAlert(alert: Alert) {
        alerts.add(alert)
    }

    override fun onTransaction(entry: LedgerEntry) {
        transactions.add(entry)
    }
}

fun eur(amount: String) = Money(amount, "EUR")

/** Appends the Luhn check digit. */
fun luhn(body: String): String {
    val sum = body.reversed().mapIndexed { i, c ->
        val d = c.digitToInt()
        if (i % 2 == 0) (d * 2).let { if (it > 9) it - 9 else it } else d
    }.sum()
    return body + ((10 - sum % 10) % 10)
}

fun hex(s: String): ByteArray =
    s.replace(" ", "").chunked(2).map { it.toInt(16).toByte() }.toByteArray()

fun ByteArray.toHex(): String = joinToString("") { "%02X".format(it) }
