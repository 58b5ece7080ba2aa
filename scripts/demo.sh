#!/usr/bin/env bash
# The customer journey, end to end: a local bank (billfold-server on SQLite),
# a wallet that enrolls, gets a token for its card, pays a scanned merchant
# code, taps at a terminal (billfold-pos) with the bank authorising, crosses
# a budget threshold, taps and shows a payment code while the bank is down,
# then syncs when it is back.
set -euo pipefail

BIN=${BIN:-target/debug}
DEMO=${DEMO_HOME:-$(pwd)/.demo}
PORT=${DEMO_PORT:-18787}
BANK=http://127.0.0.1:$PORT
rm -rf "$DEMO"
mkdir -p "$DEMO"
export BILLFOLD_HOME="$DEMO/wallet" BILLFOLD_PASSPHRASE=${BILLFOLD_PASSPHRASE:-"correct horse battery staple"}
bf() { "$BIN/billfold" "$@"; }
pos() { "$BIN/billfold-pos" --card-cmd "$BIN/billfold hce --stdio" --server "$BANK" \
  --terminal-key "$DEMO/terminal.key" "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

SERVER_PID=
start_bank() {
  "$BIN/billfold-server" --listen "127.0.0.1:$PORT" --data-dir "$DEMO/bank" >>"$DEMO/bank.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if curl -fsS "$BANK/v1/health" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "the bank did not start; see $DEMO/bank.log" >&2
  exit 1
}
stop_bank() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
}
trap stop_bank EXIT

step "1. Start the bank: billfold-server with SQLite in $DEMO/bank"
start_bank
curl -fsS "$BANK/v1/health"; echo

step "2. Create a wallet, add a card, enroll with the bank: the card gets a token and single-use keys"
bf init
bf card add --pan "4111 1111 1111 1111" --expiry 12/29 --name "Ada Lovelace" --nickname Everyday
bf enroll --server "$BANK" --name "Ada's phone"
bf token status
if grep -c 4111111111111111 "$BILLFOLD_HOME"/wallet.db* >/dev/null 2>&1; then
  echo "FOUND A PLAINTEXT CARD NUMBER" >&2; exit 1
fi
echo "(grep finds no card number in the wallet's files: it is stored encrypted)"

step "3. The balance, from the bank"
bf balance

step "4. Scan and pay: a merchant's QR code is written to PNG, scanned back, and paid through the bank"
bf qr make --merchant-name "Kopi Corner" --city Paris --country FR --currency EUR \
  --amount 4.80 --mcc 5814 --account FR7630006000011234567890189 --out "$DEMO/merchant.png"
bf qr scan "$DEMO/merchant.png" | head -12
bf pay --image "$DEMO/merchant.png"

step "5. Tap to pay at a terminal: billfold-pos drives the phone's card (billfold hce --stdio), the bank authorises"
bf budget create --name Groceries --limit "100.00 EUR" --category food --period monthly:1 --tz Europe/Paris
pos --amount 62.40 --currency EUR --merchant "MARCHE BIO PARIS" --mcc 5411 | tail -4
bf sync

step "6. Another grocery tap takes the Groceries budget past 80%: the alert is printed"
pos --amount 21.30 --currency EUR --merchant "MARCHE BIO PARIS" --mcc 5411 | tail -1
bf budget status

step "7. The bank goes down. The terminal accepts a tap for deferred authorization; the phone holds it as pending"
stop_bank
pos --amount 7.90 --currency EUR --merchant "BOULANGERIE" --mcc 5462 \
  --offline-queue "$DEMO/terminal-queue.json" | tail -2
bf tx list | head -4
bf balance
echo "Paying a merchant code needs the bank, and says so:"
bf pay --image "$DEMO/merchant.png" || true

step "8. The consumer-presented code: made offline from a single-use key, for the merchant to scan"
bf pay-code --amount "3.20 EUR" --out "$DEMO/pay-code.png"

step "9. The bank is back: the terminal submits its queue, and the wallet syncs"
start_bank
"$BIN/billfold-pos" --server "$BANK" --terminal-key "$DEMO/terminal.key" \
  --submit-queue "$DEMO/terminal-queue.json"
bf sync

step "10. Final balances, insights and a spending chart"
bf balance
bf tx list | head -8
bf insights --months 3 --currency EUR --chart "$DEMO/spending.svg"
echo "Spending chart: $DEMO/spending.svg; bank log: $DEMO/bank.log"
