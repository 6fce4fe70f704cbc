#!/usr/bin/env bash
# Fills android/local-maven-repo/ for packing: the Android library (android-lib: Rust core
# for every ABI, generated Kotlin bindings) as dev.localfirst:localfirst-android:<version>,
# which android/build.gradle depends on. Needs the Android SDK and NDK, cargo-ndk, and Gradle
# with Google's Maven; none of them is reachable in this repository's CI.
#
# android-lib defines the Maven publication this script runs: `release` (the
# `maven-publish` plugin over `singleVariant("release")`), written to the repository
# given as -PlocalMavenRepo.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)/expo-module/android/local-maven-repo"
grep -q 'maven-publish' android-lib/build.gradle.kts || {
  echo "android-lib/build.gradle.kts has no maven-publish publication yet (see this script's header)" >&2
  exit 1
}
(cd android-lib && gradle publishReleasePublicationToMavenRepository -PlocalMavenRepo="$repo")
