// Ledger, budgets, alerts and insights through the Swift bindings, on a
// wallet whose time is a Swift Clock; mirrors LedgerBudgetTest.kt.
import BillfoldCore
import Foundation
import XCTest

final class LedgerBudgetTests: XCTestCase {
    private var tmp: URL!
    private var dir: String { tmp.appendingPathComponent("wallet").path }

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func coffee(_ key: String, _ amount: String, bookedAtMs: Int64? = nil) -> PendingEntry {
        PendingEntry(
            idempotencyKey: key, amount: eur(amount), kind: .purchase,
            merchant: "Café de Flore", mcc: 5812, bookedAtMs: bookedAtMs
        )
    }

    func testABudgetAlertArrivesInASwiftAlertListener() throws {
        let clock = ManualClock()
        let listener = RecordingListener()
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: clock)
        defer { try? wallet.close() }
        try wallet.setAlertListener(listener: listener)
        let created = try wallet.createBudget(budget: NewBudget(
            name: "Eating out", limit: eur("100.00"), period: .monthly(startDay: 1),
            timeZone: "Europe/Paris", category: "food"
        ))
        let budget = created.budget
        XCTAssertEqual(created.alerts, [])
        XCTAssertEqual(budget.startsOn, "2026-11-01")
        XCTAssertEqual(budget.thresholds, [50, 80, 100])
        XCTAssertEqual(budget.rollover, .off)

        let first = try wallet.recordPending(entry: coffee("tap-1", "60.00"))
        XCTAssertFalse(first.duplicate)
        XCTAssertEqual(first.entry.amount, eur("-60.00"))
        XCTAssertEqual(first.entry.status, .pending)
        XCTAssertEqual(first.entry.category, "food.restaurants")
        XCTAssertEqual(first.entry.bookedAtMs, nov23_2026NoonUtc, "now, by the Swift clock")
        XCTAssertEqual(listener.alerts, first.alerts)
        XCTAssertEqual(listener.alerts.first?.kind, .threshold)
        XCTAssertEqual(listener.alerts.first?.thresholdPercent, 50)
        XCTAssertEqual(listener.alerts.first?.budgetId, budget.id)
        XCTAssertEqual(listener.transactions, [first.entry])

        XCTAssertTrue(try wallet.recordPending(entry: coffee("tap-1", "60.00")).duplicate)
        XCTAssertEqual(listener.alerts.count, 1)

        _ = try wallet.recordPending(entry: coffee("tap-2", "45.00"))
        XCTAssertEqual(listener.alerts.count, 2)
        XCTAssertEqual(listener.alerts.last?.kind, .exceeded)
        XCTAssertEqual(Set(try wallet.sentAlerts(budgetId: budget.id).map(\.key)), ["t50", "t80", "t100"])

        let status = try wallet.budgetStatus(id: budget.id)
        XCTAssertEqual(status.spent, eur("105.00"))
        XCTAssertEqual(status.remaining, eur("-5.00"))
        XCTAssertEqual(status.percentUsed, 105)
        XCTAssertEqual(status.periodStart, "2026-11-01")
        XCTAssertEqual(status.periodEnd, "2026-11-30")
    }

    func testBalancesHistoryPagesCategoriesAndBills() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: ManualClock())
        defer { try? wallet.close() }
        let tap1 = try wallet.recordPending(entry: coffee("tap-1", "12.50")).entry
        let tap2 = try wallet.recordPending(entry: coffee("tap-2", "7.25", bookedAtMs: nov23_2026NoonUtc + 60_000)).entry

        let balance = try XCTUnwrap(try wallet.balance(account: "main").first)
        XCTAssertEqual(balance.pendingHolds, eur("19.75"))
        XCTAssertEqual(balance.available, eur("-19.75"))
        let rent = try wallet.scheduleBill(bill: NewBill(name: "Rent", amount: eur("500.00"), dueAtMs: nov23_2026NoonUtc + 5 * dayMs))
        XCTAssertEqual(try wallet.balances().first?.projected, eur("-519.75"))
        try wallet.removeBill(id: rent.id)

        let page1 = try wallet.history(limit: 1)
        XCTAssertEqual(page1.entries.map(\.id), [tap2.id])
        let page2 = try wallet.history(limit: 1, before: try XCTUnwrap(page1.next))
        XCTAssertEqual(page2.entries.map(\.id), [tap1.id])
        XCTAssertNil(page2.next)

        let moved = try wallet.categorize(entryId: tap1.id, category: "food.groceries")
        XCTAssertEqual(moved.entry.category, "food.groceries")
        XCTAssertEqual(try wallet.reverseEntry(entryId: tap2.id).status, .reversed)
        XCTAssertEqual(try wallet.balances().first?.available, eur("-12.50"))
    }

    func testCategoriesAreCreatedRenamedMergedAndDeletedAndNotesKept() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: ManualClock())
        defer { try? wallet.close() }
        let tap = try wallet.recordPending(entry: coffee("tap-1", "12.50")).entry

        let brunch = try wallet.createCategory(name: "Brunch", parent: "food")
        XCTAssertEqual(brunch.parentId, "food")
        XCTAssertEqual(try wallet.renameCategory(category: brunch.id, name: "Weekend brunch").name, "Weekend brunch")
        _ = try wallet.categorize(entryId: tap.id, category: brunch.id)
        // Deleting loses nothing: the transaction moves to the parent.
        XCTAssertEqual(try wallet.deleteCategory(category: brunch.id).id, "food")
        XCTAssertFalse(try wallet.categories().contains { $0.id == brunch.id })
        XCTAssertEqual(try wallet.history(category: "food").entries.map(\.id), [tap.id])

        let treats = try wallet.createCategory(name: "Treats", parent: nil)
        _ = try wallet.categorize(entryId: tap.id, category: treats.id)
        XCTAssertEqual(try wallet.mergeCategories(from: treats.id, into: "food.groceries").id, "food.groceries")
        XCTAssertEqual(try wallet.history(category: "food.groceries").entries.map(\.id), [tap.id])

        // Notes: card numbers masked, cleared by nil, bounded.
        let note = try XCTUnwrap(try wallet.setNote(entryId: tap.id, note: "with Ada, paid with 4000056655665556").note)
        XCTAssertTrue(note.contains("with Ada"))
        XCTAssertFalse(note.contains("40000566"))
        XCTAssertNil(try wallet.setNote(entryId: tap.id, note: nil).note)
        XCTAssertThrowsError(try wallet.setNote(entryId: tap.id, note: String(repeating: "x", count: 201)))
        XCTAssertNil(try wallet.entry(id: tap.id).note)
    }

    func testExchangeRatesSetFromSwiftConvertForeignSpending() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: ManualClock())
        defer { try? wallet.close() }
        _ = try wallet.recordPending(entry: PendingEntry(
            idempotencyKey: "ny-1", amount: Money(amount: "20.00", currency: "USD"), kind: .purchase,
            merchant: "Katz's Deli", mcc: 5812, bookedAtMs: nil
        ))
        _ = try wallet.recordPending(entry: coffee("tap-1", "10.00"))
        XCTAssertThrowsError(try wallet.insights(currency: "EUR", timeZone: "Europe/Paris", months: 1))

        let rate = FxRate(base: "USD", quote: "EUR", rate: "0.9", source: "manual", asOfMs: nov23_2026NoonUtc - dayMs)
        try wallet.setFxRate(rate: rate)
        XCTAssertEqual(try wallet.fxRates(), [rate])
        XCTAssertEqual(try wallet.insights(currency: "EUR", timeZone: "Europe/Paris", months: 1).total, eur("28.00"))
        XCTAssertThrowsError(try wallet.setFxRate(rate: FxRate(
            base: "USD", quote: "EUR", rate: "1e3", source: "manual", asOfMs: nov23_2026NoonUtc
        )))
        XCTAssertEqual(try wallet.fxRates(), [rate])
    }

    func testABankStatementImportsOnceAndABadLineRefusesTheFile() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: ManualClock())
        defer { try? wallet.close() }
        let csv = Data("""
            id,date,amount,currency,merchant,mcc
            st-1,2026-11-20,-42.10,EUR,MARCHE BIO PARIS,5411
            st-2,2026-11-21,1500.00,EUR,Salary,
            """.utf8)
        let first = try wallet.importStatement(data: csv, format: .auto, account: nil, currencyCode: nil)
        XCTAssertEqual(first.inserted, 2)
        let again = try wallet.importStatement(data: csv, format: .csv, account: nil, currencyCode: nil)
        XCTAssertEqual(again.unchanged, 2)
        XCTAssertEqual(try wallet.balance(account: "main").first?.posted, eur("1457.90"))

        let bad = Data("id,date,amount,currency\nst-3,2026-11-22,40000566556655564000056655665556,EUR\n".utf8)
        XCTAssertThrowsError(try wallet.importStatement(data: bad, format: .csv, account: nil, currencyCode: nil)) { error in
            XCTAssertEqual(code(of: error), "invalid_import")
            XCTAssertFalse(String(describing: error).contains("56655665"))
        }
        XCTAssertEqual(try wallet.history().entries.count, 2)
    }

    func testASwiftClockMovesTheWalletIntoTheNextBudgetPeriod() throws {
        let clock = ManualClock()
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: clock)
        defer { try? wallet.close() }
        let budget = try wallet.createBudget(budget: NewBudget(
            name: "Everything", limit: eur("300.00"), period: .monthly(startDay: 1), timeZone: "Europe/Paris"
        )).budget
        _ = try wallet.recordPending(entry: coffee("tap-1", "105.00"))
        XCTAssertEqual(try wallet.budgetStatus(id: budget.id).spent, eur("105.00"))

        clock.set(nov23_2026NoonUtc + 9 * dayMs)
        let december = try wallet.budgetStatus(id: budget.id)
        XCTAssertEqual(december.periodStart, "2026-12-01")
        XCTAssertEqual(december.spent, eur("0.00"))

        let insights = try wallet.insights(currency: "EUR", timeZone: "Europe/Paris", months: 2)
        XCTAssertEqual(insights.months.map(\.month), ["2026-11", "2026-12"])
        XCTAssertEqual(insights.total, eur("105.00"))
        XCTAssertEqual(insights.topMerchants.first?.merchant, "Café de Flore")

        let csv = tmp.appendingPathComponent("export.csv").path
        XCTAssertEqual(try wallet.exportCsv(path: csv), 1)

        try wallet.setAutoLock(timeoutMs: 60_000)
        _ = try wallet.balances()
        clock.advance(60_001)
        XCTAssertThrowsError(try wallet.balances()) { XCTAssertEqual(code(of: $0), "locked") }
        try wallet.unlock()
    }

    func testBudgetsAreEditedListedAndDeleted() throws {
        let clock = ManualClock()
        let listener = RecordingListener()
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: clock)
        defer { try? wallet.close() }
        try wallet.setAlertListener(listener: listener)
        let weekly = try wallet.createBudget(budget: NewBudget(
            name: "Coffee", limit: eur("20.00"), period: .weekly(start: .monday), timeZone: "Europe/Paris",
            category: "food.restaurants", rollover: .surplus, thresholds: [90, 75]
        )).budget
        XCTAssertEqual(weekly.thresholds, [75, 90])
        _ = try wallet.recordPending(entry: coffee("tap-1", "10.00"))
        XCTAssertEqual(listener.alerts.count, 0)

        let edited = try wallet.editBudget(id: weekly.id, edit: BudgetEdit(name: "Cafés", limit: eur("12.00")))
        XCTAssertEqual(edited.budget.limit, eur("12.00"))
        XCTAssertEqual(edited.alerts.map(\.thresholdPercent), [75])
        XCTAssertEqual(edited.alerts, listener.alerts)

        clock.advance(1_000)
        let custom = try wallet.createBudget(budget: NewBudget(
            name: "Trip", limit: eur("900.00"), period: .custom(start: "2026-12-01", end: "2026-12-15"), timeZone: "Asia/Tokyo"
        )).budget
        XCTAssertNil(try wallet.editBudget(id: weekly.id, edit: BudgetEdit(scope: .overall)).budget.category)
        XCTAssertEqual(try wallet.budgets().map(\.id), [weekly.id, custom.id])
        try wallet.deleteBudget(id: custom.id)
        XCTAssertThrowsError(try wallet.budget(id: custom.id)) { error in
            XCTAssertEqual((error as? WalletError)?.code, "budget_not_found", "read over every case")
        }
    }

    func testBadInputIsATypedErrorWithAStableCode() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: ManualClock())
        defer { try? wallet.close() }
        func expect(_ expected: String, _ body: () throws -> Void, line: UInt = #line) {
            XCTAssertThrowsError(try body(), line: line) { error in
                XCTAssertEqual(code(of: error), expected, line: line)
                XCTAssertFalse((error as? WalletError)?.reason.isEmpty ?? true, line: line)
            }
        }
        // Records are immutable in Swift (uniffi.toml), so each case is built whole.
        func food(
            period: Period = .monthly(startDay: 1), timeZone: String = "Europe/Paris", thresholds: [UInt32]? = nil
        ) -> NewBudget {
            NewBudget(name: "Food", limit: eur("100.00"), period: period, timeZone: timeZone, thresholds: thresholds)
        }
        expect("unknown_time_zone") { _ = try wallet.createBudget(budget: food(timeZone: "Mars/Olympus")) }
        expect("invalid_input") {
            _ = try wallet.createBudget(budget: food(period: .custom(start: "2026-13-01", end: "2026-12-31")))
        }
        expect("invalid_start_day") { _ = try wallet.createBudget(budget: food(period: .monthly(startDay: 32))) }
        expect("invalid_thresholds") { _ = try wallet.createBudget(budget: food(thresholds: [0])) }
        XCTAssertEqual(try wallet.budgets(), [])

        expect("invalid_amount") { _ = try wallet.recordPending(entry: self.coffee("k", "1.001")) }
        expect("invalid_input") { _ = try wallet.recordPending(entry: self.coffee("k", "5.00", bookedAtMs: -1)) }
        _ = try wallet.recordPending(entry: coffee("k", "5.00"))
        expect("idempotency_conflict") { _ = try wallet.recordPending(entry: self.coffee("k", "6.00")) }
        expect("invalid_input") { _ = try wallet.history(limit: 0) }
        expect("invalid_input") { _ = try wallet.entry(id: "'; DROP TABLE ledger_entries; --") }
        expect("entry_not_found") { _ = try wallet.entry(id: "abcdef0123456789") }
    }

    func testAListenerOrClockThatThrowsCannotBreakTheWallet() throws {
        struct Boom: Error {}
        final class ThrowingListener: AlertListener, @unchecked Sendable {
            func onAlert(alert: BillfoldCore.Alert) throws { throw Boom() }
            func onTransaction(entry: LedgerEntry) throws { throw Boom() }
        }
        final class BrokenClock: BillfoldCore.Clock, @unchecked Sendable {
            func nowMillis() throws -> Int64 { throw Boom() }
        }
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: BrokenClock())
        defer { try? wallet.close() }
        try wallet.setAlertListener(listener: ThrowingListener())
        _ = try wallet.createBudget(budget: NewBudget(
            name: "All", limit: eur("10.00"), period: .monthly(startDay: 1), timeZone: "UTC"
        ))
        let recorded = try wallet.recordPending(entry: coffee("tap-1", "9.00"))
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        XCTAssertLessThan(abs(recorded.entry.bookedAtMs - now), 60_000, "booked at the device's time")
        XCTAssertTrue(recorded.alerts.contains { $0.thresholdPercent == 80 })
        try wallet.clearAlertListener()
    }
}
