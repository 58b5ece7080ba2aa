#!/usr/bin/env bash
# Builds BillfoldCoreFFI.xcframework (the Rust static library for iOS
# devices, the iOS simulator and macOS, with BillfoldCoreFFI.h and its
# module map) and regenerates Sources/BillfoldCore/BillfoldCore.swift.
#
# Runs on macOS with Xcode and rustup; nothing here can run on Linux.
# Usage, from anywhere:  bindings/swift/build-xcframework.sh
#   PROFILE=release-size (default) or dev for a quicker, larger build.
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
profile="${PROFILE:-release-size}"
profile_dir="$profile"
[ "$profile" = dev ] && profile_dir=debug
target_dir="${CARGO_TARGET_DIR:-$repo/target}"
out="$repo/bindings/swift"
work="$target_dir/xcframework"

ios=aarch64-apple-ios
sims=(aarch64-apple-ios-sim x86_64-apple-ios)
macs=(aarch64-apple-darwin x86_64-apple-darwin)

rustup target add "$ios" "${sims[@]}" "${macs[@]}"
for t in "$ios" "${sims[@]}" "${macs[@]}"; do
    cargo build -p billfold-lib --profile "$profile" --target "$t"
done
lib() { echo "$target_dir/$1/$profile_dir/libbillfold.a"; }

# Bindings come from an unstripped library (uniffi reads the metadata
# symbols); they are identical for every target, so the host's will do.
cargo build -p uniffi-bindgen
host="$(uname -m | sed 's/arm64/aarch64/')-apple-darwin"
rm -rf "$work" && mkdir -p "$work/headers" "$work/gen"
"$target_dir/debug/uniffi-bindgen" generate --no-format --config uniffi.toml \
    --language swift --out-dir "$work/gen" "$(lib "$host")"
mkdir -p "$out/Sources/BillfoldCore"
cp "$work/gen/BillfoldCore.swift" "$out/Sources/BillfoldCore/"
cp "$work/gen/BillfoldCoreFFI.h" "$work/headers/"
cp "$work/gen/BillfoldCoreFFI.modulemap" "$work/headers/module.modulemap"

# One fat library per platform variant: the simulator and macOS each run on
# both Apple silicon and Intel.
lipo -create "$(lib "${sims[0]}")" "$(lib "${sims[1]}")" -output "$work/libbillfold-sim.a"
lipo -create "$(lib "${macs[0]}")" "$(lib "${macs[1]}")" -output "$work/libbillfold-macos.a"

rm -rf "$out/BillfoldCoreFFI.xcframework"
xcodebuild -create-xcframework \
    -library "$(lib "$ios")" -headers "$work/headers" \
    -library "$work/libbillfold-sim.a" -headers "$work/headers" \
    -library "$work/libbillfold-macos.a" -headers "$work/headers" \
    -output "$out/BillfoldCoreFFI.xcframework"

echo "built $out/BillfoldCoreFFI.xcframework; now: cd bindings/swift && swift test"
