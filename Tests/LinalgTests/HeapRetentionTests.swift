import Linalg
import Testing

struct HeapRetentionTests {
    /// The thresholds must take effect where the C library is glibc: a build that compiled the
    /// `mallopt` calls out (as one did while `__GLIBC__` was still undefined) reports false.
    @Test func thresholdsApplyUnderGlibc() {
        #if canImport(Glibc)
            #expect(HeapRetention.enable())
            #expect(HeapRetention.enable())  // idempotent
        #else
            #expect(!HeapRetention.enable())
        #endif
    }
}
