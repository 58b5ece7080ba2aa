#!/bin/sh
# cmake, as cargo runs it for zxing-cpp's bundled C++ core (set as CMAKE in
# .cargo/config.toml; the `cmake` crate takes the executable from there).
#
# The wallet reads QR codes only (wallet-core/src/qr/decoder.rs asks for
# QR Code), but the zxing-cpp crate's build script configures every barcode
# format and offers no switch for it. When cmake configures the ZXing
# project, this adds the project's own options to leave out the other
# formats' readers and writers (1D, Aztec, DataMatrix, MaxiCode, PDF417);
# QR Code, Micro QR and rMQR stay. Every other cmake call (building,
# installing, any other project) passes through unchanged.
#
# The real cmake is $BILLFOLD_CMAKE if set, else the first `cmake` on PATH.
# cargo does not rerun zxing-cpp's build script when this file changes: a
# target directory built before it keeps every format until that build
# script reruns (`make size` checks and says how).

real=${BILLFOLD_CMAKE:-cmake}

for arg in "$@"; do
	case $arg in
	--build | --install | -E | -P | --version | --help) exec "$real" "$@" ;;
	esac
done

for arg in "$@"; do
	if [ -f "$arg/CMakeLists.txt" ] && grep -q '^project *(ZXing' "$arg/CMakeLists.txt"; then
		exec "$real" "$@" \
			-DZXING_ENABLE_QRCODE=ON \
			-DZXING_ENABLE_1D=OFF \
			-DZXING_ENABLE_AZTEC=OFF \
			-DZXING_ENABLE_DATAMATRIX=OFF \
			-DZXING_ENABLE_MAXICODE=OFF \
			-DZXING_ENABLE_PDF417=OFF
	fi
done

exec "$real" "$@"
