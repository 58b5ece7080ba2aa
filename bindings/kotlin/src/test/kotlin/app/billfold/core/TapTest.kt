// Tap to pay through the Kotlin bindings, as Android's HostApduService
// drives it: a test token provisioned from a known issuer key, then the
// terminal's APDUs one call each (SELECT PPSE, SELECT AID, GET PROCESSING
// OPTIONS, READ RECORD, GENERATE AC), then onDeactivated with its report,
// the pending ledger entry, the key used up, and the budget alert the tap
// fired, delivered to a Kotlin AlertListener.
package app.billfold.core

import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.nio.file.Path
import kotlin.test.assertContains
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue

class TapTest {
    @TempDir
    lateinit var tmp: Path

    private val imk = hex("0123456789ABCDEFFEDCBA9876543210")
    private val fundingPan = "4111111111111111"
    private val aid = "A0000000031010"

    // The terminal's side of a €42.50 purchase at a Paris cafe on
    // 2026-11-23: the values the card's PDOL and CDOL1 ask for, in their order.
    private val amount = "000000004250"
    private val otherAmount = "000000000000"
    private val country = "0250"
    private val currency = "0978"
    private val date = "261123"
    private val type = "00"
    private val unpredictable = "12345678"
    private val merchant = "CAFE DE FLORE PARIS".toByteArray().toHex().padEnd(80, '0')

    private val selectPpse = "00A404000E" + "2PAY.SYS.DDF01".toByteArray().toHex() + "00"
    private val selectAid = "00A4040007${aid}00"
    private val gpo: String
        get() {
            // TTQ, amount, other amount, country, currency, date, type, UN.
            val pdol = "36004000$amount$otherAmount$country$currency$date$type$unpredictable"
            val template = "83%02X".format(pdol.length / 2) + pdol
            return "80A80000%02X".format(template.length / 2) + template + "00"
        }
    private val readRecord = "00B2010C00"
    private val generateAc: String
        get() {
            // Amount, other, country, TVR, currency, date, type, UN, MCC, merchant.
            val cdol1 = "$amount$otherAmount${country}0000000000$currency$date$type${unpredictable}5812$merchant"
            return "80AE8000%02X".format(cdol1.length / 2) + cdol1 + "00"
        }

    private fun Wallet.send(apdu: String): String = processApdu(hex(apdu)).toHex()

    private fun walletWithToken(clock: ManualClock, keys: UShort): Pair<Wallet, PaymentToken> {
        val wallet = Wallet.create(tmp.resolve("w").toString(), AesGcmKeyStore(), clock)
        val card = wallet.addCard(fundingPan, "12/29", "Ada Lovelace", "Everyday")
        assertNull(wallet.cardToken(card.id), "no token until one is provisioned")
        val token = wallet.provisionTestToken(card.id, imk, keyCount = keys)
        return wallet to token
    }

    @Test
    fun `a test token pays a whole tap, and the tap lands in the ledger and budgets`() {
        val clock = ManualClock()
        val listener = RecordingListener()
        val (wallet, token) = walletWithToken(clock, 5u)
        wallet.use {
            assertEquals(5u, token.keys.remaining)
            assertEquals(1u, token.keys.nextAtc)
            assertFalse(token.keys.low, "five keys is not yet low")
            assertEquals(TokenProfile.TDES, token.profile)
            assertEquals(aid, token.aid)
            assertEquals("291130", token.expiry, "end of the month three years on, by the Kotlin clock")
            assertTrue(token.isDefaultCard)
            assertFalse(token.maskedPan.contains(fundingPan.takeLast(8)), "the token number is not the card number")
            assertEquals(listOf(token), wallet.tokens())
            assertEquals(token, wallet.token(token.tokenId))
            assertEquals(listOf(token.keys), wallet.tokenKeyStatus())

            wallet.setAlertListener(listener)
            wallet.createBudget(NewBudget("Cafés", eur("50.00"), Period.Monthly(1u), "Europe/Paris", category = "food"))

            // SELECT PPSE: the directory names the token's application.
            val ppse = wallet.send(selectPpse)
            assertTrue(ppse.endsWith("9000"), ppse)
            assertContains(ppse, "4F07$aid")
            assertContains(ppse, "BILLFOLD".toByteArray().toHex())

            val select = wallet.send(selectAid)
            assertTrue(select.endsWith("9000"), select)
            assertContains(select, "9F38", message = "the FCI carries the PDOL")
            assertTrue(wallet.send(gpo).endsWith("9000"))
            assertTrue(wallet.send(readRecord).endsWith("9000"))
            val ac = wallet.send(generateAc)
            assertTrue(ac.endsWith("9000"), ac)
            assertContains(ac, "9F360200 01".replace(" ", ""), message = "ATC 1")

            val during = assertNotNull(wallet.lastTap())
            assertTrue(during.sentOnline)

            // The field goes away: the report, then the ledger and the budget.
            val report = assertNotNull(wallet.onDeactivated(DeactivationReason.LINK_LOSS))
            assertTrue(report.sentOnline)
            assertNull(report.decline)
            assertEquals(eur("42.50"), report.amount)
            assertEquals("CAFE DE FLORE PARIS", report.merchant)
            assertEquals(5812.toUShort(), report.mcc)
            assertEquals(1.toUShort(), report.atc)
            assertEquals(token.tokenId, report.tokenId)
            assertEquals(4u, wallet.token(token.tokenId).keys.remaining, "the key is used up")

            val entry = wallet.history().entries.single()
            assertEquals(EntryStatus.PENDING, entry.status)
            assertEquals(eur("-42.50"), entry.amount)
            assertEquals("food.restaurants", entry.category)
            assertEquals(listOf(entry), listener.transactions)
            assertEquals(eur("-42.50"), wallet.balances().single().available)
            // 85% of the budget on the 23rd: the highest threshold crossed,
            // and at this pace the month ends over budget.
            assertEquals(listOf(AlertKind.THRESHOLD, AlertKind.FORECAST), listener.alerts.map { it.kind })
            val (threshold, forecast) = listener.alerts
            assertEquals(80u, threshold.thresholdPercent)
            assertEquals(eur("42.50"), threshold.spent)
            assertNull(forecast.thresholdPercent)
            val overshoot = assertNotNull(forecast.forecastOvershoot)
            assertTrue(overshoot.minorUnits() > 0)
            assertTrue(assertNotNull(forecast.forecastDate) <= "2026-11-30")

            // The reader comes back for nothing more: no new report, no new entry.
            assertNull(wallet.onDeactivated(DeactivationReason.DESELECTED))
            assertEquals(0u, wallet.settleTaps())
            assertEquals(1, wallet.history().entries.size)
        }
    }

    @Test
    fun `bad APDUs get status words, never exceptions, and a locked wallet declines`() {
        val (wallet, _) = walletWithToken(ManualClock(), 2u)
        wallet.use {
            assertEquals("6700", wallet.send("00"), "too short to be a command")
            assertEquals("6700", wallet.processApdu(ByteArray(70_000)).toHex(), "longer than any APDU")
            assertTrue(wallet.processApdu(ByteArray(0)).toHex().startsWith("67"), "empty")
            assertEquals("6D00", wallet.send("00CA000000"), "an instruction the card does not know")
            assertEquals("6985", wallet.send(generateAc).takeLast(4), "no GENERATE AC before GPO")
            assertNull(wallet.onDeactivated(DeactivationReason.LINK_LOSS), "nothing was paid")

            // Locked before any tap: the terminal finds no card, the user is
            // told why, and no key is spent.
            wallet.lock()
            assertFalse(wallet.send(selectPpse).endsWith("9000"))
            val report = assertNotNull(wallet.onDeactivated(DeactivationReason.LINK_LOSS))
            assertFalse(report.sentOnline)
            assertEquals(TapDeclineReason.LOCKED, report.decline)
            assertContains(report.declineMessage!!, "locked")
            wallet.unlock()
            assertEquals(2u, wallet.tokens().single().keys.remaining)
            assertEquals(emptyList(), wallet.history().entries)
        }
    }
}
