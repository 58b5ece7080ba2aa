// The Swift bindings against the real library, mirroring the Kotlin tests
// in bindings/kotlin: a Swift KeyStore, cards, errors with codes and
// without card data, a throwing KeyStore, close and reopen.
// Runs with `swift test` on macOS once the xcframework is built.
import BillfoldCore
import Foundation
import XCTest

final class WalletTests: XCTestCase {
    private var tmp: URL!
    private var dir: String { tmp.appendingPathComponent("wallet").path }

    // Test card numbers, used as canaries: no error text may contain any
    // four consecutive digits of them.
    private let visa = "4000056655665556"
    private let mastercard = "5555555555554444"
    private let expiry = "12/30"

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    func testCreateAddListFreezeSetDefaultAndRemoveCards() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore())
        defer { try? wallet.close() }
        XCTAssertFalse(wallet.isLocked())
        XCTAssertEqual(try wallet.listCards(), [])
        XCTAssertNil(try wallet.defaultCard())

        let first = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: "Everyday")
        XCTAssertEqual(first.network, .visa)
        XCTAssertEqual(first.maskedPan, "400005******5556")
        XCTAssertEqual(first.last4, "5556")
        XCTAssertEqual(first.expiry, "12/30")
        XCTAssertEqual(first.nickname, "Everyday")
        XCTAssertTrue(first.isDefault, "the first card becomes the default")
        XCTAssertFalse(first.frozen)

        let second = try wallet.addCard(pan: "5555 5555 5555 4444", expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil)
        XCTAssertEqual(second.network, .mastercard)
        XCTAssertFalse(second.isDefault)
        XCTAssertEqual(try wallet.listCards().map(\.id), [first.id, second.id])

        XCTAssertTrue(try wallet.freezeCard(id: first.id).frozen)
        XCTAssertTrue(try wallet.card(id: first.id).frozen)
        XCTAssertFalse(try wallet.unfreezeCard(id: first.id).frozen)

        XCTAssertTrue(try wallet.setDefaultCard(id: second.id).isDefault)
        XCTAssertEqual(try wallet.defaultCard()?.id, second.id)

        try wallet.removeCard(id: second.id)
        XCTAssertEqual(try wallet.defaultCard()?.id, first.id, "the remaining card takes over")
        XCTAssertEqual(try wallet.listCards().map(\.id), [first.id])

        XCTAssertThrowsError(try wallet.removeCard(id: second.id)) { error in
            guard case WalletError.NotFound(let code, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(code, "card_not_found")
        }
    }

    func testErrorsCarryCodesAndNeverCardData() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore())
        defer { try? wallet.close() }
        let badLuhn = String(visa.dropLast()) + "7"
        expectInvalid("invalid_pan", secret: badLuhn) {
            _ = try wallet.addCard(pan: badLuhn, expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil)
        }
        expectInvalid("invalid_expiry", secret: visa) {
            _ = try wallet.addCard(pan: visa, expiry: "13/30", cardholderName: "Ada Lovelace", nickname: nil)
        }
        expectInvalid("card_expired", secret: visa) {
            _ = try wallet.addCard(pan: visa, expiry: "01/20", cardholderName: "Ada Lovelace", nickname: nil)
        }
        expectInvalid("invalid_input", secret: visa) {
            _ = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: visa, nickname: nil)
        }
        expectInvalid("invalid_input", secret: visa) {
            _ = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: visa)
        }
        expectInvalid("invalid_input", secret: "") { _ = try wallet.card(id: "not an id; DROP TABLE cards") }
        expectInvalid("invalid_input", secret: "") { try wallet.setAutoLock(timeoutMs: 0) }
        XCTAssertEqual(try wallet.listCards(), [], "nothing was stored by a refused call")

        _ = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil)
        XCTAssertThrowsError(
            try wallet.addCard(pan: "4000 0566 5566 5556", expiry: expiry, cardholderName: "Someone Else", nickname: nil)
        ) { error in
            XCTAssertEqual(code(of: error), "duplicate_card")
            assertNoCardData(error, pan: visa)
        }
    }

    func testALockedWalletAnswersLockedUntilUnlocked() throws {
        let keys = AesGcmKeyStore()
        let wallet = try Wallet.create(dataDir: dir, keyStore: keys)
        defer { try? wallet.close() }
        _ = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil)
        wallet.lock()
        XCTAssertTrue(wallet.isLocked())
        XCTAssertThrowsError(try wallet.listCards()) { XCTAssertEqual(code(of: $0), "locked") }

        let before = keys.unwrapCalls
        try wallet.unlock()
        XCTAssertEqual(keys.unwrapCalls, before + 1, "unlocking asks the key store")
        XCTAssertEqual(try wallet.listCards().count, 1)

        try wallet.setAutoLock(timeoutMs: 50)
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertThrowsError(try wallet.listCards()) { XCTAssertEqual(code(of: $0), "locked") }
        try wallet.setAutoLock(timeoutMs: nil)
        try wallet.unlock()
        XCTAssertEqual(try wallet.listCards().count, 1)
    }

    func testAKeyStoreThatThrowsGivesACleanErrorAndNothingIsLost() throws {
        let throwing = ThrowingKeyStore(message: "device-secret-canary \(visa)")
        XCTAssertThrowsError(try Wallet.create(dataDir: dir, keyStore: throwing)) { error in
            XCTAssertEqual(code(of: error), "key_store")
            XCTAssertFalse("\(error)".contains("device-secret-canary"))
            assertNoCardData(error, pan: visa)
        }

        // The interrupted create left nothing in the way.
        let keys = AesGcmKeyStore()
        let wallet = try Wallet.create(dataDir: dir, keyStore: keys)
        _ = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil)
        try wallet.close()

        XCTAssertThrowsError(try Wallet.open(dataDir: dir, keyStore: throwing)) { error in
            XCTAssertEqual(code(of: error), "key_store")
            XCTAssertFalse(String(reflecting: error).contains("device-secret-canary"))
        }
        XCTAssertThrowsError(try Wallet.open(dataDir: dir, keyStore: UnavailableKeyStore())) { error in
            guard case WalletError.KeyStore(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("authenticate first"))
        }

        let reopened = try Wallet.open(dataDir: dir, keyStore: keys)
        XCTAssertEqual(try reopened.listCards().count, 1)
        try reopened.close()
    }

    func testAnotherDevicesKeyStoreCannotOpenTheWallet() throws {
        let keys = AesGcmKeyStore()
        let wallet = try Wallet.create(dataDir: dir, keyStore: keys)
        _ = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil)
        try wallet.close()
        XCTAssertThrowsError(try Wallet.open(dataDir: dir, keyStore: AesGcmKeyStore())) {
            XCTAssertEqual(code(of: $0), "wrong_key_store")
        }
        let again = try Wallet.open(dataDir: dir, keyStore: keys)
        XCTAssertEqual(try again.listCards().count, 1)
        try again.close()
    }

    func testCloseAndReopen() throws {
        let keys = AesGcmKeyStore()
        let wallet = try Wallet.create(dataDir: dir, keyStore: keys)
        let card = try wallet.addCard(pan: visa, expiry: expiry, cardholderName: "Ada Lovelace", nickname: "Travel")
        try wallet.close()
        XCTAssertThrowsError(try wallet.listCards()) { XCTAssertEqual(code(of: $0), "closed") }
        XCTAssertTrue(wallet.isLocked(), "a closed wallet is locked")
        try wallet.close() // closing twice is harmless

        XCTAssertThrowsError(try Wallet.create(dataDir: dir, keyStore: keys)) {
            XCTAssertEqual(code(of: $0), "wallet_exists")
        }
        let reopened = try Wallet.open(dataDir: dir, keyStore: keys)
        XCTAssertEqual(try reopened.listCards(), [card])
        try reopened.close()

        XCTAssertThrowsError(try Wallet.open(dataDir: tmp.appendingPathComponent("nowhere").path, keyStore: keys)) {
            XCTAssertEqual(code(of: $0), "wallet_not_found")
        }
        expectInvalid("invalid_input", secret: "") { _ = try Wallet.open(dataDir: "", keyStore: keys) }
    }

    func testManyThreadsCanUseOneWallet() throws {
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore())
        defer { try? wallet.close() }
        let pans = (10...29).map { luhn("4000000000000\($0)") }
        let added = ThreadSafeList()
        DispatchQueue.concurrentPerform(iterations: pans.count) { i in
            _ = try? wallet.listCards()
            if let card = try? wallet.addCard(pan: pans[i], expiry: expiry, cardholderName: "Ada Lovelace", nickname: nil) {
                added.append(card.id)
            }
        }
        XCTAssertEqual(Set(added.items).count, pans.count)
        XCTAssertEqual(try wallet.listCards().filter(\.isDefault).count, 1)
    }

    func testMoneyIsExactDecimalTextWithACurrencyCode() throws {
        let m = try parseMoney(amount: "12.3", currency: "usd")
        XCTAssertEqual(m, Money(amount: "12.30", currency: "USD"))
        XCTAssertEqual(try m.minorUnits(), 1230)
        XCTAssertEqual(try m.decimals(), 2)
        XCTAssertEqual(try moneyFromMinorUnits(minorUnits: 1235, currency: "KWD"), Money(amount: "1.235", currency: "KWD"))
        expectInvalid("invalid_amount", secret: "") { _ = try parseMoney(amount: "1.5", currency: "JPY") }
        expectInvalid("invalid_currency", secret: "") { _ = try parseMoney(amount: "1", currency: "XXX") }
    }

    // MARK: helpers

    private func expectInvalid(
        _ expected: String, secret: String, file: StaticString = #filePath, line: UInt = #line,
        _ body: () throws -> Void
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case WalletError.InvalidInput(let code, let reason) = error else {
                return XCTFail("expected InvalidInput, got \(error)", file: file, line: line)
            }
            XCTAssertEqual(code, expected, file: file, line: line)
            XCTAssertFalse(reason.isEmpty, file: file, line: line)
            if !secret.isEmpty { self.assertNoCardData(error, pan: secret, file: file, line: line) }
        }
    }

    private func assertNoCardData(_ error: Error, pan: String, file: StaticString = #filePath, line: UInt = #line) {
        let digits = Array(pan.filter(\.isNumber))
        let texts = ["\(error)", String(reflecting: error), error.localizedDescription]
        for text in texts {
            for i in 0...(digits.count - 4) {
                let window = String(digits[i..<(i + 4)])
                XCTAssertFalse(text.contains(window), "error text leaks card digits", file: file, line: line)
            }
        }
    }

    private func luhn(_ body: String) -> String {
        let sum = body.reversed().enumerated().reduce(0) { acc, pair in
            let d = pair.element.wholeNumberValue ?? 0
            if pair.offset % 2 == 0 {
                let doubled = d * 2
                return acc + (doubled > 9 ? doubled - 9 : doubled)
            }
            return acc + d
        }
        return body + String((10 - sum % 10) % 10)
    }
}

/// The stable code of a wallet error, whatever its group (`WalletError.code`).
func code(of error: Error) -> String? {
    (error as? WalletError)?.code
}

private final class ThrowingKeyStore: KeyStore, @unchecked Sendable {
    struct Boom: Error { let message: String }
    let message: String
    init(message: String) { self.message = message }
    func wrapKey(dataKey: Data) throws -> Data { throw Boom(message: message) }
    func unwrapKey(wrapped: Data) throws -> Data { throw Boom(message: message) }
}

private final class UnavailableKeyStore: KeyStore, @unchecked Sendable {
    func wrapKey(dataKey: Data) throws -> Data { throw KeyStoreError.Unavailable(reason: "authenticate first") }
    func unwrapKey(wrapped: Data) throws -> Data { throw KeyStoreError.Unavailable(reason: "authenticate first") }
}

private final class ThreadSafeList: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ s: String) {
        lock.lock()
        storage.append(s)
        lock.unlock()
    }

    var items: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
