namespace Rpm.Simd;

/// <summary>The widest vector a kernel may use; tests force the narrower ones to exercise every path on one machine.</summary>
internal enum KernelWidth
{
    /// <summary>Plain scalar code.</summary>
    Scalar = 0,

    /// <summary>128-bit vectors (SSE, AdvSimd).</summary>
    Vector128 = 1,

    /// <summary>256-bit vectors (AVX2).</summary>
    Vector256 = 2,

    /// <summary>512-bit vectors (AVX-512).</summary>
    Vector512 = 3,
}
