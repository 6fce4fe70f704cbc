#!/usr/bin/env bash
# Fills android/local-maven-repo/ for packing: the Android library (android-lib: Rust core
# for every ABI, generated Kotlin bindings) published as dev.localfirst:localfirst-android.
# Needs the Android SDK and NDK, cargo-ndk and Gradle with Google's Maven.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)/expo-module/android/local-maven-repo"
(cd android-lib && gradle publishReleasePublicationToMavenRepository -PlocalMavenRepo="$repo")
