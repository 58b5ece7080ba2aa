// The wallet and its bank from Kotlin: the real native library against the
// real bank (billfold-server, SQLite, on loopback) started by the test.
// Enroll, register a card for its token and keys, pay a scanned merchant
// code, sync with progress, the consumer-presented code, and the typed
// errors an app branches on when the bank is down.
package app.billfold.core

import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.net.HttpURLConnection
import java.net.ServerSocket
import java.net.URI
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class SyncTest {
    @TempDir
    lateinit var tmp: Path

    private lateinit var bank: Process
    private lateinit var url: String

    @BeforeEach
    fun startBank() {
        val exe = System.getProperty("billfold.server")
            ?: error("set -Dbillfold.server to the billfold-server binary")
        val port = ServerSocket(0).use { it.localPort }
        url = "http://127.0.0.1:$port"
        bank = ProcessBuilder(exe, "--listen", "127.0.0.1:$port", "--data-dir", tmp.resolve("bank").toString())
            .redirectErrorStream(true)
            .redirectOutput(tmp.resolve("bank.log").toFile())
            .start()
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20)
        while (!healthy()) {
            check(bank.isAlive) { "billfold-server exited: " + tmp.resolve("bank.log").toFile().readText() }
            check(System.nanoTime() < deadline) { "billfold-server did not start" }
            Thread.sleep(50)
        }
    }

    @AfterEach
    fun stopBank() {
        bank.destroyForcibly().waitFor(10, TimeUnit.SECONDS)
    }

    private fun healthy(): Boolean = try {
        val c = URI("$url/v1/health").toURL().openConnection() as HttpURLConnection
        c.connectTimeout = 200
        c.readTimeout = 1000
        c.responseCode == 200
    } catch (e: Exception) {
        false
    }

    private fun quick() = defaultNetworkConfig().copy(
        connectTimeoutMs = 1_000uL,
        requestTimeoutMs = 5_000uL,
        maxAttempts = 2u,
        baseDelayMs = 10uL,
        maxDelayMs = 50uL,
    )

    private fun cafe(amount: String) = parsePaymentRequest(
        receiveRequestPayload(
            ReceiveRequest(
                name = "Cafe de Flore",
                city = "Paris",
                country = "FR",
                currency = "EUR",
                amount = eur(amount),
                mcc = "5812",
                account = "FR7630006000011234567890189",
                reference = null,
            ),
        ),
    )

    @Test
    fun `enroll, get a token, pay a merchant code and sync with progress`() {
        Wallet.create(tmp.resolve("phone").toString(), AesGcmKeyStore()).use { wallet ->
            wallet.setNetworkConfig(quick())
            assertNull(wallet.enrollment())
            val card = wallet.addCard("4111111111111111", "12/30", "Ada Lovelace", null)
            val enrollment = wallet.enroll(url, "Kotlin test phone", null)
            assertEquals("EUR", enrollment.currency)

            val token = wallet.registerCard(card.id)
            assertTrue(token.keys.remaining > 0u, "the bank issued single-use keys")

            val seen = CopyOnWriteArrayList<SyncProgress>()
            wallet.sync(object : SyncListener {
                override fun onProgress(progress: SyncProgress) {
                    seen.add(progress)
                }
            })
            assertTrue(seen.isNotEmpty(), "progress was reported")
            val opening = wallet.enrollment()?.postedBalance
            assertEquals(eur("2500.00"), opening)

            val paid = wallet.payQr(cafe("12.50"), null, null)
            assertEquals(eur("12.50"), paid.total)
            assertEquals(EntryStatus.POSTED, paid.entry.status)
            val report = wallet.sync(null)
            assertEquals(0u, report.rejected)
            assertEquals(eur("2487.50"), wallet.enrollment()?.postedBalance)
            assertEquals(0uL, wallet.pendingOperations())

            // Offline, the merchant code cannot be confirmed: a typed error
            // and nothing left behind; the consumer-presented code works.
            bank.destroyForcibly().waitFor(10, TimeUnit.SECONDS)
            val offline = assertFailsWith<WalletException.Unavailable> {
                wallet.payQr(cafe("3.00"), null, null)
            }
            assertEquals("offline", offline.code)
            assertEquals(0uL, wallet.pendingOperations())
            val code = wallet.consumerPaymentCode(eur("3.20"))
            assertTrue(code.qr.size > 20u)
            assertEquals(token.maskedPan, code.maskedPan)
            assertTrue(code.payload.isNotEmpty())
        }
    }

    @Test
    fun `bad addresses and a second enrollment are refused with codes`() {
        Wallet.create(tmp.resolve("phone").toString(), AesGcmKeyStore()).use { wallet ->
            val insecure = assertFailsWith<WalletException.InvalidInput> {
                wallet.enroll("http://bank.example", "phone", null)
            }
            assertEquals("insecure_url", insecure.code)
            val notYet = assertFailsWith<WalletException.NotFound> { wallet.sync(null) }
            assertEquals("not_enrolled", notYet.code)

            assertNotNull(wallet.enroll(url, "phone", null))
            val again = assertFailsWith<WalletException.AlreadyExists> {
                wallet.enroll(url, "phone", null)
            }
            assertEquals("already_enrolled", again.code)
        }
    }
}
