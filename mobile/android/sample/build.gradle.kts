// A sales rep's account list with a sync button, on the Itinera SDK.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.itinera.sample"
    compileSdk = 35
    defaultConfig {
        applicationId = "com.itinera.sample"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        // The server and token of the rep; `serve --demo` prints one (user sam).
        buildConfigField("String", "ITINERA_SYNC_URL", "\"ws://10.0.2.2:8080/sync\"")
        buildConfigField("String", "ITINERA_TOKEN", "\"\"")
    }
    buildFeatures { buildConfig = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation(project(":itinera"))
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.8.1")
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
}
