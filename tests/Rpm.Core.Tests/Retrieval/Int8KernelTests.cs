using System.Runtime.Intrinsics;
using Rpm.Simd;

namespace Rpm.Tests.Retrieval;

public sealed class Int8KernelTests
{
    public static TheoryData<string> AllPaths() => [nameof(Int8Path.Vector512), nameof(Int8Path.Vector256Vnni), nameof(Int8Path.Vector256), nameof(Int8Path.Vector128), nameof(Int8Path.Scalar)];

    [Fact]
    public void This_machine_runs_the_wide_paths()
    {
        // On the x86-64 machines the project runs on, at least the AVX2 path is there; the others are checked per path.
        Assert.True(Int8Kernels.IsSupported(Int8Path.Scalar));
        Assert.True(Int8Kernels.IsSupported(Int8Kernels.Best));
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.True(Int8Kernels.Best >= Int8Path.Vector256);
        }
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void Integer_dot_products_are_exact_for_every_path(string pathName)
    {
        Int8Path path = Enum.Parse<Int8Path>(pathName);
        if (!Int8Kernels.IsSupported(path))
        {
            return;
        }

        var random = new Random(20);
        foreach (int stride in new[] { 64, 128, 384, 448, 1536 })
        {
            // Extreme codes (+-127) everywhere would be the worst case for overflow; mix them with random ones.
            sbyte[] query = [.. Enumerable.Range(0, stride).Select(i => (sbyte)(i % 5 == 0 ? 127 : random.Next(-127, 128)))];
            sbyte[] rows = [.. Enumerable.Range(0, 4 * stride).Select(i => (sbyte)(i % 7 == 0 ? -127 : random.Next(-127, 128)))];
            byte[] prepared = Prepare(query, path);
            int[] expected = [.. Enumerable.Range(0, 4).Select(r => Enumerable.Range(0, stride).Sum(i => query[i] * rows[(r * stride) + i]))];
            int[] offsets = [.. Enumerable.Range(0, 4).Select(r => 128 * Enumerable.Range(0, stride).Sum(i => (int)rows[(r * stride) + i]))];

            Vector128<int> four = Dot4(path, prepared, rows, stride);
            for (int r = 0; r < 4; r++)
            {
                int correction = Int8Kernels.UsesOffsetQuery(path) ? offsets[r] : 0;
                Assert.Equal(expected[r], four.GetElement(r) - correction);
                Assert.Equal(expected[r], Dot1(path, prepared, rows.AsSpan(r * stride), stride) - correction);
            }
        }
    }

    private static byte[] Prepare(sbyte[] query, Int8Path path) => Int8Kernels.UsesOffsetQuery(path)
        ? [.. query.Select(q => (byte)(q + 128))]
        : [.. query.SelectMany(q => BitConverter.GetBytes((short)q))];

    private static Vector128<int> Dot4(Int8Path path, byte[] query, sbyte[] rows, int stride) => path switch
    {
        Int8Path.Vector512 => Int8Widen512.Dot4(ref query[0], ref rows[0], (nuint)stride),
        Int8Path.Vector256Vnni => Int8Vnni256.Dot4(ref query[0], ref rows[0], (nuint)stride),
        Int8Path.Vector256 => Int8Widen256.Dot4(ref query[0], ref rows[0], (nuint)stride),
        Int8Path.Vector128 => Int8Widen128.Dot4(ref query[0], ref rows[0], (nuint)stride),
        _ => Int8Scalar.Dot4(ref query[0], ref rows[0], (nuint)stride),
    };

    private static int Dot1(Int8Path path, byte[] query, Span<sbyte> row, int stride) => path switch
    {
        Int8Path.Vector512 => Int8Widen512.Dot1(ref query[0], ref row[0], (nuint)stride),
        Int8Path.Vector256Vnni => Int8Vnni256.Dot1(ref query[0], ref row[0], (nuint)stride),
        Int8Path.Vector256 => Int8Widen256.Dot1(ref query[0], ref row[0], (nuint)stride),
        Int8Path.Vector128 => Int8Widen128.Dot1(ref query[0], ref row[0], (nuint)stride),
        _ => Int8Scalar.Dot1(ref query[0], ref row[0], (nuint)stride),
    };
}
