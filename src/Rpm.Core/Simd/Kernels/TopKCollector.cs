using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Rpm.Simd;

/// <summary>
/// Keeps the best K (score, row) pairs seen so far in the caller's output spans, with no allocation. Rows must be offered
/// in increasing row order: a later row never displaces an equal score, so ties go to the lower row index.
/// </summary>
/// <remarks>
/// Up to <see cref="InsertionLimit"/> entries the spans are kept sorted (best first) and a new entry is placed by a
/// short insertion; beyond that they hold a binary min-heap whose root is the worst entry, sorted once at the end.
/// </remarks>
internal ref struct TopKCollector
{
    /// <summary>The largest K kept as a sorted list; larger K use a heap.</summary>
    internal const int InsertionLimit = 16;

    private readonly Span<int> _indices;
    private readonly Span<float> _scores;
    private readonly int _k;
    private readonly bool _heap;
    private int _filled;
    private float _threshold;

    /// <summary>Initializes a new instance of the <see cref="TopKCollector"/> struct.</summary>
    /// <param name="indices">Receives the rows; at least <paramref name="k"/> long.</param>
    /// <param name="scores">Receives the scores; at least <paramref name="k"/> long.</param>
    /// <param name="k">The number of rows to keep; positive.</param>
    public TopKCollector(Span<int> indices, Span<float> scores, int k)
    {
        _indices = indices[..k];
        _scores = scores[..k];
        _k = k;
        _heap = k > InsertionLimit;
        _filled = 0;
        _threshold = float.NegativeInfinity;
    }

    /// <summary>Gets the score a row must beat to enter once K rows are held.</summary>
    public readonly float Threshold => _threshold;

    /// <summary>Gets a value indicating whether K rows are held.</summary>
    public readonly bool IsFull => _filled == _k;

    /// <summary>Tells whether any of four scores could enter: cheap, so the common case costs one compare.</summary>
    /// <param name="scores">The scores of four consecutive rows.</param>
    /// <returns><see langword="true"/> when the four rows must be offered one by one.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool MayAccept(Vector128<float> scores) =>
        _filled < _k || Vector128.GreaterThanAny(scores, Vector128.Create(_threshold));

    /// <summary>Offers four consecutive rows.</summary>
    /// <param name="scores">Their scores.</param>
    /// <param name="row">The index of the first of them.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Offer4(Vector128<float> scores, int row)
    {
        if (MayAccept(scores))
        {
            OfferEach(scores, row);
        }
    }

    /// <summary>Offers one row.</summary>
    /// <param name="score">Its score.</param>
    /// <param name="row">Its index, greater than every row offered before.</param>
    public void Offer(float score, int row)
    {
        if (_filled < _k)
        {
            if (_heap)
            {
                _scores[_filled] = score;
                _indices[_filled] = row;
                SiftUp(_filled);
            }
            else
            {
                InsertSorted(_filled, score, row);
            }

            if (++_filled == _k)
            {
                UpdateThreshold();
            }

            return;
        }

        if (!(score > _threshold))
        {
            return;
        }

        if (_heap)
        {
            _scores[0] = score;
            _indices[0] = row;
            SiftDown(0, _k);
        }
        else
        {
            InsertSorted(_k - 1, score, row);
        }

        UpdateThreshold();
    }

    /// <summary>Puts the kept rows in order, best first, and returns how many there are.</summary>
    /// <returns>The number of rows written.</returns>
    public int Complete()
    {
        if (_heap)
        {
            // Heap sort on a min-heap moves the worst entry to the end each step, leaving the best first.
            for (int end = _filled - 1; end > 0; end--)
            {
                Swap(0, end);
                SiftDown(0, end);
            }
        }

        return _filled;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void OfferEach(Vector128<float> scores, int row)
    {
        Offer(scores.GetElement(0), row);
        Offer(scores.GetElement(1), row + 1);
        Offer(scores.GetElement(2), row + 2);
        Offer(scores.GetElement(3), row + 3);
    }

    // NaN ranks below every number, so that a NaN (from inputs that were not valid) never blocks a real score.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Below(float a, float b) => a < b || (float.IsNaN(a) && !float.IsNaN(b));

    private void UpdateThreshold()
    {
        float worst = _heap ? _scores[0] : _scores[_k - 1];
        _threshold = float.IsNaN(worst) ? float.NegativeInfinity : worst;
    }

    // Shifts down every entry strictly below the new score: equal scores keep the earlier (lower) row ahead.
    private void InsertSorted(int position, float score, int row)
    {
        while (position > 0 && Below(_scores[position - 1], score))
        {
            _scores[position] = _scores[position - 1];
            _indices[position] = _indices[position - 1];
            position--;
        }

        _scores[position] = score;
        _indices[position] = row;
    }

    // Entry a is worse than entry b: a lower score, or an equal score on a later row.
    private readonly bool Worse(int a, int b) =>
        Below(_scores[a], _scores[b]) || (_scores[a] == _scores[b] && _indices[a] > _indices[b]);

    private void SiftUp(int position)
    {
        while (position > 0)
        {
            int parent = (position - 1) >> 1;
            if (!Worse(position, parent))
            {
                break;
            }

            Swap(position, parent);
            position = parent;
        }
    }

    private void SiftDown(int position, int length)
    {
        while (true)
        {
            int child = (2 * position) + 1;
            if (child >= length)
            {
                return;
            }

            if (child + 1 < length && Worse(child + 1, child))
            {
                child++;
            }

            if (!Worse(child, position))
            {
                return;
            }

            Swap(position, child);
            position = child;
        }
    }

    private readonly void Swap(int a, int b)
    {
        (_scores[a], _scores[b]) = (_scores[b], _scores[a]);
        (_indices[a], _indices[b]) = (_indices[b], _indices[a]);
    }
}
