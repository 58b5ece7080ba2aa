// Tap to pay through the Swift bindings, APDU by APDU as an HCE entry
// point would drive it, with a test token from a known issuer key; mirrors
// TapTest.kt.
import BillfoldCore
import Foundation
import XCTest

final class TapTests: XCTestCase {
    private var tmp: URL!

    private let imk = hexData("0123456789ABCDEFFEDCBA9876543210")
    private let aid = "A0000000031010"
    // A €42.50 purchase at a Paris cafe on 2026-11-23, as the PDOL and CDOL1 ask for it.
    private let amount = "000000004250", other = "000000000000", country = "0250", currency = "0978"
    private let date = "261123", type = "00", unpredictable = "12345678"

    private var selectPpse: String { "00A404000E" + Data("2PAY.SYS.DDF01".utf8).hex + "00" }
    private var selectAid: String { "00A4040007\(aid)00" }
    private var gpo: String {
        let pdol = "36004000\(amount)\(other)\(country)\(currency)\(date)\(type)\(unpredictable)"
        let template = String(format: "83%02X", pdol.count / 2) + pdol
        return String(format: "80A80000%02X", template.count / 2) + template + "00"
    }
    private var generateAc: String {
        var merchant = Data("CAFE DE FLORE PARIS".utf8).hex
        merchant += String(repeating: "0", count: 80 - merchant.count)
        let cdol1 = "\(amount)\(other)\(country)0000000000\(currency)\(date)\(type)\(unpredictable)5812\(merchant)"
        return String(format: "80AE8000%02X", cdol1.count / 2) + cdol1 + "00"
    }

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func send(_ wallet: Wallet, _ apdu: String) -> String {
        wallet.processApdu(apdu: hexData(apdu)).hex
    }

    func testATestTokenPaysAWholeTapAndTheTapLandsInTheLedgerAndBudgets() throws {
        let listener = RecordingListener()
        let wallet = try Wallet.create(
            dataDir: tmp.appendingPathComponent("w").path, keyStore: AesGcmKeyStore(), clock: ManualClock()
        )
        defer { try? wallet.close() }
        let card = try wallet.addCard(pan: "4111111111111111", expiry: "12/29", cardholderName: "Ada Lovelace", nickname: nil)
        let token = try wallet.provisionTestToken(cardId: card.id, issuerMasterKey: imk, keyCount: 5)
        XCTAssertEqual(token.keys.remaining, 5)
        XCTAssertEqual(token.expiry, "291130")
        XCTAssertEqual(try wallet.tokens(), [token])
        try wallet.setAlertListener(listener: listener)
        _ = try wallet.createBudget(budget: NewBudget(
            name: "Cafés", limit: eur("50.00"), period: .monthly(startDay: 1), timeZone: "Europe/Paris", category: "food"
        ))

        let ppse = send(wallet, selectPpse)
        XCTAssertTrue(ppse.hasSuffix("9000"), ppse)
        XCTAssertTrue(ppse.contains("4F07\(aid)"))
        for apdu in [selectAid, gpo, "00B2010C00"] {
            XCTAssertTrue(send(wallet, apdu).hasSuffix("9000"), apdu)
        }
        XCTAssertTrue(send(wallet, generateAc).hasSuffix("9000"))

        let report = try XCTUnwrap(wallet.onDeactivated(reason: .linkLoss))
        XCTAssertTrue(report.sentOnline)
        XCTAssertEqual(report.amount, eur("42.50"))
        XCTAssertEqual(report.merchant, "CAFE DE FLORE PARIS")
        XCTAssertEqual(report.mcc, 5812)
        XCTAssertEqual(report.atc, 1)
        XCTAssertEqual(try wallet.token(tokenId: token.tokenId).keys.remaining, 4)

        let entry = try XCTUnwrap(try wallet.history().entries.first)
        XCTAssertEqual(entry.amount, eur("-42.50"))
        XCTAssertEqual(listener.transactions, [entry])
        XCTAssertEqual(listener.alerts.map(\.kind), [.threshold, .forecast])
        XCTAssertEqual(listener.alerts.first?.thresholdPercent, 80)
    }

    func testBadApdusGetStatusWordsAndALockedWalletDeclines() throws {
        let wallet = try Wallet.create(
            dataDir: tmp.appendingPathComponent("w").path, keyStore: AesGcmKeyStore(), clock: ManualClock()
        )
        defer { try? wallet.close() }
        let card = try wallet.addCard(pan: "4111111111111111", expiry: "12/29", cardholderName: "Ada Lovelace", nickname: nil)
        _ = try wallet.provisionTestToken(cardId: card.id, issuerMasterKey: imk, keyCount: 2)
        XCTAssertEqual(send(wallet, "00"), "6700")
        XCTAssertEqual(wallet.processApdu(apdu: Data(count: 70_000)).hex, "6700")
        XCTAssertEqual(send(wallet, "00CA000000"), "6D00")
        XCTAssertNil(wallet.onDeactivated(reason: .linkLoss))

        wallet.lock()
        XCTAssertFalse(send(wallet, selectPpse).hasSuffix("9000"))
        let report = try XCTUnwrap(wallet.onDeactivated(reason: .linkLoss))
        XCTAssertFalse(report.sentOnline)
        XCTAssertEqual(report.decline, .locked)
        try wallet.unlock()
        XCTAssertEqual(try wallet.tokens().first?.keys.remaining, 2)
    }
}
