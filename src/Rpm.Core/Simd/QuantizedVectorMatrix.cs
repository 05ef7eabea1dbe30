using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Rpm.Simd;

/// <summary>
/// The compact form of a <see cref="VectorMatrix"/>: each normalized row stored as int8 codes with one scale
/// (symmetric quantization), searched with integer SIMD and then re-scored exactly in float, so that
/// <see cref="Search(ReadOnlySpan{float}, Span{int}, Span{float})"/> returns the same rows and the same scores as <see cref="VectorMatrix.Search(ReadOnlySpan{float}, Span{int}, Span{float})"/>.
/// </summary>
/// <remarks>
/// <para>
/// The scan reads a quarter of the bytes of the float matrix, which is what bounds a search of a large matrix. The
/// float matrix is kept (see <see cref="Source"/>) for the re-score, so the compact form adds a quarter to the memory.
/// </para>
/// <para>
/// Exactness is proven, not sampled. For a query <c>q</c> and a row <c>r</c> with quantized forms <c>q'</c> and
/// <c>r'</c>, <c>|q·r - q'·r'| &lt;= |q - q'| |r| + |q'| |r - r'|</c>. Both residual norms are known exactly (each row's at
/// insert, the query's per search), so each row's integer score gives an upper bound on its float score. A row is
/// re-scored in float only when that bound beats the K-th best float score found so far; every other row provably
/// could not have entered the top K. A margin covers float rounding.
/// </para>
/// <para>Immutable and safe for any number of concurrent readers.</para>
/// </remarks>
public sealed class QuantizedVectorMatrix
{
    // Largest dimension whose int32 dot products of codes in [-127, 127] cannot overflow.
    private const int MaxDimensions = int.MaxValue / (127 * 127 * 2);

    private readonly sbyte[] _codes;
    private readonly int _codeOffset;
    private readonly int _stride;
    private readonly float[] _scales;
    private readonly float[] _errors;
    private readonly int[] _sums;

    private QuantizedVectorMatrix(VectorMatrix source, sbyte[] codes, int codeOffset, int stride, float[] scales, float[] errors, int[] sums)
    {
        Source = source;
        _codes = codes;
        _codeOffset = codeOffset;
        _stride = stride;
        _scales = scales;
        _errors = errors;
        _sums = sums;
    }

    /// <summary>Gets the float matrix this compact form was made from, used for the exact re-score.</summary>
    public VectorMatrix Source { get; }

    /// <summary>Gets the length of each vector.</summary>
    public int Dimensions => Source.Dimensions;

    /// <summary>Gets the number of vectors.</summary>
    public int Count => Source.Count;

    /// <summary>Creates the compact form of a float matrix.</summary>
    /// <param name="source">The float matrix, kept for exact re-scoring.</param>
    /// <returns>The compact matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The matrix has more dimensions than 32-bit integer dot products can hold.</exception>
    public static QuantizedVectorMatrix Create(VectorMatrix source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(source.Dimensions, MaxDimensions, nameof(source));
        int stride = RoundUp(source.Dimensions, Int8Kernels.StrideAlignment);
        int count = source.Count;
        sbyte[] codes = AlignedArray.Allocate<sbyte>(checked(count * stride), zeroed: true, out int codeOffset);
        var scales = new float[count];
        var errors = new float[count];
        var sums = new int[count];
        for (int i = 0; i < count; i++)
        {
            (scales[i], errors[i], sums[i]) = Quantize(source.Row(i), codes.AsSpan(codeOffset + (i * stride), source.Dimensions));
        }

        return new QuantizedVectorMatrix(source, codes, codeOffset, stride, scales, errors, sums);
    }

    /// <summary>Returns a new compact matrix holding this matrix's rows followed by <paramref name="vectors"/> (normalized); this matrix is unchanged.</summary>
    /// <param name="vectors">The vectors to add.</param>
    /// <returns>The new matrix.</returns>
    /// <exception cref="ArgumentException">A vector has another length, or is zero, NaN or infinite (its index in <paramref name="vectors"/> is named).</exception>
    public QuantizedVectorMatrix Append(IReadOnlyList<ReadOnlyMemory<float>> vectors)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        VectorMatrix source = Source.Append(vectors);
        int count = source.Count;
        sbyte[] codes = AlignedArray.Allocate<sbyte>(checked(count * _stride), zeroed: true, out int codeOffset);
        _codes.AsSpan(_codeOffset, Count * _stride).CopyTo(codes.AsSpan(codeOffset));
        float[] scales = [.. _scales, .. new float[vectors.Count]];
        float[] errors = [.. _errors, .. new float[vectors.Count]];
        int[] sums = [.. _sums, .. new int[vectors.Count]];
        for (int i = Count; i < count; i++)
        {
            (scales[i], errors[i], sums[i]) = Quantize(source.Row(i), codes.AsSpan(codeOffset + (i * _stride), Dimensions));
        }

        return new QuantizedVectorMatrix(source, codes, codeOffset, _stride, scales, errors, sums);
    }

    /// <summary>Finds the rows most similar to <paramref name="query"/> (normalized here): the same rows and scores as the float search.</summary>
    /// <param name="query">The query vector, of length <see cref="Dimensions"/>.</param>
    /// <param name="indices">Receives the best row indices, best first (ties to the lower index); its length is K.</param>
    /// <param name="scores">Receives their cosine similarities; at least as long as <paramref name="indices"/>.</param>
    /// <returns>The number of rows written: the smaller of K and <see cref="Count"/>.</returns>
    /// <exception cref="ArgumentException">The query has another length, or is zero, NaN or infinite.</exception>
    public int Search(ReadOnlySpan<float> query, Span<int> indices, Span<float> scores) =>
        Search(query, indices, scores, Int8Kernels.Best, KernelWidth.Vector512, approximate: false, out _);

    /// <summary>
    /// Runs the search on a chosen integer path and float width. With <paramref name="approximate"/> the integer scores
    /// are returned as they are, with no re-score (to measure what the re-score buys); <paramref name="rescored"/>
    /// counts the rows scored in float.
    /// </summary>
    internal int Search(ReadOnlySpan<float> query, Span<int> indices, Span<float> scores, Int8Path path, KernelWidth maxWidth, bool approximate, out int rescored)
    {
        int dimensions = Dimensions;
        if (query.Length != dimensions)
        {
            throw new ArgumentException($"The query has {query.Length} dimensions; the matrix has {dimensions}.", nameof(query));
        }

        if (scores.Length < indices.Length)
        {
            throw new ArgumentException($"The scores span ({scores.Length}) must be at least as long as the indices span ({indices.Length}).", nameof(scores));
        }

        if (!Int8Kernels.IsSupported(path))
        {
            throw new PlatformNotSupportedException($"The integer path {path} is not supported on this machine.");
        }

        rescored = 0;
        int k = Math.Min(indices.Length, Count);
        float[]? rentedFloats = null;
        byte[]? rentedBytes = null;
        try
        {
            Span<float> normalized = dimensions <= 2048
                ? AlignedArray.AlignStack(stackalloc float[dimensions + (AlignedArray.Alignment / sizeof(float))], dimensions)
                : (rentedFloats = ArrayPool<float>.Shared.Rent(dimensions)).AsSpan(0, dimensions);
            CosineKernel.Normalize(query, normalized);
            if (k == 0)
            {
                return 0;
            }

            // The prepared query: 16-bit codes, or bytes offset by 128 for VNNI; zero codes past the end, like the rows.
            int preparedLength = _stride * sizeof(short);
            Span<byte> prepared = preparedLength <= 4096
                ? AlignedArray.AlignStack(stackalloc byte[preparedLength + AlignedArray.Alignment], preparedLength)
                : (rentedBytes = ArrayPool<byte>.Shared.Rent(preparedLength)).AsSpan(0, preparedLength);
            QueryBounds bounds = PrepareQuery(normalized, prepared, path);

            KernelWidth width = FloatKernels.Resolve(maxWidth, dimensions);
            Span<float> tail = stackalloc float[FloatKernels.MaxLanes];
            FloatKernels.PrepareTail(normalized, width, tail);
            var top = new TopKCollector(indices, scores, k);
            var context = new ScanContext(width, bounds, approximate);
            rescored = path switch
            {
                Int8Path.Vector512 => Scan<Int8Widen512>(ref MemoryMarshal.GetReference(prepared), normalized, tail, context, ref top),
                Int8Path.Vector256Vnni => Scan<Int8Vnni256>(ref MemoryMarshal.GetReference(prepared), normalized, tail, context, ref top),
                Int8Path.Vector256 => Scan<Int8Widen256>(ref MemoryMarshal.GetReference(prepared), normalized, tail, context, ref top),
                Int8Path.Vector128 => Scan<Int8Widen128>(ref MemoryMarshal.GetReference(prepared), normalized, tail, context, ref top),
                _ => Scan<Int8Scalar>(ref MemoryMarshal.GetReference(prepared), normalized, tail, context, ref top),
            };

            return top.Complete();
        }
        finally
        {
            if (rentedFloats is not null)
            {
                ArrayPool<float>.Shared.Return(rentedFloats);
            }

            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }
        }
    }

    private static int RoundUp(int value, int multiple) => checked((value + multiple - 1) / multiple * multiple);

    // Symmetric quantization: code = round(x / scale), scale = max|x| / 127. Returns the scale, an upper bound on the
    // residual norm |x - scale * code| (computed in double, rounded up), and the sum of the codes (for the VNNI offset).
    private static (float Scale, float Error, int Sum) Quantize(ReadOnlySpan<float> row, Span<sbyte> codes)
    {
        float max = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(row);
        float scale = Math.Abs(max) / 127;
        double residual = 0;
        int sum = 0;
        for (int i = 0; i < row.Length; i++)
        {
            int code = Math.Clamp((int)MathF.Round(row[i] / scale), -127, 127);
            codes[i] = (sbyte)code;
            sum += code;
            double difference = row[i] - ((double)scale * code);
            residual += difference * difference;
        }

        return (scale, RoundUp(Math.Sqrt(residual)), sum);
    }

    private static float RoundUp(double value) => (float)(value * (1 + 1e-6)) + 1e-9f;

    private QueryBounds PrepareQuery(ReadOnlySpan<float> query, Span<byte> prepared, Int8Path path)
    {
        prepared.Clear();
        Span<short> shorts = MemoryMarshal.Cast<byte, short>(prepared);
        bool offset = Int8Kernels.UsesOffsetQuery(path);
        if (offset)
        {
            prepared[.._stride].Fill(128);
        }

        float max = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(query);
        float scale = Math.Abs(max) / 127;
        double residual = 0, quantizedNorm = 0;
        for (int i = 0; i < query.Length; i++)
        {
            int code = Math.Clamp((int)MathF.Round(query[i] / scale), -127, 127);
            if (offset)
            {
                prepared[i] = (byte)(code + 128);
            }
            else
            {
                shorts[i] = (short)code;
            }

            double value = (double)scale * code;
            double difference = query[i] - value;
            residual += difference * difference;
            quantizedNorm += value * value;
        }

        // The float score of a row can differ from the real dot product by about d units of rounding (|q| = |r| = 1),
        // and the bound itself is computed in float: a small absolute margin covers both.
        float margin = 2e-6f + ((query.Length + 16) * 1.2e-7f);
        return new QueryBounds(scale, (RoundUp(Math.Sqrt(residual)) * 1.00001f) + margin, RoundUp(Math.Sqrt(quantizedNorm)) * 1.00001f);
    }

    private unsafe int Scan<TKernel>(scoped ref byte query, scoped ReadOnlySpan<float> floatQuery, scoped ReadOnlySpan<float> tail, in ScanContext context, ref TopKCollector top)
        where TKernel : struct, IInt8RowKernel
    {
        ref sbyte codes = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_codes), _codeOffset);
        ref float scales = ref MemoryMarshal.GetArrayDataReference(_scales);
        ref float errors = ref MemoryMarshal.GetArrayDataReference(_errors);
        ref int sums = ref MemoryMarshal.GetArrayDataReference(_sums);
        nuint stride = (nuint)_stride;
        bool offset = typeof(TKernel) == typeof(Int8Vnni256);
        Vector128<float> queryScale = Vector128.Create(context.Bounds.Scale);
        Vector128<float> queryError = Vector128.Create(context.Bounds.Error);
        Vector128<float> queryNorm = Vector128.Create(context.Bounds.QuantizedNorm);
        int count = Count;
        int rescored = 0;
        int row = 0;

        // Prefetch about 6 KB ahead: a block of four int8 rows is short, so one block ahead would arrive too late.
        int prefetchRows = 4 * Math.Max(1, 6144 / (4 * _stride));
        bool prefetch = Prefetcher.ShouldPrefetch((long)count * _stride);
        for (; row <= count - 4; row += 4)
        {
            ref sbyte block = ref Unsafe.Add(ref codes, (nuint)row * stride);
            if (prefetch && row + prefetchRows + 4 <= count)
            {
                // The codes live on the pinned object heap, so their address is stable.
                Prefetcher.Prefetch(Unsafe.AsPointer(ref Unsafe.Add(ref block, (nuint)prefetchRows * stride)), 4 * stride);
            }

            Vector128<int> dots = TKernel.Dot4(ref query, ref block, stride);
            if (offset)
            {
                dots -= Vector128.LoadUnsafe(ref sums, (nuint)row) << 7;
            }

            Vector128<float> approximate = Vector128.ConvertToSingle(dots) * (queryScale * Vector128.LoadUnsafe(ref scales, (nuint)row));
            if (context.Approximate)
            {
                top.Offer4(approximate, row);
                continue;
            }

            Vector128<float> upper = approximate + queryError + (queryNorm * Vector128.LoadUnsafe(ref errors, (nuint)row));
            if (top.MayAccept(upper))
            {
                rescored += Rescore(upper, row, floatQuery, tail, context, ref top);
            }
        }

        for (; row < count; row++)
        {
            int dot = TKernel.Dot1(ref query, ref Unsafe.Add(ref codes, (nuint)row * stride), stride);
            if (offset)
            {
                dot -= Unsafe.Add(ref sums, row) << 7;
            }

            float approximate = dot * (context.Bounds.Scale * Unsafe.Add(ref scales, row));
            if (context.Approximate)
            {
                top.Offer(approximate, row);
                continue;
            }

            float upper = approximate + context.Bounds.Error + (context.Bounds.QuantizedNorm * Unsafe.Add(ref errors, row));
            if (!top.IsFull || upper > top.Threshold)
            {
                top.Offer(FloatKernels.Dot(context.Width, floatQuery, tail, Source.Row(row)), row);
                rescored++;
            }
        }

        return rescored;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private int Rescore(Vector128<float> upper, int row, scoped ReadOnlySpan<float> floatQuery, scoped ReadOnlySpan<float> tail, in ScanContext context, ref TopKCollector top)
    {
        int rescored = 0;
        for (int j = 0; j < 4; j++)
        {
            if (!top.IsFull || upper.GetElement(j) > top.Threshold)
            {
                top.Offer(FloatKernels.Dot(context.Width, floatQuery, tail, Source.Row(row + j)), row + j);
                rescored++;
            }
        }

        return rescored;
    }

    /// <summary>The query's quantization scale, the bound on its residual (plus the rounding margin), and its quantized norm.</summary>
    private readonly record struct QueryBounds(float Scale, float Error, float QuantizedNorm);

    /// <summary>What the scan needs besides the query vectors: the float width of the re-score, the query's bounds, and the mode.</summary>
    private readonly record struct ScanContext(KernelWidth Width, QueryBounds Bounds, bool Approximate);
}
