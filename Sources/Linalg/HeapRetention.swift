import CKernels

/// Keeps freed heap memory in the process for reuse rather than handing it back to the kernel.
///
/// glibc serves blocks above an adaptive size (the largest block freed so far) with mappings of
/// their own and returns the free memory at the top of its heap to the kernel once it exceeds
/// about twice that size. A training step whose temporaries are a few hundred kilobytes each —
/// interval bounds through a convolution, for one — then has the kernel map and zero fresh pages
/// for them at every step. Raising both thresholds (blocks up to 32 MB from the heap, up to 1 GB
/// of free heap kept) lets those pages stay. Process-wide and idempotent; it changes no result,
/// only where memory comes from.
public enum HeapRetention {
    /// Applies the thresholds once per process (later calls do nothing); whether they hold.
    @discardableResult public static func enable() -> Bool { applied }

    private static let applied = gauntlet_retain_freed_heap()
}
