#!/usr/bin/env bash
# The customer journey, as far as it is built: cards, tap to pay, QR,
# budgets with alerts, balances and insights. Sync with the bank is to come.
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

step "Tap to pay: a test token for the tap card, from an in-process issuer"
IMK=0123456789ABCDEFFEDCBA9876543210
bf token provision-test --issuer-master-key $IMK --pan 4761739001010010 --psn 1 --keys 6 --profile aes
bf token status

step "A terminal (billfold-pos) drives the phone's card application (billfold hce --stdio)"
"$BIN/billfold-pos" --card-cmd "$BIN/billfold hce --stdio" --amount 12.34 --currency EUR \
  --merchant "CORNER SHOP PARIS" --mcc 5411 --issuer-master-key $IMK

step "The tap is a pending entry (category from the MCC), and one key fewer is left"
bf tx list
bf token status

step "A frozen card declines at the terminal, and says why"
bf card freeze business
"$BIN/billfold-pos" --card-cmd "$BIN/billfold hce --stdio" --amount 5.00 --currency EUR \
  --issuer-master-key $IMK | tail -3 || true
bf card unfreeze business

step "The token number and its keys exist only encrypted too"
if grep -c 4761739001010010 "$HOME_DIR"/wallet.db* >/dev/null 2>&1; then
  echo "FOUND A PLAINTEXT TOKEN NUMBER" >&2; exit 1
else
  echo "grep finds no token number in $(ls "$HOME_DIR" | tr '\n' ' ')"
fi

step "Scan and pay: a merchant's QR code is written to PNG, scanned back and parsed"
bf qr make --merchant-name "Kopi Corner" --city Singapore --country SG --currency SGD \
  --amount 4.80 --mcc 5814 --account 201912345K --out "$HOME_DIR/merchant.png"
bf qr scan "$HOME_DIR/merchant.png"

step "A budget: groceries in Paris time, alerts at 50/80/100%"
bf budget create --name Groceries --limit "50.00 EUR" --category food --period monthly:1 --tz Europe/Paris

step "A grocery purchase takes the budget past 80%, and the alert is printed"
bf tx add --amount "30.00 EUR" --merchant "Green Grocer" --mcc 5411
bf budget status

step "Balances, insights and a spending chart"
bf balance
bf insights --months 3 --currency EUR --chart "$HOME_DIR/spending.svg"

printf '\nNot in this demo yet: enrolment with the bank server, sync, and the offline journey (issue 7).\n'
