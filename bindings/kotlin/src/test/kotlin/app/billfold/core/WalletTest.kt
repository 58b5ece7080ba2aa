// The Kotlin bindings against the real native library: a Kotlin KeyStore,
// cards, errors with codes and without card data, a throwing KeyStore,
// close and reopen. These are the calls the Android app makes.
package app.billfold.core

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class WalletTest {
    @TempDir
    lateinit var tmp: Path

    private val dir get() = tmp.resolve("wallet").toString()

    // Test card numbers (Luhn-valid), used as canaries: no error message may
    // contain any four consecutive digits of them.
    private val visa = "4000056655665556"
    private val mastercard = "5555555555554444"
    private val expiry = "12/30"

    @Test
    fun `create, add, list, freeze, set default and remove cards`() {
        Wallet.create(dir, AesGcmKeyStore()).use { wallet ->
            assertFalse(wallet.isLocked())
            assertEquals(emptyList(), wallet.listCards())
            assertNull(wallet.defaultCard())

            val first = wallet.addCard(visa, expiry, "Ada Lovelace", "Everyday")
            assertEquals(Network.VISA, first.network)
            assertEquals("400005******5556", first.maskedPan)
            assertEquals("5556", first.last4)
            assertEquals("12/30", first.expiry)
            assertEquals("Everyday", first.nickname)
            assertTrue(first.isDefault, "the first card becomes the default")
            assertFalse(first.frozen)

            val second = wallet.addCard("5555 5555 5555 4444", expiry, "Ada Lovelace", null)
            assertEquals(Network.MASTERCARD, second.network)
            assertFalse(second.isDefault)
            assertEquals(listOf(first.id, second.id), wallet.listCards().map { it.id })

            assertTrue(wallet.freezeCard(first.id).frozen)
            assertTrue(wallet.card(first.id).frozen)
            assertFalse(wallet.unfreezeCard(first.id).frozen)

            assertTrue(wallet.setDefaultCard(second.id).isDefault)
            assertEquals(second.id, wallet.defaultCard()?.id)
            assertFalse(wallet.card(first.id).isDefault)

            wallet.removeCard(second.id)
            assertEquals(first.id, wallet.defaultCard()?.id, "the remaining card takes over")
            assertEquals(listOf(first.id), wallet.listCards().map { it.id })

            val gone = assertFailsWith<WalletException.NotFound> { wallet.removeCard(second.id) }
            assertEquals("card_not_found", gone.code)
        }
    }

    @Test
    fun `errors are exceptions with codes and never carry card data`() {
        Wallet.create(dir, AesGcmKeyStore()).use { wallet ->
            val badLuhn = visa.dropLast(1) + "7"
            expectInvalid("invalid_pan", badLuhn) { wallet.addCard(badLuhn, expiry, "Ada Lovelace", null) }
            expectInvalid("invalid_pan", "4000x56655665556") {
                wallet.addCard("4000x56655665556", expiry, "Ada Lovelace", null)
            }
            expectInvalid("invalid_expiry", visa) { wallet.addCard(visa, "13/30", "Ada Lovelace", null) }
            expectInvalid("card_expired", visa) { wallet.addCard(visa, "01/20", "Ada Lovelace", null) }
            // A card number typed into the name or nickname field is refused, not echoed.
            expectInvalid("invalid_input", visa) { wallet.addCard(visa, expiry, visa, null) }
            expectInvalid("invalid_input", visa) { wallet.addCard(visa, expiry, "Ada Lovelace", visa) }
            expectInvalid("invalid_input", visa) { wallet.addCard(visa.repeat(10), expiry, "Ada", null) }
            expectInvalid("invalid_input", "") { wallet.card("not an id; DROP TABLE cards") }
            expectInvalid("invalid_input", "") { wallet.setAutoLock(0u) }
            assertEquals(emptyList(), wallet.listCards(), "nothing was stored by a refused call")

            wallet.addCard(visa, expiry, "Ada Lovelace", null)
            val dup = assertFailsWith<WalletException.AlreadyExists> {
                wallet.addCard("4000 0566 5566 5556", expiry, "Someone Else", null)
            }
            assertEquals("duplicate_card", dup.code)
            assertNoCardData(dup, visa)
            assertEquals(1, wallet.listCards().size)
        }
    }

    @Test
    fun `a locked wallet answers Locked until unlocked`() {
        val keys = AesGcmKeyStore()
        Wallet.create(dir, keys).use { wallet ->
            wallet.addCard(visa, expiry, "Ada Lovelace", null)
            wallet.lock()
            assertTrue(wallet.isLocked())
            val e = assertFailsWith<WalletException.Locked> { wallet.listCards() }
            assertEquals("locked", e.code)
            assertContains(e.message!!, "code=locked")
            assertFailsWith<WalletException.Locked> { wallet.addCard(mastercard, expiry, "Ada Lovelace", null) }

            val before = keys.unwrapCalls
            wallet.unlock()
            assertEquals(before + 1, keys.unwrapCalls, "unlocking asks the key store")
            assertEquals(1, wallet.listCards().size)

            // Auto-lock: the keys go after the timeout without use.
            wallet.setAutoLock(50u)
            Thread.sleep(300)
            assertFailsWith<WalletException.Locked> { wallet.listCards() }
            wallet.setAutoLock(null)
            wallet.unlock()
            Thread.sleep(100)
            assertEquals(1, wallet.listCards().size)
        }
    }

    @Test
    fun `a key store that throws gives a clean error, and nothing is lost`() {
        val canary = "device-secret-canary"
        val throwing = object : KeyStore {
            override fun wrapKey(dataKey: ByteArray): ByteArray = throw IllegalStateException("$canary $visa")
            override fun unwrapKey(wrapped: ByteArray): ByteArray = throw IllegalStateException("$canary $visa")
        }
        val failed = assertFailsWith<WalletException.KeyStore> { Wallet.create(dir, throwing) }
        assertEquals("key_store", failed.code)
        assertFalse(failed.toString().contains(canary))
        assertNoCardData(failed, visa)

        // The interrupted create left nothing in the way.
        val keys = AesGcmKeyStore()
        Wallet.create(dir, keys).use { it.addCard(visa, expiry, "Ada Lovelace", null) }

        // An unwrap that throws: a clean error, and the wallet still opens after.
        val e = assertFailsWith<WalletException.KeyStore> { Wallet.open(dir, throwing) }
        assertFalse(e.stackTraceToString().contains(canary))

        // The platform's own refusal keeps its reason, which the app wrote for the user.
        val unavailable = object : KeyStore {
            override fun wrapKey(dataKey: ByteArray): ByteArray = throw KeyStoreException.Unavailable("authenticate first")
            override fun unwrapKey(wrapped: ByteArray): ByteArray = throw KeyStoreException.Unavailable("authenticate first")
        }
        val auth = assertFailsWith<WalletException.KeyStore> { Wallet.open(dir, unavailable) }
        assertContains(auth.reason, "authenticate first")

        // A key store returning nothing cannot create an unopenable wallet.
        val empty = object : KeyStore {
            override fun wrapKey(dataKey: ByteArray) = ByteArray(0)
            override fun unwrapKey(wrapped: ByteArray) = ByteArray(0)
        }
        assertFailsWith<WalletException.KeyStore> { Wallet.create(tmp.resolve("other").toString(), empty) }
        val short = assertFailsWith<WalletException.KeyStore> { Wallet.open(dir, empty) }
        assertEquals("wrong_key_store", short.code)

        Wallet.open(dir, keys).use { assertEquals(1, it.listCards().size) }
    }

    @Test
    fun `another device's key store cannot open the wallet`() {
        val keys = AesGcmKeyStore()
        Wallet.create(dir, keys).use { it.addCard(visa, expiry, "Ada Lovelace", null) }
        val e = assertFailsWith<WalletException.KeyStore> { Wallet.open(dir, AesGcmKeyStore()) }
        assertEquals("wrong_key_store", e.code)
        Wallet.open(dir, keys).use { assertEquals(1, it.listCards().size) }
    }

    @Test
    fun `close and reopen`() {
        val keys = AesGcmKeyStore()
        val wallet = Wallet.create(dir, keys)
        val card = wallet.addCard(visa, expiry, "Ada Lovelace", "Travel")
        wallet.close()
        // The Kotlin object is gone: using it is a clear error, not a crash.
        assertFailsWith<IllegalStateException> { wallet.listCards() }
        wallet.close() // closing twice is harmless

        assertEquals(
            "wallet_exists",
            assertFailsWith<WalletException.AlreadyExists> { Wallet.create(dir, keys) }.code,
        )
        Wallet.open(dir, keys).use { reopened ->
            assertEquals(listOf(card), reopened.listCards())
        }
        assertEquals(
            "wallet_not_found",
            assertFailsWith<WalletException.NotFound> {
                Wallet.open(tmp.resolve("nowhere").toString(), keys)
            }.code,
        )
        expectInvalid("invalid_input", "") { Wallet.open("", keys) }
    }

    @Test
    fun `many threads can use one wallet`() {
        Wallet.create(dir, AesGcmKeyStore()).use { wallet ->
            val pans = (10..29).map { luhn("4000000000000" + it.toString().padStart(2, '0')) }
            val added = runBlocking {
                pans.map { pan ->
                    async(Dispatchers.IO) {
                        wallet.listCards()
                        wallet.addCard(pan, expiry, "Ada Lovelace", null)
                    }
                }.awaitAll()
            }
            assertEquals(pans.size, added.map { it.id }.toSet().size)
            assertEquals(pans.size, wallet.listCards().size)
            assertEquals(1, wallet.listCards().count { it.isDefault })
        }
    }

    @Test
    fun `a call into Rust made inside a callback keeps its own result`() {
        // The generated code reuses call statuses per thread
        // (scripts/kotlin_call_status.py). Here the clock calls Rust again
        // while the wallet's own call is under way, once failing and once
        // succeeding: neither result may leak into the outer call.
        val clock = object : Clock {
            val innerCalls = java.util.concurrent.atomic.AtomicInteger()
            override fun nowMillis(): Long {
                assertTrue(generateQrCode("billfold").size > 0u)
                // Failing last: a status shared with the outer call would
                // still say "failed" when the outer call returns.
                val refused = assertFailsWith<WalletException> { parsePaymentRequest("not a payload") }
                assertTrue(refused.code.isNotBlank())
                innerCalls.incrementAndGet()
                return NOV_23_2026_NOON_UTC
            }
        }
        Wallet.create(dir, AesGcmKeyStore(), clock).use { wallet ->
            repeat(3) { i ->
                val card = wallet.addCard(luhn("40000000000%04d".format(i)), expiry, "Ada Lovelace", null)
                assertEquals(card.id, wallet.card(card.id).id)
                expectInvalid("card_expired", visa) { wallet.addCard(visa, "01/20", "Ada Lovelace", null) }
            }
            assertTrue(clock.innerCalls.get() >= 6, "the clock was read inside the calls")
            assertEquals(3, wallet.listCards().size)
        }
    }

    @Test
    fun `money is exact decimal text with a currency code`() {
        val m = parseMoney("12.3", "usd")
        assertEquals(Money("12.30", "USD"), m)
        assertEquals(1230L, m.minorUnits())
        assertEquals(2u, m.decimals())
        assertEquals(Money("1.235", "KWD"), moneyFromMinorUnits(1235, "KWD"))
        assertEquals(Money("1234", "JPY"), moneyFromMinorUnits(1234, "JPY"))
        assertEquals("invalid_amount", assertFailsWith<WalletException.InvalidInput> { parseMoney("1.5", "JPY") }.code)
        assertEquals("invalid_amount", assertFailsWith<WalletException.InvalidInput> { parseMoney("1e3", "USD") }.code)
        assertEquals("invalid_currency", assertFailsWith<WalletException.InvalidInput> { parseMoney("1", "XXX") }.code)
        assertEquals("invalid_amount", assertFailsWith<WalletException.InvalidInput> { Money("0.001", "USD").minorUnits() }.code)
    }

    private fun expectInvalid(code: String, secret: String, block: () -> Unit) {
        val e = assertFailsWith<WalletException.InvalidInput>(code) { block() }
        assertEquals(code, e.code)
        assertTrue(e.reason.isNotBlank())
        assertNotNull(e.message)
        if (secret.isNotEmpty()) assertNoCardData(e, secret)
    }

    /** No four consecutive digits of the card number in any text the error shows. */
    private fun assertNoCardData(e: Throwable, pan: String) {
        val digits = pan.filter(Char::isDigit)
        val texts = listOf(e.message.orEmpty(), e.toString(), e.stackTraceToString())
        for (text in texts) {
            for (i in 0..digits.length - 4) {
                val window = digits.substring(i, i + 4)
                assertFalse(text.contains(window), "error text leaks card digits: $window")
            }
        }
    }

    /** Appends the Luhn check digit. */
    private fun luhn(body: String): String {
        val sum = body.reversed().mapIndexed { i, c ->
            val d = c.digitToInt()
            if (i % 2 == 0) (d * 2).let { if (it > 9) it - 9 else it } else d
        }.sum()
        return body + ((10 - sum % 10) % 10)
    }
}
