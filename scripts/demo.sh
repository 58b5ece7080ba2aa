#!/usr/bin/env bash
# The customer journey, as far as it is built: create a wallet, add cards,
# list them masked, freeze one, and show that errors are clear and typed.
set -euo pipefail

BIN=${BIN:-target/debug}
HOME_DIR=${DEMO_HOME:-$(pwd)/.demo}
rm -rf "$HOME_DIR"
export BILLFOLD_HOME="$HOME_DIR" BILLFOLD_PASSPHRASE=${BILLFOLD_PASSPHRASE:-"correct horse battery staple"}
bf() { "$BIN/billfold" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Create a wallet (Argon2id-protected data key)"
bf init

step "Add three cards (numbers are checked with Luhn; the network comes from the BIN)"
bf card add --pan "4111 1111 1111 1111" --expiry 12/29 --name "Ada Lovelace" --nickname "Everyday"
bf card add --pan 5555555555554444 --expiry 08/28 --name "Ada Lovelace" --nickname "Travel"
bf card add --pan 378282246310005 --expiry 03/30 --name "Ada Lovelace" --nickname "Business"

step "List them: never more than the BIN and the last four"
bf card list

step "Freeze the travel card, and make the business card the one taps pay with"
bf card freeze travel
bf card default business
bf card list

step "Mistakes get clear, typed errors (and never echo the number)"
bf --json card add --pan 4111111111111112 --expiry 12/29 --name "Ada Lovelace" || true
bf --json card add --pan 4111111111111111 --expiry 12/29 --name "Ada Lovelace" || true
BILLFOLD_PASSPHRASE="wrong passphrase" bf --json card list || true

step "On disk, the card numbers exist only encrypted"
if grep -c 4111111111111111 "$HOME_DIR"/wallet.db* >/dev/null 2>&1; then
  echo "FOUND A PLAINTEXT CARD NUMBER" >&2; exit 1
else
  echo "grep finds no card number in $(ls "$HOME_DIR" | tr '\n' ' ')"
fi
