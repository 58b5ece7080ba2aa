// Ledger, budgets, alerts and insights through the Kotlin bindings, on a
// wallet whose time is a Kotlin Clock: payments recorded from Kotlin, a
// budget alert arriving in a Kotlin AlertListener, balances, history pages,
// moving to the next budget period by moving the clock, and typed errors
// whose `code` is read from the WalletException base class.
package app.billfold.core

import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Path
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class LedgerBudgetTest {
    @TempDir
    lateinit var tmp: Path

    private val dir get() = tmp.resolve("wallet").toString()

    private fun coffee(key: String, amount: String, bookedAtMs: Long? = null) = PendingEntry(
        idempotencyKey = key,
        amount = eur(amount),
        kind = EntryKind.PURCHASE,
        merchant = "Café de Flore",
        mcc = 5812u,
        bookedAtMs = bookedAtMs,
    )

    @Test
    fun `a budget alert arrives in a Kotlin AlertListener`() {
        val clock = ManualClock()
        val listener = RecordingListener()
        Wallet.create(dir, AesGcmKeyStore(), clock).use { wallet ->
            wallet.setAlertListener(listener)
            val created = wallet.createBudget(
                NewBudget(
                    name = "Eating out",
                    limit = eur("100.00"),
                    period = Period.Monthly(1u),
                    timeZone = "Europe/Paris",
                    category = "food",
                ),
            )
            val budget = created.budget
            assertEquals(emptyList(), created.alerts, "nothing spent yet")
            assertEquals("2026-11-01", budget.startsOn)
            assertEquals(listOf(50u, 80u, 100u), budget.thresholds)
            assertEquals(Rollover.OFF, budget.rollover)
            assertEquals("food", budget.category)

            // 60% of the budget: the 50% threshold fires, once.
            val first = wallet.recordPending(coffee("tap-1", "60.00"))
            assertFalse(first.duplicate)
            assertEquals(eur("-60.00"), first.entry.amount, "money out is negative")
            assertEquals(EntryStatus.PENDING, first.entry.status)
            assertEquals("food.restaurants", first.entry.category, "from the MCC")
            assertEquals(NOV_23_2026_NOON_UTC, first.entry.bookedAtMs, "now, by the Kotlin clock")
            assertEquals(1, first.alerts.size)
            val alert = listener.alerts.single()
            assertEquals(first.alerts.single(), alert, "the listener got what the call returned")
            assertEquals(AlertKind.THRESHOLD, alert.kind)
            assertEquals(50u, alert.thresholdPercent)
            assertEquals(budget.id, alert.budgetId)
            assertEquals("Eating out", alert.budgetName)
            assertEquals(eur("60.00"), alert.spent)
            assertEquals(eur("100.00"), alert.limit)
            assertEquals("2026-11-01" to "2026-11-30", alert.periodStart to alert.periodEnd)
            assertTrue(alert.message.isNotBlank())
            assertEquals(NOV_23_2026_NOON_UTC, alert.firedAtMs)
            assertEquals(listOf(first.entry), listener.transactions, "and heard about the payment")

            // The same payment again records and fires nothing.
            val again = wallet.recordPending(coffee("tap-1", "60.00"))
            assertTrue(again.duplicate)
            assertEquals(first.entry.id, again.entry.id)
            assertEquals(1, listener.alerts.size)

            // Past 100%: one "exceeded" alert (80% is recorded, not repeated to the user).
            wallet.recordPending(coffee("tap-2", "45.00"))
            assertEquals(2, listener.alerts.size)
            assertEquals(AlertKind.EXCEEDED, listener.alerts.last().kind)
            assertEquals(100u, listener.alerts.last().thresholdPercent)
            assertEquals(
                setOf("t50", "t80", "t100"),
                wallet.sentAlerts(budget.id).map { it.key }.toSet(),
            )

            val status = wallet.budgetStatus(budget.id)
            assertEquals(eur("105.00"), status.spent)
            assertEquals(eur("-5.00"), status.remaining)
            assertEquals(105u, status.percentUsed)
            assertEquals("2026-11-01" to "2026-11-30", status.periodStart to status.periodEnd)
            assertEquals(listOf(status), wallet.budgetStatuses())
        }
    }

    @Test
    fun `balances, history pages, categories and bills`() {
        val clock = ManualClock()
        Wallet.create(dir, AesGcmKeyStore(), clock).use { wallet ->
            assertEquals(emptyList(), wallet.balances())
            val tap1 = wallet.recordPending(coffee("tap-1", "12.50")).entry
            val tap2 = wallet.recordPending(coffee("tap-2", "7.25", NOV_23_2026_NOON_UTC + 60_000)).entry

            val balance = wallet.balance("main").single()
            assertEquals("EUR", balance.currency)
            assertEquals(eur("0.00"), balance.posted)
            assertEquals(eur("19.75"), balance.pendingHolds)
            assertEquals(eur("-19.75"), balance.available)
            assertEquals(eur("-19.75"), balance.projected)

            val rent = wallet.scheduleBill(NewBill("Rent", eur("500.00"), NOV_23_2026_NOON_UTC + 5 * DAY_MS))
            assertEquals(listOf(rent), wallet.scheduledBills())
            assertEquals(eur("-519.75"), wallet.balances().single().projected, "projected subtracts bills")
            wallet.removeBill(rent.id)
            assertEquals(eur("-19.75"), wallet.balances().single().projected)

            // Newest first, one entry per page, then the end.
            val page1 = wallet.history(limit = 1u)
            assertEquals(listOf(tap2.id), page1.entries.map { it.id })
            val next = assertNotNull(page1.next)
            val page2 = wallet.history(limit = 1u, before = next)
            assertEquals(listOf(tap1.id), page2.entries.map { it.id })
            assertNull(page2.next)
            assertEquals(2, wallet.history().entries.size)
            assertEquals(2, wallet.history(category = "food").entries.size, "sub-categories included")
            assertEquals(0, wallet.history(account = "savings").entries.size)

            val groceries = wallet.categories().single { it.id == "food.groceries" }
            assertEquals("food", groceries.parentId)
            val moved = wallet.categorize(tap1.id, groceries.id)
            assertEquals("food.groceries", moved.entry.category)
            assertEquals(groceries.name, moved.entry.categoryName)
            assertEquals("food.groceries", wallet.entry(tap1.id).category)

            val reversed = wallet.reverseEntry(tap2.id)
            assertEquals(EntryStatus.REVERSED, reversed.status)
            assertEquals(eur("-12.50"), wallet.balances().single().available)
        }
    }

    @Test
    fun `categories are created, renamed, merged and deleted, and notes kept`() {
        Wallet.create(dir, AesGcmKeyStore(), ManualClock()).use { wallet ->
            val tap = wallet.recordPending(coffee("tap-1", "12.50")).entry

            val brunch = wallet.createCategory("Brunch", "food")
            assertEquals("food", brunch.parentId)
            assertContains(wallet.categories(), brunch)
            assertEquals("Weekend brunch", wallet.renameCategory(brunch.id, "Weekend brunch").name)
            wallet.categorize(tap.id, brunch.id)
            assertEquals(listOf(tap.id), wallet.history(category = brunch.id).entries.map { it.id })

            // Deleting loses nothing: the transaction moves to the parent.
            assertEquals("food", wallet.deleteCategory(brunch.id).id)
            assertFalse(wallet.categories().any { it.id == brunch.id })
            assertEquals(listOf(tap.id), wallet.history(category = "food").entries.map { it.id })

            val treats = wallet.createCategory("Treats", null)
            assertNull(treats.parentId)
            wallet.categorize(tap.id, treats.id)
            assertEquals("food.groceries", wallet.mergeCategories(treats.id, "food.groceries").id)
            assertEquals(listOf(tap.id), wallet.history(category = "food.groceries").entries.map { it.id })
            assertFalse(wallet.categories().any { it.id == treats.id })

            val noName = assertFailsWith<WalletException> { wallet.createCategory(" ", null) }
            assertTrue(noName.code.isNotBlank())
            assertFailsWith<WalletException> { wallet.renameCategory("no such category", "X") }

            // Notes: card numbers masked, cleared by null, bounded.
            val noted = wallet.setNote(tap.id, "with Ada, paid with 4000056655665556")
            val note = assertNotNull(noted.note)
            assertContains(note, "with Ada")
            assertFalse(note.contains("40000566"), "a card number in a note is masked")
            assertEquals(note, wallet.entry(tap.id).note)
            assertNull(wallet.setNote(tap.id, null).note)
            val long = assertFailsWith<WalletException.InvalidInput> { wallet.setNote(tap.id, "x".repeat(201)) }
            assertTrue(long.code.isNotBlank())
            assertNull(wallet.entry(tap.id).note, "a refused note changes nothing")
        }
    }

    @Test
    fun `exchange rates set from Kotlin convert foreign spending`() {
        Wallet.create(dir, AesGcmKeyStore(), ManualClock()).use { wallet ->
            wallet.recordPending(
                PendingEntry(
                    idempotencyKey = "ny-1",
                    amount = Money("20.00", "USD"),
                    kind = EntryKind.PURCHASE,
                    merchant = "Katz's Deli",
                    mcc = 5812u,
                ),
            )
            wallet.recordPending(coffee("tap-1", "10.00"))
            assertFailsWith<WalletException> { wallet.insights("EUR", "Europe/Paris", months = 1u) }

            val rate = FxRate("USD", "EUR", "0.9", "manual", NOV_23_2026_NOON_UTC - DAY_MS)
            wallet.setFxRate(rate)
            assertEquals(listOf(rate), wallet.fxRates())
            assertEquals(eur("28.00"), wallet.insights("EUR", "Europe/Paris", months = 1u).total)

            for (bad in listOf(rate.copy(rate = "-1"), rate.copy(rate = "1e3"), rate.copy(rate = "0"),
                rate.copy(quote = "USD"), rate.copy(base = "XYZ"))) {
                val e = assertFailsWith<WalletException>(bad.toString()) { wallet.setFxRate(bad) }
                assertTrue(e.code.isNotBlank())
            }
            assertEquals(listOf(rate), wallet.fxRates(), "refused rates store nothing")
        }
    }

    @Test
    fun `a bank statement imports once, and a bad line refuses the file without echoing it`() {
        Wallet.create(dir, AesGcmKeyStore(), ManualClock()).use { wallet ->
            val csv = """
                id,date,amount,currency,merchant,mcc
                st-1,2026-11-20,-42.10,EUR,MARCHE BIO PARIS,5411
                st-2,2026-11-21,1500.00,EUR,Salary,
            """.trimIndent().toByteArray()
            val first = wallet.importStatement(csv, StatementFormat.AUTO, account = null, currencyCode = null)
            assertEquals(2u to 0u, first.inserted to first.unchanged)
            val again = wallet.importStatement(csv, StatementFormat.CSV, account = null, currencyCode = null)
            assertEquals(0u to 2u, again.inserted to again.unchanged)
            assertEquals(eur("1457.90"), wallet.balance("main").single().posted)

            val pan = "4000056655665556"
            val bad = "id,date,amount,currency\nst-3,2026-11-22,$pan$pan,EUR\n".toByteArray()
            val e = assertFailsWith<WalletException> {
                wallet.importStatement(bad, StatementFormat.CSV, account = null, currencyCode = null)
            }
            assertEquals("invalid_import", e.code)
            assertFalse(e.toString().contains("56655665"), "the line's content is not echoed")
            assertEquals(2, wallet.history().entries.size, "nothing from the refused file")
        }
    }

    @Test
    fun `a Kotlin clock moves the wallet into the next budget period`() {
        val clock = ManualClock()
        Wallet.create(dir, AesGcmKeyStore(), clock).use { wallet ->
            val budget = wallet.createBudget(
                NewBudget("Everything", eur("300.00"), Period.Monthly(1u), "Europe/Paris"),
            ).budget
            wallet.recordPending(coffee("tap-1", "105.00"))
            assertEquals(eur("105.00"), wallet.budgetStatus(budget.id).spent)
            assertTrue(clock.reads.get() > 0, "the wallet reads the Kotlin clock")

            clock.set(NOV_23_2026_NOON_UTC + 9 * DAY_MS) // 2 December
            val december = wallet.budgetStatus(budget.id)
            assertEquals("2026-12-01", december.periodStart)
            assertEquals(eur("0.00"), december.spent)
            assertEquals(2u, december.daysElapsed)

            // The Insights screen, two months up to today (2 December).
            val insights = wallet.insights("EUR", "Europe/Paris", months = 2u)
            assertEquals(listOf("2026-11", "2026-12"), insights.months.map { it.month })
            assertEquals(eur("105.00"), insights.total)
            assertEquals("2026-12-02", insights.to)
            val merchant = insights.topMerchants.single()
            assertEquals("Café de Flore" to 1u, merchant.merchant to merchant.transactions)
            assertEquals("food", insights.byTopCategory.first().category)
            assertEquals(100u, insights.byTopCategory.first().sharePercent)

            val csv = tmp.resolve("export.csv").toString()
            assertEquals(1uL, wallet.exportCsv(csv))
            val lines = File(csv).readLines()
            assertEquals(2, lines.size, "a header and one entry")
            assertContains(lines[1], "Café de Flore")

            // Auto-lock counts on the same clock: no sleeping.
            wallet.setAutoLock(60_000u)
            wallet.balances()
            clock.advance(60_001)
            assertEquals("locked", assertFailsWith<WalletException> { wallet.balances() }.code)
            wallet.unlock()
            assertEquals(1, wallet.balances().size)
        }
    }

    @Test
    fun `budgets are edited, listed and deleted`() {
        val listener = RecordingListener()
        val clock = ManualClock()
        Wallet.create(dir, AesGcmKeyStore(), clock).use { wallet ->
            wallet.setAlertListener(listener)
            val weekly = wallet.createBudget(
                NewBudget(
                    name = "Coffee",
                    limit = eur("20.00"),
                    period = Period.Weekly(Weekday.MONDAY),
                    timeZone = "Europe/Paris",
                    category = "food.restaurants",
                    rollover = Rollover.SURPLUS,
                    thresholds = listOf(90u, 75u),
                ),
            ).budget
            assertEquals(Period.Weekly(Weekday.MONDAY), weekly.period)
            assertEquals(listOf(75u, 90u), weekly.thresholds, "sorted")
            assertEquals("2026-11-23", weekly.startsOn)
            wallet.recordPending(coffee("tap-1", "10.00"))
            assertEquals(0, listener.alerts.size, "50% is no threshold of this budget")

            // Lowering the limit re-evaluates the budget: 10 of 12 is 83%.
            val edited = wallet.editBudget(weekly.id, BudgetEdit(name = "Cafés", limit = eur("12.00")))
            assertEquals("Cafés", edited.budget.name)
            assertEquals(eur("12.00"), edited.budget.limit)
            assertEquals(75u, edited.alerts.single().thresholdPercent)
            assertEquals(edited.alerts, listener.alerts)

            clock.advance(1_000) // budgets are listed oldest first
            val custom = wallet.createBudget(
                NewBudget("Trip", eur("900.00"), Period.Custom("2026-12-01", "2026-12-15"), "Asia/Tokyo"),
            ).budget
            assertEquals(Period.Custom("2026-12-01", "2026-12-15"), custom.period)
            val overall = wallet.editBudget(weekly.id, BudgetEdit(scope = BudgetScope.Overall)).budget
            assertNull(overall.category)
            assertEquals(listOf(weekly.id, custom.id), wallet.budgets().map { it.id })

            wallet.deleteBudget(custom.id)
            assertEquals(listOf(weekly.id), wallet.budgets().map { it.id })
            val gone: WalletException = assertFailsWith<WalletException.NotFound> { wallet.budget(custom.id) }
            assertEquals("budget_not_found", gone.code, "read through the base class")
        }
    }

    @Test
    fun `bad input is a typed error with a stable code on the base class`() {
        Wallet.create(dir, AesGcmKeyStore(), ManualClock()).use { wallet ->
            fun code(block: () -> Unit): String {
                val e = assertFailsWith<WalletException> { block() }
                assertTrue(e.reason.isNotBlank())
                assertContains(e.message!!, "code=${e.code}")
                return e.code
            }
            val base = NewBudget("Food", eur("100.00"), Period.Monthly(1u), "Europe/Paris")
            assertEquals("unknown_time_zone", code { wallet.createBudget(base.copy(timeZone = "Mars/Olympus")) })
            assertEquals("invalid_input", code { wallet.createBudget(base.copy(period = Period.Custom("2026-13-01", "2026-12-31"))) })
            assertEquals("invalid_input", code { wallet.createBudget(base.copy(timeZone = "Europe/Paris\n")) })
            assertEquals("invalid_period", code { wallet.createBudget(base.copy(period = Period.Custom("2026-12-31", "2026-12-01"))) })
            assertEquals("invalid_start_day", code { wallet.createBudget(base.copy(period = Period.Monthly(32u))) })
            assertEquals("invalid_thresholds", code { wallet.createBudget(base.copy(thresholds = listOf(0u))) })
            assertEquals("invalid_thresholds", code { wallet.createBudget(base.copy(thresholds = List(100) { 50u })) })
            assertEquals("invalid_currency", code { wallet.createBudget(base.copy(limit = Money("100", "EURO"))) })
            assertEquals("category_not_found", code { wallet.createBudget(base.copy(category = "yachts")) })
            assertEquals(emptyList(), wallet.budgets(), "nothing was created")

            assertEquals("invalid_amount", code { wallet.recordPending(coffee("k", "1.001")) })
            assertEquals("invalid_amount", code { wallet.recordPending(coffee("k", "-5.00")) })
            assertEquals("invalid_amount", code { wallet.recordPending(coffee("k", "1e3")) })
            assertEquals("invalid_input", code { wallet.recordPending(coffee("k", "5.00", bookedAtMs = -1)) })
            assertEquals("invalid_input", code { wallet.recordPending(coffee("", "5.00")) })
            assertEquals("invalid_input", code { wallet.recordPending(coffee("k".repeat(5000), "5.00")) })
            wallet.recordPending(coffee("k", "5.00"))
            assertEquals("idempotency_conflict", code { wallet.recordPending(coffee("k", "6.00")) })

            assertEquals("invalid_input", code { wallet.history(limit = 0u) })
            assertEquals("invalid_input", code { wallet.history(before = "not a cursor") })
            assertEquals("invalid_input", code { wallet.entry("'; DROP TABLE ledger_entries; --") })
            assertEquals("entry_not_found", code { wallet.entry("abcdef0123456789") })
            assertEquals("budget_not_found", code { wallet.budgetStatus("0123456789abcdef") })
            assertEquals("invalid_input", code { wallet.insights("EUR", "UTC", months = 0u) })
            assertEquals("invalid_input", code { wallet.exportCsv("") })
        }
    }

    @Test
    fun `a listener or clock that throws cannot break the wallet`() {
        // Thrown from Kotlin into Rust: it must come back as nothing at all,
        // neither a crash nor an error carrying this text.
        val canary = "listener-canary-4000056655665556"
        val throwing = object : AlertListener {
            override fun onAlert(alert: Alert) = throw IllegalStateException(canary)
            override fun onTransaction(entry: LedgerEntry) = throw IllegalStateException(canary)
        }
        val brokenClock = object : Clock {
            override fun nowMillis(): Long = throw IllegalStateException(canary)
        }
        // A clock that throws: the device clock stands in.
        Wallet.create(dir, AesGcmKeyStore(), brokenClock).use { wallet ->
            wallet.setAlertListener(throwing)
            wallet.createBudget(NewBudget("All", eur("10.00"), Period.Monthly(1u), "UTC"))
            val recorded = wallet.recordPending(coffee("tap-1", "9.00"))
            val now = System.currentTimeMillis()
            assertTrue(kotlin.math.abs(recorded.entry.bookedAtMs - now) < 60_000, "booked at the device's time")
            // Depending on the device's date a forecast alert may come too.
            assertTrue(recorded.alerts.any { it.thresholdPercent == 80u }, "the alert is still returned")
            assertTrue(wallet.sentAlerts().map { it.key }.containsAll(listOf("t50", "t80")), "and recorded")
            wallet.clearAlertListener()
            assertEquals(1, wallet.history().entries.size)
        }
    }
}
