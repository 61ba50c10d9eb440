//! The macOS app bundle as a user would check it, without a Mac: `cargo tauri build` makes
//! `Hearth.app` for macOS 13 and later with the bundle identifier the login item and the
//! services' LaunchAgents name; `Info.plist` (merged into the bundle's) makes it a menu-bar app;
//! every icon named exists, and `icon.icns` holds a PNG of the size each of its types stands
//! for. Python's plistlib reads the Info.plist as macOS tools would; the `plist` crate reads it
//! as Tauri's bundler does.
//!
//! `UPDATE_EXPECT=1 cargo test -p hearth-app --test bundle` rewrites the snapshots.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{path::Path, process::Command};

use expect_test::expect;
use serde_json::Value;

/// src-tauri/, where tauri.conf.json and Info.plist are and icon paths start from.
fn here() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn config() -> Value {
    let text = std::fs::read_to_string(here().join("tauri.conf.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_bundle_is_a_mac_app_for_macos_13_with_hearths_identifier() {
    let config = config();
    let bundle = &config["bundle"];
    assert_eq!(
        bundle["active"], true,
        "`cargo tauri build` bundles nothing"
    );
    assert!(
        bundle["targets"]
            .as_array()
            .is_some_and(|targets| targets.iter().any(|target| target == "app")),
        "no .app among the targets: {}",
        bundle["targets"]
    );
    assert_eq!(
        config["productName"], "Hearth",
        "the bundle is <productName>.app"
    );
    // SMAppService (the login item) needs macOS 13.
    assert_eq!(bundle["macOS"]["minimumSystemVersion"], "13.0");
    // The login item and the LaunchAgents' AssociatedBundleIdentifiers name the app by this
    // identifier; another one would list the services under their programs' names.
    assert_eq!(config["identifier"], hearth_services::launchd::BUNDLE_ID);
}

/// Reads a plist with Python's plistlib and prints it as JSON.
const PLISTLIB_TO_JSON: &str = r#"
import json, plistlib, sys
print(json.dumps(plistlib.load(open(sys.argv[1], "rb")), indent=2, sort_keys=True))
"#;

/// What Tauri writes from tauri.conf.json; the same keys in Info.plist would replace them.
const TAURI_OWNS: &[&str] = &[
    "CFBundleDisplayName",
    "CFBundleExecutable",
    "CFBundleIconFile",
    "CFBundleIdentifier",
    "CFBundleName",
    "CFBundlePackageType",
    "CFBundleShortVersionString",
    "CFBundleVersion",
    "LSMinimumSystemVersion",
];

#[test]
fn the_info_plist_makes_a_menu_bar_app_and_leaves_tauris_keys_alone() {
    let path = here().join("Info.plist");
    let output = Command::new("python3")
        .args(["-c", PLISTLIB_TO_JSON])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "plistlib refused Info.plist ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    // Every key, so that nothing is declared that Hearth does not use.
    expect![[r#"
        {
          "LSUIElement": true,
          "NSAppTransportSecurity": {
            "NSAllowsLocalNetworking": true
          }
        }
    "#]]
    .assert_eq(&text);

    let read: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        read["LSUIElement"], true,
        "without it the Dock shows Hearth"
    );
    for key in TAURI_OWNS {
        assert!(
            read.get(key).is_none(),
            "{key} comes from tauri.conf.json; Info.plist would override it"
        );
    }
    // Tauri's bundler merges the file with the `plist` crate: it must read it too.
    let value = plist::Value::from_file(&path).unwrap();
    let dictionary = value.as_dictionary().unwrap();
    assert_eq!(dictionary["LSUIElement"].as_boolean(), Some(true));
}

/// The pixel size each ICNS type holds (the `@2x` types are Retina versions of a point size).
fn icns_size(kind: &str) -> Option<u32> {
    Some(match kind {
        "icp4" => 16,
        "icp5" | "ic11" => 32,
        "icp6" | "ic12" => 64,
        "ic07" => 128,
        "ic08" | "ic13" => 256,
        "ic09" | "ic14" => 512,
        "ic10" => 1024,
        _ => return None,
    })
}

/// An ICNS file: 'icns', its length, then entries of a type, a length (its 8-byte header
/// included) and the data. One line per entry; panics where the structure is wrong.
fn read_icns(bytes: &[u8]) -> String {
    let u32_at = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(&bytes[..4], b"icns", "not an ICNS file");
    assert_eq!(
        u32_at(4),
        bytes.len(),
        "the header's length is not the file's"
    );
    let mut lines = String::new();
    let mut at = 8;
    while at < bytes.len() {
        assert!(at + 8 <= bytes.len(), "a truncated entry header at {at}");
        let kind = std::str::from_utf8(&bytes[at..at + 4]).unwrap();
        let length = u32_at(at + 4);
        assert!(
            length > 8 && at + length <= bytes.len(),
            "{kind} at {at}: length {length} does not fit"
        );
        let data = &bytes[at + 8..at + length];
        assert!(
            data.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{kind} is not a PNG"
        );
        let image = tauri::image::Image::from_bytes(data).unwrap();
        let wanted = icns_size(kind);
        assert!(wanted.is_some(), "{kind} is not a type that holds a PNG");
        assert_eq!(
            Some((image.width(), image.height())),
            wanted.map(|side| (side, side)),
            "{kind} holds the wrong size"
        );
        lines += &format!("  {kind} {}x{}\n", image.width(), image.height());
        at += length;
    }
    lines
}

#[test]
fn every_icon_named_exists_and_the_icns_holds_each_size_as_a_png() {
    let config = config();
    let icons = config["bundle"]["icon"].as_array().unwrap();
    let mut found = String::new();
    for icon in icons {
        let name = icon.as_str().unwrap();
        let bytes = std::fs::read(here().join(name))
            .unwrap_or_else(|error| panic!("{name} is named in tauri.conf.json: {error}"));
        if name.ends_with(".icns") {
            found += &format!("{name}\n{}", read_icns(&bytes));
        } else {
            let image = tauri::image::Image::from_bytes(&bytes).unwrap();
            found += &format!("{name} {}x{}\n", image.width(), image.height());
        }
    }
    // The bundler uses the first .icns as is; the first .png is the windows' default icon.
    expect![[r#"
        ../icons/icon-32.png 32x32
        ../icons/icon-128.png 128x128
        ../icons/icon.png 512x512
        ../icons/icon.icns
          ic07 128x128
          ic08 256x256
          ic09 512x512
          ic10 1024x1024
          ic11 32x32
          ic12 64x64
          ic13 256x256
          ic14 512x512
    "#]]
    .assert_eq(&found);
}
