// A KeyStore written in Swift, the way the iOS app's is: AES-256-GCM under
// a device key the wallet never sees. Here the key lives in memory rather
// than in the Keychain / Secure Enclave; the contract and failure modes are
// the same as the app's.
import BillfoldCore
import CryptoKit
import Foundation

final class AesGcmKeyStore: KeyStore, @unchecked Sendable {
    private static let magic = Data("BFSW".utf8)
    private let deviceKey: SymmetricKey
    private let lock = NSLock()
    private var unwraps = 0

    init(deviceKey: SymmetricKey = SymmetricKey(size: .bits256)) {
        self.deviceKey = deviceKey
    }

    /// How many times the wallet asked to unwrap: opening and unlocking do.
    var unwrapCalls: Int {
        lock.lock()
        defer { lock.unlock() }
        return unwraps
    }

    func wrapKey(dataKey: Data) throws -> Data {
        do {
            let box = try AES.GCM.seal(dataKey, using: deviceKey, authenticating: Self.magic)
            guard let combined = box.combined else {
                throw KeyStoreError.Unavailable(reason: "sealing failed")
            }
            return Self.magic + combined
        } catch let error as KeyStoreError {
            throw error
        } catch {
            throw KeyStoreError.Unavailable(reason: "sealing failed")
        }
    }

    func unwrapKey(wrapped: Data) throws -> Data {
        lock.lock()
        unwraps += 1
        lock.unlock()
        guard wrapped.count > Self.magic.count + 12 + 16,
              wrapped.prefix(Self.magic.count) == Self.magic
        else {
            throw KeyStoreError.ForeignKey
        }
        do {
            let box = try AES.GCM.SealedBox(combined: wrapped.dropFirst(Self.magic.count))
            return try AES.GCM.open(box, using: deviceKey, authenticating: Self.magic)
        } catch {
            // Another device's key, or a tampered blob: the platform's answer too.
            throw KeyStoreError.ForeignKey
        }
    }
}
