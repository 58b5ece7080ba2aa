// What a call into the Rust core costs from Kotlin: a trivial call
// (isLocked: one lock, no allocation in Rust, no SQLite), listCards with
// 100 cards (SQLite, decryption of 300 fields, 100 records across JNA),
// one tap APDU (SELECT PPSE, as the HCE service sends it; DESIGN's budget
// is 1 ms per APDU), and scanning a 1920x1080 camera frame holding a code
// (2 MB across JNA plus the decode; DESIGN's budget is 10 ms median).
// A plain warm-up-then-measure loop, run by `make bench-kotlin`
// (`mvn -Pbench verify`), against the release-size library that ships.
//
// Two figures per operation: wall-clock time, and the whole JVM process's
// CPU time (every thread: the caller, GC, and JNA's cleaner thread, which
// frees the native memory uniffi's generated code allocates per call). On a
// machine shared with other work the wall clock also counts time spent
// descheduled; CPU time does not, so the budget is judged on it.
//
// A budget miss is reported, not turned into a failed build. Most of what
// a trivial call costs is the generated Kotlin's JNA plumbing, not Rust:
// `make bindings` pools its call statuses (scripts/kotlin_call_status.py),
// which took isLocked from 17-37 us to 0.9-1.8 us.
package app.billfold.core.bench

import app.billfold.core.AesGcmKeyStore
import app.billfold.core.Wallet
import app.billfold.core.generateQrCode
import java.lang.management.ManagementFactory
import java.nio.file.Files

private const val TRIVIAL_BUDGET_NS = 2_000.0

private val os = ManagementFactory.getOperatingSystemMXBean() as com.sun.management.OperatingSystemMXBean

fun main() {
    val dir = Files.createTempDirectory("billfold-bench")
    try {
        Wallet.create(dir.resolve("w").toString(), AesGcmKeyStore()).use { wallet ->
            val trivial = measure("isLocked (trivial call)", warmup = 100_000, iterations = 50_000, rounds = 7) {
                wallet.isLocked()
            }
            repeat(100) { i -> wallet.addCard(luhn("4000000000%05d".format(i)), "12/30", "Ada Lovelace", "Card $i") }
            check(wallet.listCards().size == 100)
            measure("listCards, 100 cards", warmup = 300, iterations = 200, rounds = 7) {
                wallet.listCards()
            }
            wallet.provisionTestToken(wallet.listCards().first().id, ByteArray(16) { it.toByte() }, keyCount = 1u)
            val selectPpse = byteArrayOf(0x00, 0xA4.toByte(), 0x04, 0x00, 0x0E) + "2PAY.SYS.DDF01".toByteArray() + 0x00
            check(wallet.processApdu(selectPpse).takeLast(2) == listOf(0x90.toByte(), 0x00))
            val apdu = measure("processApdu, SELECT PPSE", warmup = 2_000, iterations = 2_000, rounds = 7) {
                wallet.processApdu(selectPpse)
            }
            val frame = cameraFrame()
            check(wallet.scanFrame(frame, 1920u, 1080u, 1920u, 0u).size == 1)
            val scan = measure("scanFrame, 1920x1080", warmup = 20, iterations = 20, rounds = 5) {
                wallet.scanFrame(frame, 1920u, 1080u, 1920u, 0u)
            }
            // The frame's trip alone: processApdu copies the 2 MB into Rust
            // and refuses it at once (no APDU is that long), so this is the
            // JNA and uniffi share of a scan.
            measure("2 MB frame across JNA", warmup = 20, iterations = 20, rounds = 5) {
                wallet.processApdu(frame)
            }
            println("tap APDU: %.0f ns CPU per call, %s the 1 ms budget".format(apdu, if (apdu <= 1e6) "within" else "OVER"))
            println("frame scan: %.1f ms CPU per call, %s the 10 ms budget".format(scan / 1e6, if (scan <= 1e7) "within" else "OVER"))
            val verdict = if (trivial <= TRIVIAL_BUDGET_NS) "within" else "OVER"
            println("trivial call: %.0f ns CPU per call, %s the %.0f ns budget".format(trivial, verdict, TRIVIAL_BUDGET_NS))
        }
    } finally {
        dir.toFile().deleteRecursively()
    }
}

/** Prints the median wall and process-CPU ns per call over rounds; returns the CPU median. */
private inline fun measure(name: String, warmup: Int, iterations: Int, rounds: Int, op: () -> Any?): Double {
    // The native call cannot be optimised away, so a null check is sink
    // enough (hashing 100 cards would add its own cost to the figure).
    var sink = 0
    repeat(warmup) { if (op() != null) sink++ }
    val wall = DoubleArray(rounds)
    val cpu = DoubleArray(rounds)
    for (r in 0 until rounds) {
        val cpu0 = os.processCpuTime
        val wall0 = System.nanoTime()
        repeat(iterations) { if (op() != null) sink++ }
        wall[r] = (System.nanoTime() - wall0).toDouble() / iterations
        cpu[r] = (os.processCpuTime - cpu0).toDouble() / iterations
    }
    wall.sort()
    cpu.sort()
    println(
        "%-26s median %9.0f ns/call CPU, %9.0f ns/call wall  (CPU min..max %.0f..%.0f; %d calls)".format(
            name, cpu[rounds / 2], wall[rounds / 2], cpu.first(), cpu.last(), sink,
        ),
    )
    return cpu[rounds / 2]
}

/** A grey 1920x1080 luma frame with a payment-sized code in the middle, 6 px per module. */
private fun cameraFrame(): ByteArray {
    val code = generateQrCode("00020101021126180014br.gov.bcb.pix5204000053039865802BR5903ABC6003XYZ6304ABCD")
    val (w, h, px) = Triple(1920, 1080, 6)
    val luma = ByteArray(w * h) { 0xC8.toByte() }
    val n = code.size.toInt()
    val (x0, y0) = (w - n * px) / 2 to (h - n * px) / 2
    for (my in 0 until n) for (mx in 0 until n) {
        if (!code.modules[my * n + mx]) continue
        for (dy in 0 until px) for (dx in 0 until px) luma[(y0 + my * px + dy) * w + x0 + mx * px + dx] = 0x30
    }
    return luma
}

private fun luhn(body: String): String {
    val sum = body.reversed().mapIndexed { i, c ->
        val d = c.digitToInt()
        if (i % 2 == 0) (d * 2).let { if (it > 9) it - 9 else it } else d
    }.sum()
    return body + ((10 - sum % 10) % 10)
}
