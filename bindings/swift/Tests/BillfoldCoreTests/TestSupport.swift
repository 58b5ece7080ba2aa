// Platform callbacks written in Swift, the way the iOS app writes them: a
// clock the test moves by hand, and an AlertListener that records what the
// wallet tells it (the app would post a local notification instead).
// `BillfoldCore.Clock` is spelled out: the standard library has a `Clock`
// protocol of its own.
import BillfoldCore
import Foundation

/// 2026-11-23T12:00:00Z: a Monday, 13:00 in Paris.
let nov23_2026NoonUtc: Int64 = 1_795_435_200_000
let dayMs: Int64 = 86_400_000

final class ManualClock: BillfoldCore.Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Int64
    private var readCount = 0

    init(_ start: Int64 = nov23_2026NoonUtc) { now = start }

    func nowMillis() throws -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        readCount += 1
        return now
    }

    var reads: Int {
        lock.lock()
        defer { lock.unlock() }
        return readCount
    }

    func set(_ ms: Int64) {
        lock.lock()
        now = ms
        lock.unlock()
    }

    func advance(_ ms: Int64) {
        lock.lock()
        now += ms
        lock.unlock()
    }
}

final class RecordingListener: AlertListener, @unchecked Sendable {
    private let lock = NSLock()
    private var heardAlerts: [BillfoldCore.Alert] = []
    private var heardTransactions: [LedgerEntry] = []

    func onAlert(alert: BillfoldCore.Alert) throws {
        lock.lock()
        heardAlerts.append(alert)
        lock.unlock()
    }

    func onTransaction(entry: LedgerEntry) throws {
        lock.lock()
        heardTransactions.append(entry)
        lock.unlock()
    }

    var alerts: [BillfoldCore.Alert] {
        lock.lock()
        defer { lock.unlock() }
        return heardAlerts
    }

    var transactions: [LedgerEntry] {
        lock.lock()
        defer { lock.unlock() }
        return heardTransactions
    }
}

func eur(_ amount: String) -> Money { Money(amount: amount, currency: "EUR") }

func hexData(_ s: String) -> Data {
    let chars = Array(s.replacingOccurrences(of: " ", with: ""))
    var out = Data()
    var i = 0
    while i + 1 < chars.count {
        out.append(UInt8(String(chars[i...i + 1]), radix: 16)!)
        i += 2
    }
    return out
}

extension Data {
    var hex: String { map { String(format: "%02X", $0) }.joined() }
}
