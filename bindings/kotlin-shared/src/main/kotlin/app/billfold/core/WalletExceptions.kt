// Hand-written next to the generated bindings, for both Kotlin flavours
// (desktop JVM and Android): the one stable `code` of any WalletException.
//
// uniffi generates WalletException as a sealed class whose variants each
// carry `code` and `reason`, but it cannot declare them on the base class.
// These extension properties make `catch (e: WalletException) { e.code }`
// work; on a variant's own type the variant's property is used, with the
// same value. The `when` is exhaustive over the sealed class, so a variant
// added in Rust fails to compile here until it is listed.
package app.billfold.core

/** The stable, machine-readable code: `invalid_pan`, `locked`, `budget_not_found`… */
val WalletException.code: String
    get() = when (this) {
        is WalletException.InvalidInput -> code
        is WalletException.Locked -> code
        is WalletException.KeyStore -> code
        is WalletException.NotFound -> code
        is WalletException.AlreadyExists -> code
        is WalletException.Closed -> code
        is WalletException.Unavailable -> code
        is WalletException.Declined -> code
        is WalletException.Storage -> code
        is WalletException.Internal -> code
    }

/** A sentence for the person holding the phone; never card data or keys. */
val WalletException.reason: String
    get() = when (this) {
        is WalletException.InvalidInput -> reason
        is WalletException.Locked -> reason
        is WalletException.KeyStore -> reason
        is WalletException.NotFound -> reason
        is WalletException.AlreadyExists -> reason
        is WalletException.Closed -> reason
        is WalletException.Unavailable -> reason
        is WalletException.Declined -> reason
        is WalletException.Storage -> reason
        is WalletException.Internal -> reason
    }
