using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Rpm.Simd;

/// <summary>
/// Allocates arrays on the pinned object heap with the usable part starting on a cache line, so that vector loads of
/// rows whose length is a multiple of the line never straddle two lines. Pinned arrays never move, so the offset stays right.
/// </summary>
internal static class AlignedArray
{
    /// <summary>The alignment, in bytes: one cache line, one 512-bit vector.</summary>
    internal const int Alignment = 64;

    /// <summary>Allocates a pinned array with room for <paramref name="length"/> aligned elements.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">The number of usable elements.</param>
    /// <param name="zeroed">Whether the memory must start zeroed.</param>
    /// <param name="offset">The index of the first aligned element.</param>
    /// <returns>The array.</returns>
    internal static unsafe T[] Allocate<T>(int length, bool zeroed, out int offset)
        where T : unmanaged
    {
        int slack = Alignment / sizeof(T);
        int total = checked(length + slack);
        T[] array = zeroed ? GC.AllocateArray<T>(total, pinned: true) : GC.AllocateUninitializedArray<T>(total, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(array));
        offset = (int)(((Alignment - (address & (Alignment - 1))) & (Alignment - 1)) / sizeof(T));
        return array;
    }

    /// <summary>Returns the part of a buffer that starts on a cache line; for stack memory only (it must not move).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="buffer">Stack memory at least <c>length + Alignment / sizeof(T)</c> elements long.</param>
    /// <param name="length">The number of elements wanted.</param>
    /// <returns>The aligned slice.</returns>
    internal static unsafe Span<T> AlignStack<T>(Span<T> buffer, int length)
        where T : unmanaged
    {
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(buffer));
        int offset = (int)(((Alignment - (address & (Alignment - 1))) & (Alignment - 1)) / sizeof(T));
        return buffer.Slice(offset, length);
    }
}
