require 'json'

package = JSON.parse(File.read(File.join(__dir__, '..', 'package.json')))

# The Expo module's iOS side: the module (ExpoLocalFirstModule.swift), the localfirst Swift
# bindings (generated + hand-written layer) and the Rust core as a static XCFramework.
# vendor/ is filled by `npm run vendor:ios` (expo-module/scripts/vendor-ios.sh, on macOS)
# before the package is packed; it is not in git. Written, not built, in this repository.
Pod::Spec.new do |s|
  s.name           = 'ExpoLocalFirst'
  s.version        = package['version']
  s.summary        = package['description']
  s.description    = package['description']
  s.license        = package['license']
  s.author         = 'localfirst'
  s.homepage       = 'https://localfirst.dev'
  s.platforms      = { :ios => '15.1' }
  s.swift_version  = '5.9'
  s.source         = { git: '' }
  s.static_framework = true

  s.dependency 'ExpoModulesCore'

  s.source_files = '*.swift', 'vendor/LocalFirst/**/*.swift'
  # Headers/LocalFirstFFI/module.modulemap inside the XCFramework (not a flat module map,
  # which collides with other XCFrameworks in one app).
  s.vendored_frameworks = 'vendor/LocalFirstFFI.xcframework'
  s.pod_target_xcconfig = {
    'DEFINES_MODULE' => 'YES',
    'SWIFT_COMPILATION_MODE' => 'wholemodule',
    # UniFFI 0.32.2's generated Swift needs Swift 5 language mode (see swift-package/Package.swift).
    'SWIFT_VERSION' => '5.0'
  }
end
