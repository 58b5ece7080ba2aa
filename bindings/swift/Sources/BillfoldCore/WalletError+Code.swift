// Hand-written next to the generated bindings: the one stable `code` (and
// the user-facing `reason`) of any WalletError, whatever its case, so that
// `catch let e as WalletError { e.code }` works. uniffi generates the enum
// with `code` and `reason` on every case but no property over all of them.
// The switch is exhaustive, so a case added in Rust fails to compile here
// until it is listed.

extension WalletError {
    /// The stable, machine-readable code: `invalid_pan`, `locked`, `budget_not_found`…
    public var code: String {
        switch self {
        case .InvalidInput(let code, _), .Locked(let code, _), .KeyStore(let code, _),
             .NotFound(let code, _), .AlreadyExists(let code, _), .Closed(let code, _),
             .Unavailable(let code, _), .Declined(let code, _), .Storage(let code, _),
             .Internal(let code, _):
            return code
        }
    }

    /// A sentence for the person holding the phone; never card data or keys.
    public var reason: String {
        switch self {
        case .InvalidInput(_, let reason), .Locked(_, let reason), .KeyStore(_, let reason),
             .NotFound(_, let reason), .AlreadyExists(_, let reason), .Closed(_, let reason),
             .Unavailable(_, let reason), .Declined(_, let reason), .Storage(_, let reason),
             .Internal(_, let reason):
            return reason
        }
    }
}
