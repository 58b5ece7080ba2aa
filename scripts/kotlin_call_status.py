#!/usr/bin/env python3
"""Rewrites one helper in uniffi 0.32's generated Kotlin: the call status.

Why: every call into Rust gets a `UniffiRustCallStatus`, a JNA Structure.
The generated helper allocates a new one per call (native memory, a cleaner
registration, and a nested RustBuffer Structure) and lets JNA copy its
fields in and out by reflection around the call. For a trivial call that
was almost all of its ~17 us (bindings/README.md, "Benchmarks"). This
patch takes statuses from a small per-thread pool instead, turns JNA's
automatic copying off, and reads the one status byte straight from native
memory; only a failed call reads the whole struct. Each call, nested ones
included (a callback into Kotlin that calls Rust again), holds its own
status until it returns, so reuse never mixes two calls' results.

uniffi's JNI-based Kotlin backend (mozilla/uniffi-rs#2911), once released,
replaces this. Run by `make bindings` on both Kotlin flavours; it fails if
the generated helper is not the expected text, so a uniffi upgrade cannot
silently drop it.
"""
import sys

ORIGINAL = """private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    var status = UniffiRustCallStatus()
    val return_value = callback(status)
    uniffiCheckCallStatus(errorHandler, status)
    return return_value
}
"""

PATCHED = """private inline fun <U, E: kotlin.Exception> uniffiRustCallWithError(errorHandler: UniffiRustCallStatusErrorHandler<E>, callback: (UniffiRustCallStatus) -> U): U {
    // Billfold: pooled call statuses (scripts/kotlin_call_status.py).
    val pool = UniffiCallStatusPool.forThread.get()
    val status = pool.acquire()
    try {
        val return_value = callback(status)
        if (status.pointer.getByte(0) != UNIFFI_CALL_SUCCESS) {
            status.read()
            uniffiCheckCallStatus(errorHandler, status)
        }
        return return_value
    } finally {
        pool.release(status)
    }
}

/**
 * Per-thread spare call statuses, with JNA's automatic field copying off:
 * the native code byte is read directly, the whole struct only on failure.
 *
 * @suppress
 */
internal class UniffiCallStatusPool {
    private val spare = java.util.ArrayDeque<UniffiRustCallStatus>(4)

    fun acquire(): UniffiRustCallStatus {
        val status = spare.pollLast() ?: UniffiRustCallStatus().also { it.setAutoSynch(false) }
        // Rust writes the status only when a call fails.
        status.pointer.setByte(0, UNIFFI_CALL_SUCCESS)
        return status
    }

    fun release(status: UniffiRustCallStatus) {
        if (spare.size < 8) spare.addLast(status)
    }

    companion object {
        val forThread: ThreadLocal<UniffiCallStatusPool> = ThreadLocal.withInitial { UniffiCallStatusPool() }
    }
}
"""


def main() -> int:
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.count(ORIGINAL) != 1:
            print(f"{path}: uniffi's uniffiRustCallWithError is not the text "
                  "scripts/kotlin_call_status.py expects (a uniffi upgrade?); "
                  "check the patch still applies, or drop it", file=sys.stderr)
            return 1
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace(ORIGINAL, PATCHED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
