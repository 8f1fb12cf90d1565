// swift-tools-version:5.9
// The Itinera SDK for iOS: the generated Swift bindings over the XCFramework that
// build-xcframework.sh makes from itinera-bindings.
import PackageDescription

let package = Package(
    name: "Itinera",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Itinera", targets: ["Itinera"]),
    ],
    targets: [
        .binaryTarget(name: "itineraFFI", path: "build/itineraFFI.xcframework"),
        .target(name: "Itinera", dependencies: ["itineraFFI"], path: "Sources/Itinera"),
    ]
)
