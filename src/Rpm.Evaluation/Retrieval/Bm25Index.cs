namespace Rpm.Evaluation;

/// <summary>
/// Okapi BM25 over a small corpus (one user's history), scored as the <c>rank_bm25</c> package's <c>BM25Okapi</c>
/// that LaMP's retrieval uses: idf = ln((N - n + 0.5) / (n + 0.5)), with a negative idf replaced by ε × the mean idf;
/// score = Σ over query tokens of idf × f × (k1 + 1) / (f + k1 × (1 - b + b × |d| / avgdl)). Tokens are lower-case
/// <c>[a-z0-9]+</c> runs (<see cref="RougeScorer.Tokenize"/>), so punctuation does not split the vocabulary.
/// </summary>
internal sealed class Bm25Index
{
    private readonly List<Dictionary<string, int>> _frequencies = [];
    private readonly int[] _lengths;
    private readonly Dictionary<string, double> _idf = new(StringComparer.Ordinal);
    private readonly double _averageLength;

    /// <summary>Initializes a new instance of the <see cref="Bm25Index"/> class.</summary>
    /// <param name="documents">The documents, searched by position.</param>
    /// <param name="k1">Term-frequency saturation. Default 1.5 (rank_bm25's default).</param>
    /// <param name="b">Length normalization. Default 0.75.</param>
    /// <param name="epsilon">The share of the mean idf given to terms in more than half of the documents. Default 0.25.</param>
    public Bm25Index(IEnumerable<string> documents, double k1 = 1.5, double b = 0.75, double epsilon = 0.25)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentOutOfRangeException.ThrowIfNegative(k1);
        if (!(b is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(b), b, "b must be between 0 and 1.");
        }

        K1 = k1;
        B = b;
        var documentFrequency = new Dictionary<string, int>(StringComparer.Ordinal);
        var lengths = new List<int>();
        foreach (string document in documents)
        {
            IReadOnlyList<string> tokens = RougeScorer.Tokenize(document);
            var frequencies = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (string token in tokens)
            {
                frequencies[token] = frequencies.GetValueOrDefault(token) + 1;
            }

            foreach (string token in frequencies.Keys)
            {
                documentFrequency[token] = documentFrequency.GetValueOrDefault(token) + 1;
            }

            _frequencies.Add(frequencies);
            lengths.Add(tokens.Count);
        }

        _lengths = [.. lengths];
        Count = _lengths.Length;
        _averageLength = Count == 0 ? 0 : (double)_lengths.Sum() / Count;
        double idfSum = 0;
        var negative = new List<string>();
        foreach (var (token, n) in documentFrequency)
        {
            double idf = Math.Log(Count - n + 0.5) - Math.Log(n + 0.5);
            _idf[token] = idf;
            idfSum += idf;
            if (idf < 0)
            {
                negative.Add(token);
            }
        }

        double floor = _idf.Count == 0 ? 0 : epsilon * (idfSum / _idf.Count);
        foreach (string token in negative)
        {
            _idf[token] = floor;
        }
    }

    /// <summary>Gets the number of documents.</summary>
    public int Count { get; }

    /// <summary>Gets k1.</summary>
    public double K1 { get; }

    /// <summary>Gets b.</summary>
    public double B { get; }

    /// <summary>Gets the idf of a token (0 for a token in no document).</summary>
    /// <param name="token">The token, lower-case.</param>
    /// <returns>The idf.</returns>
    public double Idf(string token) => _idf.GetValueOrDefault(token);

    /// <summary>Scores every document against a query.</summary>
    /// <param name="query">The query text.</param>
    /// <returns>One score per document, by position.</returns>
    public double[] Scores(string query)
    {
        var scores = new double[Count];
        if (_averageLength == 0)
        {
            return scores;
        }

        foreach (string token in RougeScorer.Tokenize(query))
        {
            double idf = _idf.GetValueOrDefault(token);
            for (int d = 0; d < Count; d++)
            {
                int f = _frequencies[d].GetValueOrDefault(token);
                scores[d] += idf * (f * (K1 + 1) / (f + (K1 * (1 - B + (B * _lengths[d] / _averageLength)))));
            }
        }

        return scores;
    }

    /// <summary>Returns the <paramref name="count"/> best documents for a query, best first; ties keep document order.</summary>
    /// <param name="query">The query text.</param>
    /// <param name="count">How many to return.</param>
    /// <returns>Positions and scores.</returns>
    public IReadOnlyList<(int Index, double Score)> Search(string query, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        double[] scores = Scores(query);
        return [.. scores.Select((s, i) => (Index: i, Score: s)).OrderByDescending(x => x.Score).ThenBy(x => x.Index).Take(count)];
    }
}
