// The wallet and its bank from Swift: the real bank (billfold-server on
// SQLite, loopback) started by the test from $BILLFOLD_SERVER. Enroll,
// register a card, pay a scanned merchant code, sync with progress, the
// consumer-presented code, and the typed errors; mirrors SyncTest.kt.
import BillfoldCore
import Foundation
import XCTest

final class RecordingProgress: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [SyncProgress] = []

    func onProgress(progress: SyncProgress) throws {
        lock.lock()
        defer { lock.unlock() }
        seen.append(progress)
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return seen.count
    }
}

final class SyncTests: XCTestCase {
    private var tmp: URL!
    private var bank: Process!
    private var url = ""

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        guard let exe = ProcessInfo.processInfo.environment["BILLFOLD_SERVER"] else {
            throw XCTSkip("set BILLFOLD_SERVER to the billfold-server binary")
        }
        let port = 20000 + Int.random(in: 0..<20000)
        url = "http://127.0.0.1:\(port)"
        bank = Process()
        bank.executableURL = URL(fileURLWithPath: exe)
        bank.arguments = ["--listen", "127.0.0.1:\(port)", "--data-dir", tmp.appendingPathComponent("bank").path]
        try bank.run()
        let deadline = Date().addingTimeInterval(20)
        while !healthy() {
            XCTAssertTrue(bank.isRunning, "billfold-server exited")
            if Date() > deadline { throw XCTSkip("billfold-server did not start") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    override func tearDownWithError() throws {
        if bank.isRunning { bank.terminate() }
        try? FileManager.default.removeItem(at: tmp)
    }

    private func healthy() -> Bool {
        guard let u = URL(string: "\(url)/v1/health") else { return false }
        let done = DispatchSemaphore(value: 0)
        var ok = false
        URLSession.shared.dataTask(with: u) { _, response, _ in
            ok = (response as? HTTPURLResponse)?.statusCode == 200
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 1)
        return ok
    }

    private func quick() -> NetworkConfig {
        let d = defaultNetworkConfig()
        return NetworkConfig(
            connectTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxAttempts: 2, baseDelayMs: 10,
            maxDelayMs: 50, pinnedCertificatesPem: d.pinnedCertificatesPem, allowLoopbackHttp: true
        )
    }

    private func cafe(_ amount: String) throws -> PaymentRequest {
        try parsePaymentRequest(payload: receiveRequestPayload(request: ReceiveRequest(
            name: "Cafe de Flore", city: "Paris", country: "FR", currency: "EUR", amount: eur(amount),
            mcc: "5812", account: "FR7630006000011234567890189", reference: nil
        )))
    }

    func testEnrollGetATokenPayAMerchantCodeAndSyncWithProgress() throws {
        let wallet = try Wallet.create(dataDir: tmp.appendingPathComponent("phone").path, keyStore: AesGcmKeyStore(), clock: nil)
        defer { try? wallet.close() }
        try wallet.setNetworkConfig(config: quick())
        XCTAssertNil(try wallet.enrollment())
        let card = try wallet.addCard(pan: "4111111111111111", expiry: "12/30", cardholderName: "Ada Lovelace", nickname: nil)
        let enrollment = try wallet.enroll(serverUrl: url, deviceName: "Swift test phone", linkCode: nil)
        XCTAssertEqual(enrollment.currency, "EUR")
        let token = try wallet.registerCard(cardId: card.id)
        XCTAssertGreaterThan(token.keys.remaining, 0)

        let progress = RecordingProgress()
        _ = try wallet.sync(listener: progress)
        XCTAssertGreaterThan(progress.count, 0)
        XCTAssertEqual(try wallet.enrollment()?.postedBalance, eur("2500.00"))

        let paid = try wallet.payQr(request: cafe("12.50"), amount: nil, tip: nil)
        XCTAssertEqual(paid.total, eur("12.50"))
        XCTAssertEqual(paid.entry.status, .posted)
        let report = try wallet.sync(listener: nil)
        XCTAssertEqual(report.rejected, 0)
        XCTAssertEqual(try wallet.enrollment()?.postedBalance, eur("2487.50"))

        bank.terminate()
        bank.waitUntilExit()
        XCTAssertThrowsError(try wallet.payQr(request: cafe("3.00"), amount: nil, tip: nil)) { error in
            XCTAssertEqual((error as? WalletError)?.code, "offline")
        }
        XCTAssertEqual(try wallet.pendingOperations(), 0)
        let code = try wallet.consumerPaymentCode(amount: eur("3.20"))
        XCTAssertEqual(code.maskedPan, token.maskedPan)
        XCTAssertGreaterThan(code.qr.size, 20)
    }

    func testBadAddressesAndASecondEnrollmentAreRefusedWithCodes() throws {
        let wallet = try Wallet.create(dataDir: tmp.appendingPathComponent("phone").path, keyStore: AesGcmKeyStore(), clock: nil)
        defer { try? wallet.close() }
        XCTAssertThrowsError(try wallet.enroll(serverUrl: "http://bank.example", deviceName: "phone", linkCode: nil)) { error in
            XCTAssertEqual((error as? WalletError)?.code, "insecure_url")
        }
        XCTAssertThrowsError(try wallet.sync(listener: nil)) { error in
            XCTAssertEqual((error as? WalletError)?.code, "not_enrolled")
        }
        _ = try wallet.enroll(serverUrl: url, deviceName: "phone", linkCode: nil)
        XCTAssertThrowsError(try wallet.enroll(serverUrl: url, deviceName: "phone", linkCode: nil)) { error in
            XCTAssertEqual((error as? WalletError)?.code, "already_enrolled")
        }
    }
}
