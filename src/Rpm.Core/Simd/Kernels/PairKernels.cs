using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Rpm.Simd;

/// <summary>
/// Cosine similarity of two vectors that need not be normalized, in one pass: the dot product and both squared norms
/// are accumulated together, two independent accumulators each so consecutive fused multiply-adds do not wait on one
/// another, and the tail is one overlapping vector with its already-counted lanes masked off.
/// </summary>
internal static class PairKernels
{
    /// <summary>Computes the cosine similarity; 0 when either vector is zero, NaN when either holds NaN.</summary>
    /// <param name="width">The resolved width (see <see cref="FloatKernels.Resolve"/>).</param>
    /// <param name="x">The first vector.</param>
    /// <param name="y">The second vector, as long as <paramref name="x"/>.</param>
    /// <returns>The cosine similarity.</returns>
    internal static float CosineSimilarity(KernelWidth width, ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        nuint d = (nuint)x.Length;
        Vector128<float> sums = width switch
        {
            KernelWidth.Vector512 => Sums512(ref xr, ref yr, d),
            KernelWidth.Vector256 => Sums256(ref xr, ref yr, d),
            KernelWidth.Vector128 => Sums128(ref xr, ref yr, d),
            _ => SumsScalar(ref xr, ref yr, d),
        };

        float dot = sums.GetElement(0), xx = sums.GetElement(1), yy = sums.GetElement(2);
        if (!float.IsFinite(xx) || !float.IsFinite(yy) || xx < 1e-30f || yy < 1e-30f)
        {
            // Squares overflowed, underflowed, or the input holds NaN or an infinity: redo it in double.
            return Precise(x, y);
        }

        return dot / (MathF.Sqrt(xx) * MathF.Sqrt(yy));
    }

    private static float Precise(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double maxX = 0, maxY = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (float.IsNaN(x[i]) || float.IsNaN(y[i]))
            {
                return float.NaN;
            }

            maxX = Math.Max(maxX, Math.Abs((double)x[i]));
            maxY = Math.Max(maxY, Math.Abs((double)y[i]));
        }

        if (maxX == 0 || maxY == 0)
        {
            return 0;
        }

        if (double.IsInfinity(maxX) || double.IsInfinity(maxY))
        {
            return float.NaN;
        }

        double dot = 0, xx = 0, yy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double a = x[i] / maxX, b = y[i] / maxY;
            dot += a * b;
            xx += a * a;
            yy += b * b;
        }

        return (float)(dot / Math.Sqrt(xx * yy));
    }

    // Returns [dot, xx, yy, 0].
    private static Vector128<float> Sums512(ref float x, ref float y, nuint d)
    {
        const int N = 16;
        Vector512<float> dot0 = default, dot1 = default, xx0 = default, xx1 = default, yy0 = default, yy1 = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            Vector512<float> x0 = Vector512.LoadUnsafe(ref x, i), y0 = Vector512.LoadUnsafe(ref y, i);
            Vector512<float> x1 = Vector512.LoadUnsafe(ref x, i + N), y1 = Vector512.LoadUnsafe(ref y, i + N);
            dot0 = Vector512.MultiplyAddEstimate(x0, y0, dot0);
            xx0 = Vector512.MultiplyAddEstimate(x0, x0, xx0);
            yy0 = Vector512.MultiplyAddEstimate(y0, y0, yy0);
            dot1 = Vector512.MultiplyAddEstimate(x1, y1, dot1);
            xx1 = Vector512.MultiplyAddEstimate(x1, x1, xx1);
            yy1 = Vector512.MultiplyAddEstimate(y1, y1, yy1);
        }

        if (i < full)
        {
            Vector512<float> x0 = Vector512.LoadUnsafe(ref x, i), y0 = Vector512.LoadUnsafe(ref y, i);
            dot0 = Vector512.MultiplyAddEstimate(x0, y0, dot0);
            xx0 = Vector512.MultiplyAddEstimate(x0, x0, xx0);
            yy0 = Vector512.MultiplyAddEstimate(y0, y0, yy0);
        }

        if (full != d)
        {
            Vector512<float> keep = Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(N - (int)(d - full))).AsSingle();
            Vector512<float> xt = Vector512.LoadUnsafe(ref x, d - N) & keep, yt = Vector512.LoadUnsafe(ref y, d - N) & keep;
            dot1 = Vector512.MultiplyAddEstimate(xt, yt, dot1);
            xx1 = Vector512.MultiplyAddEstimate(xt, xt, xx1);
            yy1 = Vector512.MultiplyAddEstimate(yt, yt, yy1);
        }

        return FloatKernels.Sum4(FloatKernels.Fold(dot0 + dot1), FloatKernels.Fold(xx0 + xx1), FloatKernels.Fold(yy0 + yy1), default);
    }

    private static Vector128<float> Sums256(ref float x, ref float y, nuint d)
    {
        const int N = 8;
        Vector256<float> dot0 = default, dot1 = default, xx0 = default, xx1 = default, yy0 = default, yy1 = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            Vector256<float> x0 = Vector256.LoadUnsafe(ref x, i), y0 = Vector256.LoadUnsafe(ref y, i);
            Vector256<float> x1 = Vector256.LoadUnsafe(ref x, i + N), y1 = Vector256.LoadUnsafe(ref y, i + N);
            dot0 = Vector256.MultiplyAddEstimate(x0, y0, dot0);
            xx0 = Vector256.MultiplyAddEstimate(x0, x0, xx0);
            yy0 = Vector256.MultiplyAddEstimate(y0, y0, yy0);
            dot1 = Vector256.MultiplyAddEstimate(x1, y1, dot1);
            xx1 = Vector256.MultiplyAddEstimate(x1, x1, xx1);
            yy1 = Vector256.MultiplyAddEstimate(y1, y1, yy1);
        }

        if (i < full)
        {
            Vector256<float> x0 = Vector256.LoadUnsafe(ref x, i), y0 = Vector256.LoadUnsafe(ref y, i);
            dot0 = Vector256.MultiplyAddEstimate(x0, y0, dot0);
            xx0 = Vector256.MultiplyAddEstimate(x0, x0, xx0);
            yy0 = Vector256.MultiplyAddEstimate(y0, y0, yy0);
        }

        if (full != d)
        {
            Vector256<float> keep = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(N - (int)(d - full))).AsSingle();
            Vector256<float> xt = Vector256.LoadUnsafe(ref x, d - N) & keep, yt = Vector256.LoadUnsafe(ref y, d - N) & keep;
            dot1 = Vector256.MultiplyAddEstimate(xt, yt, dot1);
            xx1 = Vector256.MultiplyAddEstimate(xt, xt, xx1);
            yy1 = Vector256.MultiplyAddEstimate(yt, yt, yy1);
        }

        return FloatKernels.Sum4(FloatKernels.Fold(dot0 + dot1), FloatKernels.Fold(xx0 + xx1), FloatKernels.Fold(yy0 + yy1), default);
    }

    private static Vector128<float> Sums128(ref float x, ref float y, nuint d)
    {
        const int N = 4;
        Vector128<float> dot0 = default, dot1 = default, xx0 = default, xx1 = default, yy0 = default, yy1 = default;
        nuint full = d & ~(nuint)(N - 1);
        nuint i = 0;
        for (; i + (2 * N) <= full; i += 2 * N)
        {
            Vector128<float> x0 = Vector128.LoadUnsafe(ref x, i), y0 = Vector128.LoadUnsafe(ref y, i);
            Vector128<float> x1 = Vector128.LoadUnsafe(ref x, i + N), y1 = Vector128.LoadUnsafe(ref y, i + N);
            dot0 = Vector128.MultiplyAddEstimate(x0, y0, dot0);
            xx0 = Vector128.MultiplyAddEstimate(x0, x0, xx0);
            yy0 = Vector128.MultiplyAddEstimate(y0, y0, yy0);
            dot1 = Vector128.MultiplyAddEstimate(x1, y1, dot1);
            xx1 = Vector128.MultiplyAddEstimate(x1, x1, xx1);
            yy1 = Vector128.MultiplyAddEstimate(y1, y1, yy1);
        }

        if (i < full)
        {
            Vector128<float> x0 = Vector128.LoadUnsafe(ref x, i), y0 = Vector128.LoadUnsafe(ref y, i);
            dot0 = Vector128.MultiplyAddEstimate(x0, y0, dot0);
            xx0 = Vector128.MultiplyAddEstimate(x0, x0, xx0);
            yy0 = Vector128.MultiplyAddEstimate(y0, y0, yy0);
        }

        if (full != d)
        {
            Vector128<float> keep = Vector128.GreaterThanOrEqual(Vector128<int>.Indices, Vector128.Create(N - (int)(d - full))).AsSingle();
            Vector128<float> xt = Vector128.LoadUnsafe(ref x, d - N) & keep, yt = Vector128.LoadUnsafe(ref y, d - N) & keep;
            dot1 = Vector128.MultiplyAddEstimate(xt, yt, dot1);
            xx1 = Vector128.MultiplyAddEstimate(xt, xt, xx1);
            yy1 = Vector128.MultiplyAddEstimate(yt, yt, yy1);
        }

        return FloatKernels.Sum4(dot0 + dot1, xx0 + xx1, yy0 + yy1, default);
    }

    private static Vector128<float> SumsScalar(ref float x, ref float y, nuint d)
    {
        float dot = 0, xx = 0, yy = 0;
        for (nuint i = 0; i < d; i++)
        {
            float a = Unsafe.Add(ref x, i), b = Unsafe.Add(ref y, i);
            dot += a * b;
            xx += a * a;
            yy += b * b;
        }

        return Vector128.Create(dot, xx, yy, 0);
    }
}
