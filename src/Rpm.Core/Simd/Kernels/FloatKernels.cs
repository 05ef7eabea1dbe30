using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Rpm.Simd;

/// <summary>
/// Float dot-product kernels over row-major matrices: four rows per pass share each query load, two accumulators per
/// row hide the FMA latency, and the tail of a row whose length is not a multiple of the width is read as one
/// overlapping vector against a query tail whose already-counted lanes are zero.
/// </summary>
/// <remarks>
/// A row's score is computed by the same operations in the same order whether it is scored in a block of four
/// (<c>Dot4</c>) or alone (<c>Dot1</c>), so the float and the compact search return bitwise-equal scores.
/// </remarks>
internal static class FloatKernels
{
    /// <summary>The widest vector width this machine accelerates.</summary>
    internal static readonly KernelWidth Best =
        Vector512.IsHardwareAccelerated ? KernelWidth.Vector512
        : Vector256.IsHardwareAccelerated ? KernelWidth.Vector256
        : Vector128.IsHardwareAccelerated ? KernelWidth.Vector128
        : KernelWidth.Scalar;

    /// <summary>The largest vector width, in floats, of any path; the size of a query tail buffer.</summary>
    internal const int MaxLanes = 16;

    /// <summary>Picks the width to run: at most the requested and the hardware's, and no wider than a row.</summary>
    /// <param name="requested">The widest width allowed.</param>
    /// <param name="dimensions">The row length.</param>
    /// <returns>The width to run.</returns>
    internal static KernelWidth Resolve(KernelWidth requested, int dimensions)
    {
        KernelWidth width = requested < Best ? requested : Best;
        if (width == KernelWidth.Vector512 && dimensions < Vector512<float>.Count)
        {
            width = KernelWidth.Vector256;
        }

        if (width == KernelWidth.Vector256 && dimensions < Vector256<float>.Count)
        {
            width = KernelWidth.Vector128;
        }

        if (width == KernelWidth.Vector128 && dimensions < Vector128<float>.Count)
        {
            width = KernelWidth.Scalar;
        }

        return width;
    }

    /// <summary>Gets the number of float lanes of a width.</summary>
    /// <param name="width">The width.</param>
    /// <returns>The lanes; 1 for scalar.</returns>
    internal static int Lanes(KernelWidth width) => width switch
    {
        KernelWidth.Vector512 => Vector512<float>.Count,
        KernelWidth.Vector256 => Vector256<float>.Count,
        KernelWidth.Vector128 => Vector128<float>.Count,
        _ => 1,
    };

    /// <summary>
    /// Writes the query's last <c>lanes</c> floats to <paramref name="tail"/>, zeroing those already covered by the
    /// full vectors before them, so that the last (overlapping) row vector is counted once.
    /// </summary>
    /// <param name="query">The query.</param>
    /// <param name="width">The resolved width.</param>
    /// <param name="tail">At least <see cref="MaxLanes"/> floats.</param>
    internal static void PrepareTail(ReadOnlySpan<float> query, KernelWidth width, Span<float> tail)
    {
        tail.Clear();
        int lanes = Lanes(width);
        int remainder = query.Length % lanes;
        if (lanes == 1 || remainder == 0)
        {
            return;
        }

        query[^remainder..].CopyTo(tail[(lanes - remainder)..lanes]);
    }

    /// <summary>Scores every row and offers it to <paramref name="top"/>.</summary>
    /// <param name="width">The resolved width.</param>
    /// <param name="query">The query, one row long.</param>
    /// <param name="tail">The prepared query tail.</param>
    /// <param name="rows">The rows.</param>
    /// <param name="dimensions">The row length.</param>
    /// <param name="top">The collector.</param>
    internal static void Scan(KernelWidth width, scoped ReadOnlySpan<float> query, scoped ReadOnlySpan<float> tail, scoped ReadOnlySpan<float> rows, int dimensions, ref TopKCollector top)
    {
        switch (width)
        {
            case KernelWidth.Vector512:
                Scan<Float512>(query, tail, rows, dimensions, ref top);
                break;
            case KernelWidth.Vector256:
                Scan<Float256>(query, tail, rows, dimensions, ref top);
                break;
            case KernelWidth.Vector128:
                Scan<Float128>(query, tail, rows, dimensions, ref top);
                break;
            default:
                Scan<FloatScalar>(query, tail, rows, dimensions, ref top);
                break;
        }
    }

    /// <summary>Scores one row exactly as <see cref="Scan"/> would.</summary>
    /// <param name="width">The resolved width.</param>
    /// <param name="query">The query.</param>
    /// <param name="tail">The prepared query tail.</param>
    /// <param name="row">The row, as long as the query.</param>
    /// <returns>The dot product.</returns>
    internal static float Dot(KernelWidth width, ReadOnlySpan<float> query, ReadOnlySpan<float> tail, ReadOnlySpan<float> row)
    {
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float t = ref MemoryMarshal.GetReference(tail);
        ref float r = ref MemoryMarshal.GetReference(row);
        nuint d = (nuint)query.Length;
        return width switch
        {
            KernelWidth.Vector512 => Float512.Dot1(ref q, ref t, ref r, d),
            KernelWidth.Vector256 => Float256.Dot1(ref q, ref t, ref r, d),
            KernelWidth.Vector128 => Float128.Dot1(ref q, ref t, ref r, d),
            _ => FloatScalar.Dot1(ref q, ref t, ref r, d),
        };
    }

    private static unsafe void Scan<TKernel>(scoped ReadOnlySpan<float> query, scoped ReadOnlySpan<float> tail, scoped ReadOnlySpan<float> rows, int dimensions, ref TopKCollector top)
        where TKernel : struct, IFloatRowKernel
    {
        ref float q = ref MemoryMarshal.GetReference(query);
        ref float t = ref MemoryMarshal.GetReference(tail);
        nuint d = (nuint)dimensions;
        int count = rows.Length / dimensions;
        bool prefetch = Prefetcher.ShouldPrefetch((long)rows.Length * sizeof(float));
        fixed (float* start = rows)
        {
            float* r = start;
            int row = 0;
            for (; row <= count - 4; row += 4)
            {
                if (prefetch && row + 8 <= count)
                {
                    Prefetcher.Prefetch(r + (4 * d), 4 * d * sizeof(float));
                }

                Vector128<float> scores = TKernel.Dot4(ref q, ref t, ref *r, d);
                top.Offer4(scores, row);
                r += 4 * d;
            }

            for (; row < count; row++)
            {
                top.Offer(TKernel.Dot1(ref q, ref t, ref *r, d), row);
                r += d;
            }
        }
    }

    /// <summary>Adds pairs of lanes: <c>[a0+a1, a2+a3, b0+b1, b2+b3]</c>, the same on every platform.</summary>
    /// <param name="a">The first vector.</param>
    /// <param name="b">The second vector.</param>
    /// <returns>The pairwise sums.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> AddPairs(Vector128<float> a, Vector128<float> b)
    {
        if (Sse3.IsSupported)
        {
            return Sse3.HorizontalAdd(a, b);
        }

        if (AdvSimd.Arm64.IsSupported)
        {
            return AdvSimd.Arm64.AddPairwise(a, b);
        }

        return Vector128.Create(a[0] + a[1], a[2] + a[3], b[0] + b[1], b[2] + b[3]);
    }

    /// <summary>Sums each of four vectors: lane i of the result is <c>(v0+v1)+(v2+v3)</c> of vector i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Sum4(Vector128<float> x0, Vector128<float> x1, Vector128<float> x2, Vector128<float> x3) =>
        AddPairs(AddPairs(x0, x1), AddPairs(x2, x3));

    /// <summary>Sums one vector in the same order as <see cref="Sum4"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum1(Vector128<float> x) => (x.GetElement(0) + x.GetElement(1)) + (x.GetElement(2) + x.GetElement(3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Fold(Vector512<float> v)
    {
        Vector256<float> half = v.GetLower() + v.GetUpper();
        return half.GetLower() + half.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Fold(Vector256<float> v) => v.GetLower() + v.GetUpper();
}

/// <summary>A dot-product kernel of one vector width, specialized by the JIT through a struct type argument.</summary>
internal interface IFloatRowKernel
{
    /// <summary>Scores four consecutive rows starting at <paramref name="rows"/>, <paramref name="d"/> floats apart.</summary>
    static abstract Vector128<float> Dot4(ref float query, ref float tail, ref float rows, nuint d);

    /// <summary>Scores one row with the same operations, in the same order, as <see cref="Dot4"/>.</summary>
    static abstract float Dot1(ref float query, ref float tail, ref float row, nuint d);
}

internal readonly struct Float512 : IFloatRowKernel
{
    private const int N = 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Dot4(ref float query, ref float tail, ref float rows, nuint d)
    {
        ref float r0 = ref rows;
        ref float r1 = ref Unsafe.Add(ref rows, d);
        ref float r2 = ref Unsafe.Add(ref rows, 2 * d);
        ref float r3 = ref Unsafe.Add(ref rows, 3 * d);
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            Vector512<float> q0 = Vector512.LoadUnsafe(ref query, i);
            Vector512<float> q1 = Vector512.LoadUnsafe(ref query, i + N);
            a0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r0, i), q0, a0);
            a1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r1, i), q0, a1);
            a2 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r2, i), q0, a2);
            a3 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r3, i), q0, a3);
            b0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r0, i + N), q1, b0);
            b1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r1, i + N), q1, b1);
            b2 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r2, i + N), q1, b2);
            b3 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r3, i + N), q1, b3);
        }

        if (i < full)
        {
            Vector512<float> q0 = Vector512.LoadUnsafe(ref query, i);
            a0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r0, i), q0, a0);
            a1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r1, i), q0, a1);
            a2 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r2, i), q0, a2);
            a3 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r3, i), q0, a3);
        }

        if (full != d)
        {
            nuint t = d - N;
            Vector512<float> qt = Vector512.LoadUnsafe(ref tail);
            b0 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r0, t), qt, b0);
            b1 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r1, t), qt, b1);
            b2 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r2, t), qt, b2);
            b3 = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref r3, t), qt, b3);
        }

        return FloatKernels.Sum4(FloatKernels.Fold(a0 + b0), FloatKernels.Fold(a1 + b1), FloatKernels.Fold(a2 + b2), FloatKernels.Fold(a3 + b3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot1(ref float query, ref float tail, ref float row, nuint d)
    {
        Vector512<float> a = default, b = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            a = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref row, i), Vector512.LoadUnsafe(ref query, i), a);
            b = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref row, i + N), Vector512.LoadUnsafe(ref query, i + N), b);
        }

        if (i < full)
        {
            a = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref row, i), Vector512.LoadUnsafe(ref query, i), a);
        }

        if (full != d)
        {
            b = Vector512.MultiplyAddEstimate(Vector512.LoadUnsafe(ref row, d - N), Vector512.LoadUnsafe(ref tail), b);
        }

        return FloatKernels.Sum1(FloatKernels.Fold(a + b));
    }
}

internal readonly struct Float256 : IFloatRowKernel
{
    private const int N = 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Dot4(ref float query, ref float tail, ref float rows, nuint d)
    {
        ref float r0 = ref rows;
        ref float r1 = ref Unsafe.Add(ref rows, d);
        ref float r2 = ref Unsafe.Add(ref rows, 2 * d);
        ref float r3 = ref Unsafe.Add(ref rows, 3 * d);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            Vector256<float> q0 = Vector256.LoadUnsafe(ref query, i);
            Vector256<float> q1 = Vector256.LoadUnsafe(ref query, i + N);
            a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r0, i), q0, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r1, i), q0, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r2, i), q0, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r3, i), q0, a3);
            b0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r0, i + N), q1, b0);
            b1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r1, i + N), q1, b1);
            b2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r2, i + N), q1, b2);
            b3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r3, i + N), q1, b3);
        }

        if (i < full)
        {
            Vector256<float> q0 = Vector256.LoadUnsafe(ref query, i);
            a0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r0, i), q0, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r1, i), q0, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r2, i), q0, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r3, i), q0, a3);
        }

        if (full != d)
        {
            nuint t = d - N;
            Vector256<float> qt = Vector256.LoadUnsafe(ref tail);
            b0 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r0, t), qt, b0);
            b1 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r1, t), qt, b1);
            b2 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r2, t), qt, b2);
            b3 = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref r3, t), qt, b3);
        }

        return FloatKernels.Sum4(FloatKernels.Fold(a0 + b0), FloatKernels.Fold(a1 + b1), FloatKernels.Fold(a2 + b2), FloatKernels.Fold(a3 + b3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot1(ref float query, ref float tail, ref float row, nuint d)
    {
        Vector256<float> a = default, b = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            a = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i), Vector256.LoadUnsafe(ref query, i), a);
            b = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i + N), Vector256.LoadUnsafe(ref query, i + N), b);
        }

        if (i < full)
        {
            a = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, i), Vector256.LoadUnsafe(ref query, i), a);
        }

        if (full != d)
        {
            b = Vector256.MultiplyAddEstimate(Vector256.LoadUnsafe(ref row, d - N), Vector256.LoadUnsafe(ref tail), b);
        }

        return FloatKernels.Sum1(FloatKernels.Fold(a + b));
    }
}

internal readonly struct Float128 : IFloatRowKernel
{
    private const int N = 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Dot4(ref float query, ref float tail, ref float rows, nuint d)
    {
        ref float r0 = ref rows;
        ref float r1 = ref Unsafe.Add(ref rows, d);
        ref float r2 = ref Unsafe.Add(ref rows, 2 * d);
        ref float r3 = ref Unsafe.Add(ref rows, 3 * d);
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector128<float> b0 = default, b1 = default, b2 = default, b3 = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            Vector128<float> q0 = Vector128.LoadUnsafe(ref query, i);
            Vector128<float> q1 = Vector128.LoadUnsafe(ref query, i + N);
            a0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r0, i), q0, a0);
            a1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r1, i), q0, a1);
            a2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r2, i), q0, a2);
            a3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r3, i), q0, a3);
            b0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r0, i + N), q1, b0);
            b1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r1, i + N), q1, b1);
            b2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r2, i + N), q1, b2);
            b3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r3, i + N), q1, b3);
        }

        if (i < full)
        {
            Vector128<float> q0 = Vector128.LoadUnsafe(ref query, i);
            a0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r0, i), q0, a0);
            a1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r1, i), q0, a1);
            a2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r2, i), q0, a2);
            a3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r3, i), q0, a3);
        }

        if (full != d)
        {
            nuint t = d - N;
            Vector128<float> qt = Vector128.LoadUnsafe(ref tail);
            b0 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r0, t), qt, b0);
            b1 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r1, t), qt, b1);
            b2 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r2, t), qt, b2);
            b3 = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref r3, t), qt, b3);
        }

        return FloatKernels.Sum4(a0 + b0, a1 + b1, a2 + b2, a3 + b3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot1(ref float query, ref float tail, ref float row, nuint d)
    {
        Vector128<float> a = default, b = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            a = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref row, i), Vector128.LoadUnsafe(ref query, i), a);
            b = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref row, i + N), Vector128.LoadUnsafe(ref query, i + N), b);
        }

        if (i < full)
        {
            a = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref row, i), Vector128.LoadUnsafe(ref query, i), a);
        }

        if (full != d)
        {
            b = Vector128.MultiplyAddEstimate(Vector128.LoadUnsafe(ref row, d - N), Vector128.LoadUnsafe(ref tail), b);
        }

        return FloatKernels.Sum1(a + b);
    }
}

/// <summary>The portable fallback: one float accumulator per row, no fused multiply-add.</summary>
internal readonly struct FloatScalar : IFloatRowKernel
{
    public static Vector128<float> Dot4(ref float query, ref float tail, ref float rows, nuint d)
    {
        ref float r1 = ref Unsafe.Add(ref rows, d);
        ref float r2 = ref Unsafe.Add(ref rows, 2 * d);
        ref float r3 = ref Unsafe.Add(ref rows, 3 * d);
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (nuint i = 0; i < d; i++)
        {
            float q = Unsafe.Add(ref query, i);
            s0 += q * Unsafe.Add(ref rows, i);
            s1 += q * Unsafe.Add(ref r1, i);
            s2 += q * Unsafe.Add(ref r2, i);
            s3 += q * Unsafe.Add(ref r3, i);
        }

        return Vector128.Create(s0, s1, s2, s3);
    }

    public static float Dot1(ref float query, ref float tail, ref float row, nuint d)
    {
        float s = 0;
        for (nuint i = 0; i < d; i++)
        {
            s += Unsafe.Add(ref query, i) * Unsafe.Add(ref row, i);
        }

        return s;
    }
}
