using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Rpm.Simd;

/// <summary>The integer dot-product path of the compact (int8) search; tests force each one.</summary>
internal enum Int8Path
{
    /// <summary>Plain scalar code.</summary>
    Scalar = 0,

    /// <summary>128-bit vectors: sign-extend to 16 bits, multiply, widen and add (portable).</summary>
    Vector128 = 1,

    /// <summary>256-bit AVX2: sign-extend to 16 bits and multiply-add adjacent pairs into 32 bits.</summary>
    Vector256 = 2,

    /// <summary>256-bit AVX-VNNI: unsigned-by-signed byte dot products straight into 32 bits (the query is offset by 128).</summary>
    Vector256Vnni = 3,

    /// <summary>512-bit AVX-512BW: sign-extend to 16 bits and multiply-add adjacent pairs into 32 bits.</summary>
    Vector512 = 4,
}

/// <summary>
/// Integer dot products of a quantized query against int8 rows whose stride is a multiple of
/// <see cref="StrideAlignment"/> bytes (zero-padded), so no path needs a tail. Four rows per pass share each query load.
/// </summary>
internal static class Int8Kernels
{
    /// <summary>Row strides (and the prepared query) are padded with zeros to a multiple of this many bytes.</summary>
    internal const int StrideAlignment = 64;

    /// <summary>The fastest path this machine supports (AVX-VNNI measured ahead of AVX-512BW widening on Zen 5).</summary>
    internal static readonly Int8Path Best =
        IsSupported(Int8Path.Vector256Vnni) ? Int8Path.Vector256Vnni
        : IsSupported(Int8Path.Vector512) ? Int8Path.Vector512
        : IsSupported(Int8Path.Vector256) ? Int8Path.Vector256
        : IsSupported(Int8Path.Vector128) ? Int8Path.Vector128
        : Int8Path.Scalar;

    /// <summary>Tells whether this machine can run a path.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> when it can.</returns>
    internal static bool IsSupported(Int8Path path) => path switch
    {
        Int8Path.Vector512 => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        Int8Path.Vector256Vnni => AvxVnni.IsSupported,
        Int8Path.Vector256 => Avx2.IsSupported,
        Int8Path.Vector128 => Vector128.IsHardwareAccelerated,
        _ => true,
    };

    /// <summary>Gets whether a path wants the query as unsigned bytes offset by 128 rather than as 16-bit integers.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for the VNNI path.</returns>
    internal static bool UsesOffsetQuery(Int8Path path) => path == Int8Path.Vector256Vnni;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Sum4(Vector128<int> x0, Vector128<int> x1, Vector128<int> x2, Vector128<int> x3)
    {
        if (Ssse3.IsSupported)
        {
            return Ssse3.HorizontalAdd(Ssse3.HorizontalAdd(x0, x1), Ssse3.HorizontalAdd(x2, x3));
        }

        return Vector128.Create(Vector128.Sum(x0), Vector128.Sum(x1), Vector128.Sum(x2), Vector128.Sum(x3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Fold(Vector512<int> v)
    {
        Vector256<int> half = v.GetLower() + v.GetUpper();
        return half.GetLower() + half.GetUpper();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Fold(Vector256<int> v) => v.GetLower() + v.GetUpper();
}

/// <summary>An integer dot-product kernel of one path, specialized by the JIT through a struct type argument.</summary>
internal interface IInt8RowKernel
{
    /// <summary>Computes the dot products of the prepared query with four consecutive rows, <paramref name="stride"/> bytes apart.</summary>
    static abstract Vector128<int> Dot4(ref byte query, ref sbyte rows, nuint stride);

    /// <summary>Computes the dot product of the prepared query with one row.</summary>
    static abstract int Dot1(ref byte query, ref sbyte row, nuint stride);
}

/// <summary>AVX-512BW: 32 codes per step, sign-extended to 16 bits (<c>vpmovsxbw</c>) and multiplied pairwise (<c>vpmaddwd</c>).</summary>
internal readonly struct Int8Widen512 : IInt8RowKernel
{
    public static Vector128<int> Dot4(ref byte query, ref sbyte rows, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        ref sbyte r0 = ref rows;
        ref sbyte r1 = ref Unsafe.Add(ref rows, stride);
        ref sbyte r2 = ref Unsafe.Add(ref rows, 2 * stride);
        ref sbyte r3 = ref Unsafe.Add(ref rows, 3 * stride);
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<int> b0 = default, b1 = default, b2 = default, b3 = default;
        for (nuint i = 0; i < stride; i += 64)
        {
            Vector512<short> q0 = Vector512.LoadUnsafe(ref q, i);
            Vector512<short> q1 = Vector512.LoadUnsafe(ref q, i + 32);
            a0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r0, i)), q0);
            a1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r1, i)), q0);
            a2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r2, i)), q0);
            a3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r3, i)), q0);
            b0 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r0, i + 32)), q1);
            b1 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r1, i + 32)), q1);
            b2 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r2, i + 32)), q1);
            b3 += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref r3, i + 32)), q1);
        }

        return Int8Kernels.Sum4(Int8Kernels.Fold(a0 + b0), Int8Kernels.Fold(a1 + b1), Int8Kernels.Fold(a2 + b2), Int8Kernels.Fold(a3 + b3));
    }

    public static int Dot1(ref byte query, ref sbyte row, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        Vector512<int> a = default;
        for (nuint i = 0; i < stride; i += 32)
        {
            a += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.LoadUnsafe(ref row, i)), Vector512.LoadUnsafe(ref q, i));
        }

        return Vector512.Sum(a);
    }
}

/// <summary>AVX-VNNI: 32 codes per step into 32-bit lanes with one <c>vpdpbusd</c>; the query is unsigned (code + 128).</summary>
internal readonly struct Int8Vnni256 : IInt8RowKernel
{
    public static Vector128<int> Dot4(ref byte query, ref sbyte rows, nuint stride)
    {
        ref sbyte r0 = ref rows;
        ref sbyte r1 = ref Unsafe.Add(ref rows, stride);
        ref sbyte r2 = ref Unsafe.Add(ref rows, 2 * stride);
        ref sbyte r3 = ref Unsafe.Add(ref rows, 3 * stride);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<int> b0 = default, b1 = default, b2 = default, b3 = default;
        for (nuint i = 0; i < stride; i += 64)
        {
            Vector256<byte> q0 = Vector256.LoadUnsafe(ref query, i);
            Vector256<byte> q1 = Vector256.LoadUnsafe(ref query, i + 32);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, q0, Vector256.LoadUnsafe(ref r0, i));
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, q0, Vector256.LoadUnsafe(ref r1, i));
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, q0, Vector256.LoadUnsafe(ref r2, i));
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, q0, Vector256.LoadUnsafe(ref r3, i));
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, q1, Vector256.LoadUnsafe(ref r0, i + 32));
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, q1, Vector256.LoadUnsafe(ref r1, i + 32));
            b2 = AvxVnni.MultiplyWideningAndAdd(b2, q1, Vector256.LoadUnsafe(ref r2, i + 32));
            b3 = AvxVnni.MultiplyWideningAndAdd(b3, q1, Vector256.LoadUnsafe(ref r3, i + 32));
        }

        return Int8Kernels.Sum4(Int8Kernels.Fold(a0 + b0), Int8Kernels.Fold(a1 + b1), Int8Kernels.Fold(a2 + b2), Int8Kernels.Fold(a3 + b3));
    }

    public static int Dot1(ref byte query, ref sbyte row, nuint stride)
    {
        Vector256<int> a = default;
        for (nuint i = 0; i < stride; i += 32)
        {
            a = AvxVnni.MultiplyWideningAndAdd(a, Vector256.LoadUnsafe(ref query, i), Vector256.LoadUnsafe(ref row, i));
        }

        return Vector256.Sum(a);
    }
}

/// <summary>AVX2: 16 codes per step, sign-extended to 16 bits (<c>vpmovsxbw</c>) and multiplied pairwise (<c>vpmaddwd</c>).</summary>
internal readonly struct Int8Widen256 : IInt8RowKernel
{
    public static Vector128<int> Dot4(ref byte query, ref sbyte rows, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        ref sbyte r0 = ref rows;
        ref sbyte r1 = ref Unsafe.Add(ref rows, stride);
        ref sbyte r2 = ref Unsafe.Add(ref rows, 2 * stride);
        ref sbyte r3 = ref Unsafe.Add(ref rows, 3 * stride);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<int> b0 = default, b1 = default, b2 = default, b3 = default;
        for (nuint i = 0; i < stride; i += 32)
        {
            Vector256<short> q0 = Vector256.LoadUnsafe(ref q, i);
            Vector256<short> q1 = Vector256.LoadUnsafe(ref q, i + 16);
            a0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r0, i)), q0);
            a1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r1, i)), q0);
            a2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r2, i)), q0);
            a3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r3, i)), q0);
            b0 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r0, i + 16)), q1);
            b1 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r1, i + 16)), q1);
            b2 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r2, i + 16)), q1);
            b3 += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref r3, i + 16)), q1);
        }

        return Int8Kernels.Sum4(Int8Kernels.Fold(a0 + b0), Int8Kernels.Fold(a1 + b1), Int8Kernels.Fold(a2 + b2), Int8Kernels.Fold(a3 + b3));
    }

    public static int Dot1(ref byte query, ref sbyte row, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        Vector256<int> a = default;
        for (nuint i = 0; i < stride; i += 16)
        {
            a += Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(Vector128.LoadUnsafe(ref row, i)), Vector256.LoadUnsafe(ref q, i));
        }

        return Vector256.Sum(a);
    }
}

/// <summary>
/// Portable 128-bit: 16 codes per step, sign-extended to 16 bits; products of codes in [-127, 127] fit in 16 bits, so
/// they are formed there and widened to 32 bits to add (<c>pmaddwd</c> on x86).
/// </summary>
internal readonly struct Int8Widen128 : IInt8RowKernel
{
    public static Vector128<int> Dot4(ref byte query, ref sbyte rows, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        ref sbyte r1 = ref Unsafe.Add(ref rows, stride);
        ref sbyte r2 = ref Unsafe.Add(ref rows, 2 * stride);
        ref sbyte r3 = ref Unsafe.Add(ref rows, 3 * stride);
        Vector128<int> a0 = default, a1 = default, a2 = default, a3 = default;
        for (nuint i = 0; i < stride; i += 16)
        {
            Vector128<short> qLow = Vector128.LoadUnsafe(ref q, i);
            Vector128<short> qHigh = Vector128.LoadUnsafe(ref q, i + 8);
            a0 += Step(Vector128.LoadUnsafe(ref rows, i), qLow, qHigh);
            a1 += Step(Vector128.LoadUnsafe(ref r1, i), qLow, qHigh);
            a2 += Step(Vector128.LoadUnsafe(ref r2, i), qLow, qHigh);
            a3 += Step(Vector128.LoadUnsafe(ref r3, i), qLow, qHigh);
        }

        return Int8Kernels.Sum4(a0, a1, a2, a3);
    }

    public static int Dot1(ref byte query, ref sbyte row, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        Vector128<int> a = default;
        for (nuint i = 0; i < stride; i += 16)
        {
            a += Step(Vector128.LoadUnsafe(ref row, i), Vector128.LoadUnsafe(ref q, i), Vector128.LoadUnsafe(ref q, i + 8));
        }

        return Vector128.Sum(a);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Step(Vector128<sbyte> codes, Vector128<short> qLow, Vector128<short> qHigh)
    {
        Vector128<short> low = Vector128.WidenLower(codes), high = Vector128.WidenUpper(codes);
        if (Sse2.IsSupported)
        {
            return Sse2.MultiplyAddAdjacent(low, qLow) + Sse2.MultiplyAddAdjacent(high, qHigh);
        }

        Vector128<short> pLow = low * qLow, pHigh = high * qHigh;
        return Vector128.WidenLower(pLow) + Vector128.WidenUpper(pLow) + Vector128.WidenLower(pHigh) + Vector128.WidenUpper(pHigh);
    }
}

/// <summary>The portable scalar fallback.</summary>
internal readonly struct Int8Scalar : IInt8RowKernel
{
    public static Vector128<int> Dot4(ref byte query, ref sbyte rows, nuint stride) => Vector128.Create(
        Dot1(ref query, ref rows, stride),
        Dot1(ref query, ref Unsafe.Add(ref rows, stride), stride),
        Dot1(ref query, ref Unsafe.Add(ref rows, 2 * stride), stride),
        Dot1(ref query, ref Unsafe.Add(ref rows, 3 * stride), stride));

    public static int Dot1(ref byte query, ref sbyte row, nuint stride)
    {
        ref short q = ref Unsafe.As<byte, short>(ref query);
        int sum = 0;
        for (nuint i = 0; i < stride; i++)
        {
            sum += Unsafe.Add(ref q, i) * Unsafe.Add(ref row, i);
        }

        return sum;
    }
}
