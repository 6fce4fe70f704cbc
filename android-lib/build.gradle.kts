// The localfirst Android library: the Rust core (cargo-ndk, one .so per ABI), the
// Kotlin bindings generated with android = true, and the hand-written Kotlin layer.
// Written to the platform's standards; not built here (no Google Maven, no NDK).

plugins {
    id("com.android.library") version "8.7.3"
    id("org.jetbrains.kotlin.android") version "2.4.21"
    `maven-publish`
}

val repoRoot = rootDir.parentFile
val generatedKotlin = layout.buildDirectory.dir("generated/uniffi/kotlin")
val jniLibsDir = layout.projectDirectory.dir("src/main/jniLibs")

android {
    namespace = "dev.localfirst"
    compileSdk = 36

    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }

    sourceSets {
        getByName("main") {
            // Shared with the desktop-JVM build (android-lib/jvm), plus Android-only code.
            kotlin.srcDirs("src/main/kotlin", "src/android/kotlin", generatedKotlin)
            jniLibs.srcDirs(jniLibsDir)
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    packaging {
        // Keep the .so files page-aligned in the APK (16 KB pages, Android 15+).
        jniLibs.useLegacyPackaging = false
    }

    publishing {
        singleVariant("release") {
            withSourcesJar()
        }
    }
}

// The AAR as dev.localfirst:localfirst-android (the Expo module's Android side depends on
// it; expo-module/scripts/vendor-android.sh publishes it into the module's local repo
// with -PlocalMavenRepo=DIR; without it, into build/repo).
publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "dev.localfirst"
            artifactId = "localfirst-android"
            version = (findProperty("localfirstVersion") as String?) ?: "0.1.0"
            afterEvaluate {
                from(components["release"])
            }
        }
    }
    repositories {
        maven {
            url = uri((findProperty("localMavenRepo") as String?) ?: layout.buildDirectory.dir("repo").get().asFile.path)
        }
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    // JNA's Android build (with libjnidispatch for every ABI, 16 KB aligned since 5.15).
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
    implementation("androidx.annotation:annotation:1.9.1")
    // PasskeyBackup: Credential Manager, and its Google Play services provider for
    // Android 9 to 13 (Android 14+ has the framework's own).
    implementation("androidx.credentials:credentials:1.5.0")
    implementation("androidx.credentials:credentials-play-services-auth:1.5.0")
}

// Builds the release library for every shipped ABI into src/main/jniLibs with
// cargo-ndk (cargo install cargo-ndk; ANDROID_NDK_HOME set) with the workspace's size
// profile, linked for 16 KB pages and with packed relocations (docs/PERFORMANCE.md).
// The shipped flavour: no `testing` feature, so no test code in the AAR.
val cargoNdk by tasks.registering(Exec::class) {
    group = "build"
    description = "Builds liblocalfirst_ffi.so for arm64-v8a, armeabi-v7a and x86_64"
    workingDir = repoRoot
    environment(
        "RUSTFLAGS",
        "-C link-arg=-Wl,-z,max-page-size=16384 -C link-arg=-Wl,--pack-dyn-relocs=android",
    )
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "--platform", "24",
        "-o", jniLibsDir.asFile.absolutePath,
        "build", "--profile", "release-size", "-p", "localfirst-ffi", "--lib", "--no-default-features", "--locked",
    )
}

// Generates the Kotlin bindings (android = true) from the unstripped host library of
// the shipped flavour (gen-bindings.sh without --testing), matching the cargo-ndk build.
val generateBindings by tasks.registering(Exec::class) {
    group = "build"
    description = "Generates the UniFFI Kotlin sources into build/generated/uniffi/kotlin"
    workingDir = repoRoot
    commandLine("bash", "scripts/gen-bindings.sh")
    outputs.dir(generatedKotlin)
}

tasks.named("preBuild") {
    dependsOn(generateBindings, cargoNdk)
}
