using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Rpm.Simd;

/// <summary>
/// Software prefetch of the next block of rows. Four rows read side by side look like four interleaved streams to the
/// hardware prefetcher, which then fetches too little ahead; asking for the next block's lines while scoring this one
/// brings a scan of a matrix larger than the caches back to the speed of a plain sequential read.
/// </summary>
internal static class Prefetcher
{
    /// <summary>Matrices at most this large are expected in the core's own caches, where prefetching only costs issue slots.</summary>
    internal const long ThresholdBytes = 2 * 1024 * 1024;

    /// <summary>Tells whether a scan over <paramref name="bytes"/> bytes should prefetch.</summary>
    /// <param name="bytes">The size of the scanned matrix.</param>
    /// <returns><see langword="true"/> when the matrix is larger than the threshold and the hardware has a prefetch instruction.</returns>
    internal static bool ShouldPrefetch(long bytes) => Sse.IsSupported && bytes > ThresholdBytes;

    /// <summary>Prefetches every cache line of a block into all cache levels.</summary>
    /// <param name="address">The block's first byte.</param>
    /// <param name="bytes">The block's length.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static unsafe void Prefetch(void* address, nuint bytes)
    {
        byte* p = (byte*)address;
        for (nuint offset = 0; offset < bytes; offset += 64)
        {
            Sse.Prefetch0(p + offset);
        }
    }
}
