//! Scanning camera frames and image files: codes are found with their
//! corners in the frame's own coordinates, whatever the stride, polarity or
//! rotation; PNG and JPEG files read alike; bad frames and images are typed
//! errors; and no frame or file, however odd, makes it panic.

use proptest::prelude::*;
use wallet_core::qr::{
    scan_frame, scan_image_file, DecodeHints, DecodedSymbol, LumaView, Point, QrDecoder, QrMatrix,
    Rotation, ScanStrategy, Scanner, View,
};
use wallet_core::Error;

const PAYLOAD: &str = "00020101021129370016A000000677010111011300668123456785802TH530376454041.005916SOMCHAI NOODLES6007BANGKOK6304A1B2";

/// A grey frame with `codes` drawn at (left, top) with `px` pixels per
/// module, black on a mid-grey background, quiet zone white.
struct Frame {
    width: usize,
    height: usize,
    stride: usize,
    pixels: Vec<u8>,
}

impl Frame {
    fn new(width: usize, height: usize, stride: usize) -> Self {
        // Padding bytes hold junk: a scanner must never read them.
        let mut pixels = vec![0x5Au8; stride * height];
        for y in 0..height {
            for x in 0..width {
                pixels[y * stride + x] = (100 + (x * 7 + y * 3) % 40) as u8;
            }
        }
        Frame {
            width,
            height,
            stride,
            pixels,
        }
    }

    fn draw(&mut self, m: &QrMatrix, left: usize, top: usize, px: usize, inverted: bool) {
        let q = QrMatrix::QUIET_ZONE as usize;
        let side = (m.size as usize + 2 * q) * px;
        for y in 0..side {
            for x in 0..side {
                let (mx, my) = ((x / px) as i64 - q as i64, (y / px) as i64 - q as i64);
                let dark = mx >= 0 && my >= 0 && m.is_dark(mx as u32, my as u32);
                let v = if dark != inverted { 20 } else { 235 };
                self.pixels[(top + y) * self.stride + left + x] = v;
            }
        }
    }

    fn scan(&self, rotation: u32) -> Result<Vec<wallet_core::qr::ScannedCode>, Error> {
        scan_frame(
            &self.pixels,
            self.width as u32,
            self.height as u32,
            self.stride as u32,
            rotation,
        )
    }
}

fn near(p: Point, x: f32, y: f32, tolerance: f32) -> bool {
    (p.x - x).abs() <= tolerance && (p.y - y).abs() <= tolerance
}

/// The corners of the symbol (inside the quiet zone) drawn by `Frame::draw`.
fn expected_corners(m: &QrMatrix, left: usize, top: usize, px: usize) -> [(f32, f32); 4] {
    let q = QrMatrix::QUIET_ZONE as usize;
    let (a, b) = (q * px, (q + m.size as usize) * px);
    [
        ((left + a) as f32, (top + a) as f32),
        ((left + b) as f32, (top + a) as f32),
        ((left + b) as f32, (top + b) as f32),
        ((left + a) as f32, (top + b) as f32),
    ]
}

#[test]
fn finds_a_code_with_its_corners_in_frame_coordinates() {
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(1280, 720, 1280);
    frame.draw(&m, 500, 150, 6, false);
    let codes = frame.scan(0).unwrap();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0].text, PAYLOAD);
    assert!(!codes[0].inverted);
    for (got, (x, y)) in codes[0]
        .corners
        .iter()
        .zip(expected_corners(&m, 500, 150, 6))
    {
        assert!(
            near(*got, x, y, 6.0),
            "corner {got:?} should be near ({x}, {y})"
        );
    }
    assert_eq!(codes[0].corners, codes[0].upright_corners);
}

#[test]
fn row_padding_is_never_read() {
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(640, 480, 704);
    frame.draw(&m, 100, 60, 3, false);
    let codes = frame.scan(0).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].text, PAYLOAD);
    // Android often leaves the last row unpadded: the buffer ends at the last pixel.
    let short = &frame.pixels[..frame.stride * (frame.height - 1) + frame.width];
    let codes2 = scan_frame(short, 640, 480, 704, 0).unwrap();
    assert_eq!(codes2, codes);
}

#[test]
fn reads_light_on_dark_codes() {
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(800, 600, 800);
    frame.draw(&m, 150, 100, 4, true);
    let codes = frame.scan(0).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].text, PAYLOAD);
    assert!(codes[0].inverted);
}

#[test]
fn finds_every_code_in_reading_order() {
    let a = QrMatrix::encode("first code on the left", Default::default()).unwrap();
    let b = QrMatrix::encode("second code, lower down", Default::default()).unwrap();
    let c = QrMatrix::encode("third code, right", Default::default()).unwrap();
    let mut frame = Frame::new(1280, 720, 1280);
    frame.draw(&a, 40, 40, 5, false);
    frame.draw(&c, 800, 60, 5, false);
    frame.draw(&b, 300, 400, 5, false);
    let texts: Vec<String> = frame.scan(0).unwrap().into_iter().map(|c| c.text).collect();
    assert_eq!(
        texts,
        [
            "first code on the left",
            "third code, right",
            "second code, lower down"
        ]
    );
}

#[test]
fn rotation_maps_upright_corners_and_leaves_frame_corners() {
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(960, 540, 960);
    frame.draw(&m, 100, 50, 4, false);
    let plain = frame.scan(0).unwrap();
    for degrees in [90, 180, 270] {
        let turned = frame.scan(degrees).unwrap();
        assert_eq!(turned.len(), 1);
        assert_eq!(turned[0].corners, plain[0].corners);
        let r = Rotation::from_degrees(degrees).unwrap();
        for (up, p) in turned[0].upright_corners.iter().zip(plain[0].corners) {
            assert_eq!(*up, r.upright(p, 960, 540));
        }
    }
    // A frame turned 90 degrees clockwise: its top-left pixel goes to the top right.
    let p = Rotation::R90.upright(Point { x: 0.0, y: 0.0 }, 960, 540);
    assert_eq!((p.x, p.y), (540.0, 0.0));
}

#[test]
fn bad_frames_are_typed_errors() {
    let buf = vec![0u8; 100];
    let cases: [(&[u8], u32, u32, u32, u32); 9] = [
        (&buf, 0, 10, 10, 0),
        (&buf, 10, 0, 10, 0),
        (&buf, 10, 10, 9, 0),
        (&buf, 10, 11, 10, 0),
        (&buf, 11, 10, 11, 0),
        (&buf, u32::MAX, u32::MAX, u32::MAX, 0),
        (&buf, 20_000, 1, 20_000, 0),
        (&buf, 10, 10, 10, 45),
        (&[], 1, 1, 1, 0),
    ];
    for (data, w, h, stride, rot) in cases {
        match scan_frame(data, w, h, stride, rot) {
            Err(e @ Error::InvalidFrame(_)) => assert_eq!(e.code(), "invalid_frame"),
            other => panic!("{w}x{h} stride {stride} rotation {rot}: {other:?}"),
        }
    }
}

#[test]
fn degenerate_frames_scan_to_nothing() {
    for (w, h) in [(1, 1), (1, 1080), (1920, 1), (2, 2), (3, 1000), (64, 64)] {
        for fill in [0u8, 255, 128] {
            let data = vec![fill; w * h];
            let codes = scan_frame(&data, w as u32, h as u32, w as u32, 0).unwrap();
            assert!(codes.is_empty());
        }
    }
    let black = vec![0u8; 1920 * 1080];
    assert!(scan_frame(&black, 1920, 1080, 1920, 0).unwrap().is_empty());
    let white = vec![255u8; 1920 * 1080];
    assert!(scan_frame(&white, 1920, 1080, 1920, 0).unwrap().is_empty());
}

#[test]
fn image_files_scan_like_frames() {
    let dir = tempfile::tempdir().unwrap();
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let png = dir.path().join("code.png");
    std::fs::write(&png, m.to_png(4).unwrap()).unwrap();
    let codes = scan_image_file(&png).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].text, PAYLOAD);
    let q = 4.0 * QrMatrix::QUIET_ZONE as f32;
    assert!(
        near(codes[0].corners[0], q, q, 4.0),
        "{:?}",
        codes[0].corners
    );

    let junk = dir.path().join("junk.png");
    std::fs::write(&junk, b"not an image at all").unwrap();
    assert_eq!(scan_image_file(&junk).unwrap_err().code(), "invalid_image");
    assert_eq!(
        scan_image_file(dir.path().join("missing.png"))
            .unwrap_err()
            .code(),
        "io"
    );
}

/// `frame` as a JPEG file of the given quality, optionally with an EXIF
/// orientation tag (1 to 8), as a phone camera writes it.
fn jpeg(frame: &Frame, quality: u8, exif_orientation: Option<u16>) -> Vec<u8> {
    use image::ImageEncoder;
    let mut packed = Vec::with_capacity(frame.width * frame.height);
    for y in 0..frame.height {
        packed.extend_from_slice(&frame.pixels[y * frame.stride..][..frame.width]);
    }
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(o) = exif_orientation {
        // A big-endian TIFF header and one IFD with one entry: Orientation
        // (0x0112), SHORT, count 1.
        let mut exif = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
        exif.extend_from_slice(&o.to_be_bytes());
        exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        enc.set_exif_metadata(exif).unwrap();
    }
    enc.write_image(
        &packed,
        frame.width as u32,
        frame.height as u32,
        image::ExtendedColorType::L8,
    )
    .unwrap();
    out
}

#[test]
fn jpeg_photos_scan_like_png_files() {
    let dir = tempfile::tempdir().unwrap();
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(640, 480, 640);
    frame.draw(&m, 100, 60, 5, false);
    let bytes = jpeg(&frame, 75, None);
    assert_eq!(&bytes[..3], b"\xff\xd8\xff");

    let photo = dir.path().join("photo.jpg");
    std::fs::write(&photo, &bytes).unwrap();
    let codes = scan_image_file(&photo).unwrap();
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert_eq!(codes[0].text, PAYLOAD);
    for (c, (x, y)) in codes[0]
        .corners
        .iter()
        .zip(expected_corners(&m, 100, 60, 5))
    {
        assert!(near(*c, x, y, 6.0), "{:?}", codes[0].corners);
    }
    // The content decides, not the name.
    let misnamed = dir.path().join("photo.png");
    std::fs::write(&misnamed, &bytes).unwrap();
    assert_eq!(scan_image_file(&misnamed).unwrap()[0].text, PAYLOAD);
}

#[test]
fn jpeg_photos_are_read_upright() {
    // Stored landscape, shown portrait: EXIF orientation 6 turns the
    // stored image 90 degrees clockwise, so the stored point (x, y) is
    // shown at (height - y, x).
    let dir = tempfile::tempdir().unwrap();
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(640, 400, 640);
    frame.draw(&m, 60, 40, 5, false);
    let photo = dir.path().join("portrait.jpg");
    std::fs::write(&photo, jpeg(&frame, 85, Some(6))).unwrap();
    let codes = scan_image_file(&photo).unwrap();
    assert_eq!(codes.len(), 1);
    let stored = expected_corners(&m, 60, 40, 5);
    for (x, y) in stored {
        let (ux, uy) = (400.0 - y, x);
        assert!(
            codes[0].corners.iter().any(|c| near(*c, ux, uy, 6.0)),
            "({ux}, {uy}) not in {:?}",
            codes[0].corners
        );
    }
}

#[test]
fn bad_or_unsupported_images_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = QrMatrix::encode(PAYLOAD, Default::default()).unwrap();
    let mut frame = Frame::new(320, 240, 320);
    frame.draw(&m, 10, 10, 2, false);
    let good = jpeg(&frame, 90, None);
    let invalid = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        match scan_image_file(&path) {
            Err(e) => assert_eq!(e.code(), "invalid_image", "{name}: {e}"),
            Ok(codes) => panic!("{name}: read as an image: {codes:?}"),
        }
    };
    // A JPEG's start of image and nothing else; an empty file with a
    // photo's name; a format this build does not read.
    invalid("start.jpg", b"\xff\xd8\xff");
    invalid("empty.jpg", b"");
    invalid("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;");
    invalid("text.jpg", b"this is not a photo");
    // A header that claims a 65535 x 65535 image: refused before any
    // pixel buffer is allocated.
    let mut bomb = good.clone();
    let sof = bomb
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline frame header");
    bomb[sof + 5..sof + 9].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    invalid("bomb.jpg", &bomb);
    // Cut short or corrupted anywhere: an error or whatever could be
    // decoded, never a panic.
    for cut in (0..good.len()).step_by(193) {
        let path = dir.path().join("cut.jpg");
        std::fs::write(&path, &good[..cut]).unwrap();
        if let Err(e) = scan_image_file(&path) {
            assert_eq!(e.code(), "invalid_image", "cut at {cut}: {e}");
        }
    }
    for at in (2..good.len()).step_by(89) {
        let mut damaged = good.clone();
        damaged[at] ^= 0x5A;
        let path = dir.path().join("damaged.jpg");
        std::fs::write(&path, &damaged).unwrap();
        if let Err(e) = scan_image_file(&path) {
            assert_eq!(e.code(), "invalid_image", "byte {at}: {e}");
        }
    }
}

/// A decoder that "finds" one symbol at fixed coordinates, but only in an
/// image of a given width: it shows which view each pass decodes, and that
/// the scanner maps the corners back to the frame.
struct OnlyAtWidth(usize);

impl QrDecoder for OnlyAtWidth {
    fn name(&self) -> &'static str {
        "test"
    }
    fn decode(
        &self,
        image: LumaView<'_>,
        _: &DecodeHints,
    ) -> wallet_core::Result<Vec<DecodedSymbol>> {
        if image.width() != self.0 {
            return Ok(vec![]);
        }
        let p = |x, y| Point { x, y };
        Ok(vec![DecodedSymbol {
            text: "seen".into(),
            corners: [p(10.0, 10.0), p(30.0, 10.0), p(30.0, 30.0), p(10.0, 30.0)],
            inverted: false,
        }])
    }
}

#[test]
fn the_decoder_is_a_seam_and_passes_map_back_to_the_frame() {
    let data = vec![128u8; 400 * 200];
    let pass = |view| wallet_core::qr::Pass {
        view,
        hints: DecodeHints::default(),
        only_if_nothing_found: false,
    };
    // Found in the half-size view: corners double.
    let halves = ScanStrategy {
        passes: vec![pass(View::Frame), pass(View::Downscaled(2))],
    };
    let scanner = Scanner::with(Box::new(OnlyAtWidth(200)), halves);
    let codes = scanner.scan_frame(&data, 400, 200, 400, 0).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].corners[0], Point { x: 20.0, y: 20.0 });
    assert_eq!(codes[0].corners[2], Point { x: 60.0, y: 60.0 });
    // The same symbol seen by two passes is reported once.
    let twice = ScanStrategy {
        passes: vec![pass(View::Frame), pass(View::Frame)],
    };
    let scanner = Scanner::with(Box::new(OnlyAtWidth(400)), twice);
    assert_eq!(
        scanner.scan_frame(&data, 400, 200, 400, 0).unwrap().len(),
        1
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random bytes under random (often inconsistent) geometry: a typed
    /// error or a result, never a panic.
    #[test]
    fn random_frames_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..4096),
        width in 0u32..80,
        height in 0u32..80,
        extra_stride in 0u32..8,
        stride_short in any::<bool>(),
        rotation in prop_oneof![Just(0u32), Just(90), Just(180), Just(270), any::<u32>()],
    ) {
        let stride = if stride_short { width.saturating_sub(1) } else { width + extra_stride };
        match scan_frame(&data, width, height, stride, rotation) {
            Ok(codes) => {
                for c in codes {
                    for p in c.corners {
                        prop_assert!(p.x >= 0.0 && p.y >= 0.0 && p.x <= width as f32 && p.y <= height as f32);
                    }
                }
            }
            Err(e) => prop_assert_eq!(e.code(), "invalid_frame"),
        }
    }

    /// Frames of one colour, stripes and checkerboards (finder-pattern-like
    /// structure with no code) at any size.
    #[test]
    fn structured_frames_never_panic(
        width in 1u32..300,
        height in 1u32..300,
        period in 1usize..9,
        kind in 0u8..4,
    ) {
        let (w, h) = (width as usize, height as usize);
        let data: Vec<u8> = (0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let on = match kind {
                    0 => false,
                    1 => (x / period) % 2 == 0,
                    2 => ((x / period) + (y / period)) % 2 == 0,
                    _ => (x / period) % 3 == 0 || (y / period) % 3 == 0,
                };
                if on { 0 } else { 255 }
            })
            .collect();
        prop_assert!(scan_frame(&data, width, height, width, 0).is_ok());
    }
}
