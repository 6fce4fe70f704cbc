// Standalone Gradle build of the Android library (AAR). Not built in this repository's
// CI: the Android Gradle Plugin is only on Google's Maven. See docs/BINDINGS.md.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "localfirst-android"
