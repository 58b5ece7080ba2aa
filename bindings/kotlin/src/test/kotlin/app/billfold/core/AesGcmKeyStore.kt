// A KeyStore written in Kotlin, the way the Android app's is: AES-256-GCM
// under a device key the wallet never sees. Here the device key lives in
// memory instead of the Android Keystore's TEE, which is the only
// difference; the wrap/unwrap contract and the failure modes are the same.
package app.billfold.core

import java.nio.ByteBuffer
import java.security.SecureRandom
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec

class AesGcmKeyStore(
    private val deviceKey: SecretKey = newDeviceKey(),
) : KeyStore {
    /** How many times the wallet asked to unwrap: opening and unlocking do. */
    @Volatile var unwrapCalls = 0
        private set

    override fun wrapKey(dataKey: ByteArray): ByteArray {
        try {
            val iv = ByteArray(IV_LEN).also { random.nextBytes(it) }
            val cipher = Cipher.getInstance(TRANSFORM)
            cipher.init(Cipher.ENCRYPT_MODE, deviceKey, GCMParameterSpec(TAG_BITS, iv))
            cipher.updateAAD(MAGIC)
            val sealed = cipher.doFinal(dataKey)
            return ByteBuffer.allocate(MAGIC.size + IV_LEN + sealed.size)
                .put(MAGIC).put(iv).put(sealed).array()
        } finally {
            // Our copy of the data key is not needed once wrapped.
            dataKey.fill(0)
        }
    }

    override fun unwrapKey(wrapped: ByteArray): ByteArray {
        unwrapCalls++
        if (wrapped.size < MAGIC.size + IV_LEN + TAG_BITS / 8 ||
            !wrapped.copyOfRange(0, MAGIC.size).contentEquals(MAGIC)
        ) {
            throw KeyStoreException.ForeignKey()
        }
        val iv = wrapped.copyOfRange(MAGIC.size, MAGIC.size + IV_LEN)
        val cipher = Cipher.getInstance(TRANSFORM)
        cipher.init(Cipher.DECRYPT_MODE, deviceKey, GCMParameterSpec(TAG_BITS, iv))
        cipher.updateAAD(MAGIC)
        return try {
            cipher.doFinal(wrapped, MAGIC.size + IV_LEN, wrapped.size - MAGIC.size - IV_LEN)
        } catch (e: AEADBadTagException) {
            // Another device's key (or a tampered blob): the platform's answer too.
            throw KeyStoreException.ForeignKey()
        }
    }

    companion object {
        private const val TRANSFORM = "AES/GCM/NoPadding"
        private const val IV_LEN = 12
        private const val TAG_BITS = 128
        private val MAGIC = "BFKT".toByteArray()
        private val random = SecureRandom()

        fun newDeviceKey(): SecretKey =
            KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
    }
}
