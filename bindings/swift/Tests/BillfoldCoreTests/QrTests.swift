// QR through the Swift bindings: a generated module matrix drawn into a
// camera-like luma buffer and scanned back with its corners, merchant
// payloads parsed into PaymentRequests, PNG and SVG output; mirrors
// QrTest.kt.
import BillfoldCore
import Foundation
import XCTest

final class QrTests: XCTestCase {
    /// The Pix manual's example static code (Banco Central do Brasil).
    private let pix = "00020126580014br.gov.bcb.pix0136123e4567-e12b-12d1-a456-4266554400005204000053039865802BR5913Fulano de Tal6008BRASILIA62070503***63041D3D"

    private let light: UInt8 = 0xD8
    private let dark: UInt8 = 0x28

    /// A frame as a camera delivers it: `stride` bytes per row, `width` of them pixels,
    /// dark padding so that a scanner ignoring the stride would fail.
    private func frame(width: Int, height: Int, stride: Int, code: QrCode, x0: Int, y0: Int, px: Int) -> Data {
        var luma = [UInt8](repeating: 0, count: stride * height)
        for y in 0..<height { for x in 0..<width { luma[y * stride + x] = light } }
        let n = Int(code.size)
        for my in 0..<n { for mx in 0..<n where code.modules[my * n + mx] {
            for dy in 0..<px { for dx in 0..<px { luma[(y0 + my * px + dy) * stride + x0 + mx * px + dx] = dark } }
        } }
        return Data(luma)
    }

    private func assertNear(_ x: Float, _ y: Float, _ p: Point, _ tolerance: Float, line: UInt = #line) {
        XCTAssertLessThanOrEqual(abs(p.x - x), tolerance, "x of \(p)", line: line)
        XCTAssertLessThanOrEqual(abs(p.y - y), tolerance, "y of \(p)", line: line)
    }

    func testAGeneratedCodeDrawnIntoACameraFrameScansBackWithItsCorners() throws {
        let payload = try receiveRequestPayload(request: ReceiveRequest(
            name: "Cafe de Flore", city: "Paris", country: "FR", currency: "EUR", amount: eur("12.50"),
            mcc: "5812", account: "FR7630006000011234567890189", reference: "table 12"
        ))
        let code = try generateQrCode(payload: payload)
        XCTAssertEqual(code.errorCorrection, .medium)
        XCTAssertEqual(code.modules.count, Int(code.size * code.size))

        let px = 4, x0 = 150, y0 = 90
        let luma = frame(width: 640, height: 480, stride: 704, code: code, x0: x0, y0: y0, px: px)
        let side = Float(Int(code.size) * px)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        let wallet = try Wallet.create(dataDir: dir, keyStore: AesGcmKeyStore(), clock: ManualClock())
        defer {
            try? wallet.close()
            try? FileManager.default.removeItem(atPath: dir)
        }
        let found = try wallet.scanFrame(luma: luma, width: 640, height: 480, rowStride: 704, rotation: 0)
        XCTAssertEqual(found.count, 1)
        let code0 = try XCTUnwrap(found.first)
        XCTAssertEqual(code0.text, payload)
        XCTAssertEqual(code0.corners.count, 4)
        let tol = Float(2 * px), left = Float(x0), top = Float(y0)
        assertNear(left, top, code0.corners[0], tol)
        assertNear(left + side, top, code0.corners[1], tol)
        assertNear(left + side, top + side, code0.corners[2], tol)
        assertNear(left, top + side, code0.corners[3], tol)

        let turned = try XCTUnwrap(try wallet.scanFrame(luma: luma, width: 640, height: 480, rowStride: 704, rotation: 90).first)
        for (p, u) in zip(turned.corners, turned.uprightCorners) {
            assertNear(480 - p.y, p.x, u, 0.01)
        }

        let request = try parsePaymentRequest(payload: code0.text)
        XCTAssertEqual(request.merchantName, "Cafe de Flore")
        XCTAssertEqual(request.amount, eur("12.50"))
        XCTAssertFalse(request.customerEntersAmount)
        XCTAssertEqual(request.pointOfInitiation, .dynamic)
        XCTAssertTrue(request.crcValid)

        XCTAssertThrowsError(try wallet.scanFrame(luma: Data(count: 100), width: 640, height: 480, rowStride: 640, rotation: 0)) {
            XCTAssertEqual(code(of: $0), "invalid_frame")
        }
        XCTAssertThrowsError(try wallet.scanFrame(luma: luma, width: 640, height: 480, rowStride: 704, rotation: 45)) {
            XCTAssertEqual(code(of: $0), "invalid_frame")
        }
    }

    func testAMerchantPayloadBecomesAPaymentRequest() throws {
        let r = try parsePaymentRequest(payload: pix)
        XCTAssertEqual(r.merchantName, "Fulano de Tal")
        XCTAssertEqual(r.country, "BR")
        XCTAssertEqual(r.currency, "BRL")
        XCTAssertNil(r.amount)
        XCTAssertTrue(r.customerEntersAmount)
        XCTAssertEqual(r.tip, TipRule.none)
        XCTAssertTrue(r.crcValid)
        XCTAssertEqual(r.schemes.first?.scheme, "pix")
        XCTAssertEqual(r.schemes.first?.payee, "123e4567-e12b-12d1-a456-426655440000")
        XCTAssertEqual(r.additionalData["reference_label"], "***")

        XCTAssertFalse(try parsePaymentRequest(payload: pix.replacingOccurrences(of: "1D3D", with: "1D3E")).crcValid)
        for bad in ["", "hello", "000201"] {
            XCTAssertThrowsError(try parsePaymentRequest(payload: bad)) { XCTAssertEqual(code(of: $0), "invalid_qr") }
        }
    }

    func testCodesAreGeneratedAsPngAndSvg() throws {
        let png = try qrCodePng(payload: pix, modulePx: 4)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        XCTAssertTrue(try qrCodeSvg(payload: pix, errorCorrection: .high).contains("<svg"))
        XCTAssertThrowsError(try generateQrCode(payload: "")) { XCTAssertEqual(code(of: $0), "qr_encode") }
        let mismatch = ReceiveRequest(name: "Ada", city: "London", country: "GB", currency: "GBP", amount: eur("1.00"))
        XCTAssertThrowsError(try receiveRequestPayload(request: mismatch)) {
            XCTAssertEqual(code(of: $0), "currency_mismatch")
        }
    }
}
