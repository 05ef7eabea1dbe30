using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Rpm;

/// <summary>
/// The grounding check of a reasoning path (stage 4) and of a rationale (stage 7), with no model in it: our addition to
/// the paper. It reads the
/// statistics exactly as one call's prompt shows them (<see cref="RpmPrompts.StatisticsNode"/>) and checks the reply
/// against them: every citation names one of the user's factors, a statistic shown for it (and, for a propensity, the
/// answer it is about) and its value, as shown, rounded or as a percent; every percentage in the text, and every share
/// written as a decimal in a sentence about the statistics, is a value shown; and nothing the text calls a factor is
/// a name the user does not have. The problems are phrased for the repair turn.
/// </summary>
internal sealed partial class ReasoningGrounding
{
    /// <summary>The statistic kinds a citation can name, in the order the prompt shows them.</summary>
    public const string Coverage = "coverage";
    public const string Influence = "influence";
    public const string PositiveShare = "polarity.positive";
    public const string NeutralShare = "polarity.neutral";
    public const string NegativeShare = "polarity.negative";
    public const string Propensity = "propensity";
    public const string MeanAnswer = "meanAnswer";

    // The prompt shows shares and means rounded to three decimals: the value behind a shown one is within half a unit.
    private const double ShownRounding = 0.0005;
    private const double Epsilon = 1e-9;

    private static readonly string[] KindOrder = [Coverage, Influence, PositiveShare, NeutralShare, NegativeShare, Propensity, MeanAnswer];

    // Words that open a capitalized run before "factor" without being part of a name ("The Pacing factor", "Another factor").
    private static readonly HashSet<string> Openers = new(StringComparer.OrdinalIgnoreCase)
    {
        "a", "an", "the", "this", "that", "these", "those", "its", "their", "his", "her", "our", "your", "my", "user's", "users'",
        "same", "each", "every", "key", "main", "major", "another", "one", "other", "no", "any", "such", "first", "second", "third",
        "last", "strongest", "dominant", "primary", "deciding", "decisive", "only", "single", "most", "important", "relevant",
        "both", "neither", "either", "which", "what", "overall", "given", "here", "since", "because", "as", "while", "although",
        "but", "and", "so", "thus", "however", "also", "then", "when", "if", "in", "on", "for", "with", "under", "by", "from",
    };

    private readonly Dictionary<string, ShownFactor> _factors;
    private readonly List<string> _factorNames;
    private readonly List<string> _kinds;
    private readonly List<string> _answers;
    private readonly List<double> _shares;
    private readonly List<double> _decimals;
    private readonly bool _hasPropensity;
    private readonly Regex? _factorNameRegex;

    private ReasoningGrounding(List<ShownFactor> factors, IEnumerable<double> otherNumbers)
    {
        _factors = new Dictionary<string, ShownFactor>(StringComparer.OrdinalIgnoreCase);
        foreach (ShownFactor factor in factors)
        {
            _factors.TryAdd(factor.Name, factor);
        }

        _factorNames = [.. factors.Select(f => f.Name).Distinct(StringComparer.Ordinal)];
        _kinds = [.. KindOrder.Where(k => factors.Any(f => f.Values.ContainsKey(k) || (k == Propensity && f.Propensity is not null)))];
        _hasPropensity = factors.Any(f => f.Propensity is not null);
        _answers = [.. factors.SelectMany(f => f.Propensity?.Keys ?? Enumerable.Empty<string>()).Distinct(StringComparer.Ordinal)];
        _shares = [.. factors.SelectMany(f => f.Shares()).Distinct()];
        _factorNameRegex = _factorNames.Count == 0 ? null
            : new Regex($@"(?<!\w)(?:{string.Join("|", _factorNames.Select(Regex.Escape))})(?!\w)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        _decimals = [.. _shares.Concat(factors.SelectMany(f => f.Values.Where(v => v.Key == MeanAnswer).Select(v => v.Value))).Distinct()];

        // Numbers the call shows besides the statistics (stage 7's example similarities): the text may give them, though
        // no citation can name them.
        foreach (double number in otherNumbers)
        {
            _shares.Add(number);
            _decimals.Add(number);
        }
    }

    /// <summary>Gets the user's factor names as shown.</summary>
    public IReadOnlyList<string> FactorNames => _factorNames;

    /// <summary>Gets the statistic kinds shown for at least one factor.</summary>
    public IReadOnlyList<string> StatisticKinds => _kinds;

    /// <summary>Gets a value indicating whether a citation says which answer it is about (a labelled task's propensity).</summary>
    public bool CitesAnswers => _hasPropensity;

    /// <summary>Reads the statistics as a prompt shows them (the <c>"factors"</c> array of its data).</summary>
    /// <param name="shown">The array <see cref="RpmPrompts.StatisticsNode"/> wrote for the call.</param>
    /// <param name="otherNumbers">Other shares the call shows (stage 7's example similarities), which the text may give.</param>
    /// <returns>The check.</returns>
    public static ReasoningGrounding Of(JsonArray shown, IEnumerable<double>? otherNumbers = null)
    {
        ArgumentNullException.ThrowIfNull(shown);
        var factors = new List<ShownFactor>();
        foreach (JsonObject node in shown.OfType<JsonObject>())
        {
            if (node["factor"]?.GetValue<string>() is not string name)
            {
                continue;
            }

            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            Add(values, Coverage, node["coverage"]);
            Add(values, Influence, node["influence"]);
            Add(values, MeanAnswer, node["meanAnswer"]);
            if (node["polarity"] is JsonObject polarity)
            {
                Add(values, PositiveShare, polarity["positive"]);
                Add(values, NeutralShare, polarity["neutral"]);
                Add(values, NegativeShare, polarity["negative"]);
            }

            Dictionary<string, double>? propensity = null;
            if (node["propensity"] is JsonObject shares)
            {
                propensity = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var (label, value) in shares)
                {
                    Add(propensity, label, value);
                }
            }

            factors.Add(new ShownFactor(name, values, propensity));
        }

        return new ReasoningGrounding(factors, otherNumbers ?? []);

        static void Add(Dictionary<string, double> values, string key, JsonNode? node)
        {
            // The number as the prompt writes it (an int-backed value does not read as a double).
            if (node is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number)
            {
                values[key] = double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }
    }

    /// <summary>The per-call enums of a citation under <paramref name="citationsPath"/> (e.g. <c>citations[]</c>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string?>> Enums(string citationsPath)
    {
        var enums = new Dictionary<string, IReadOnlyList<string?>>(StringComparer.Ordinal)
        {
            [citationsPath + ".factor"] = [.. _factorNames],
            [citationsPath + ".statistic"] = [.. _kinds],
        };
        if (_hasPropensity)
        {
            // null for a citation of anything but a propensity.
            enums[citationsPath + ".answer"] = [.. _answers, null];
        }

        return enums;
    }

    /// <summary>
    /// Edits the schema of a reply's citations: required (strict structured output needs every property required), and
    /// a citation's answer required where the task has labels (null allowed), absent otherwise.
    /// </summary>
    /// <param name="schema">The call's copy of the schema.</param>
    /// <param name="replyPath">The steps to the object that holds <c>citations</c>: none for a one-item reply, <c>items</c>, <c>[]</c> for a batch.</param>
    public void EditCitationSchema(JsonObject schema, params string[] replyPath)
    {
        Require(SchemaEdits.At(schema, replyPath), "citations");
        SchemaEdits.SetType(schema, "array", [.. replyPath, "citations"]);
        string[] citation = [.. replyPath, "citations", "[]"];
        if (_hasPropensity)
        {
            Require(SchemaEdits.At(schema, citation), "answer");
        }
        else
        {
            SchemaEdits.Remove(schema, "answer", citation);
        }

        static void Require(JsonObject? obj, string name)
        {
            if (obj is null)
            {
                return;
            }

            if (obj["required"] is not JsonArray required)
            {
                obj["required"] = required = [];
            }

            if (!required.Any(r => r?.GetValue<string>() == name))
            {
                required.Add(name);
            }
        }
    }

    /// <summary>Accepts a reasoning path: grounded, or (on the last attempt) kept and counted as ungrounded.</summary>
    /// <param name="reasoning">The reasoning text, trimmed.</param>
    /// <param name="citations">Its citations.</param>
    /// <param name="context">The attempt: before the last, an ungrounded path is rejected with the problems for the repair turn.</param>
    /// <returns>The validation.</returns>
    public OutputValidation<string> Judge(string reasoning, IReadOnlyList<ReasoningCitation>? citations, OutputValidationContext context) =>
        Judge(reasoning, reasoning, citations, context);

    /// <summary>
    /// Accepts a reply whose free text is checked: grounded, or (on the last attempt) kept and counted as ungrounded
    /// (<see cref="BuildDiagnostics.UngroundedPaths"/> in the validation's diagnostics, which the caller reads).
    /// </summary>
    /// <typeparam name="T">The validated result.</typeparam>
    /// <param name="value">The result, accepted when grounded or on the last attempt.</param>
    /// <param name="text">The free text checked (a path's reasoning, a rationale), trimmed.</param>
    /// <param name="citations">Its citations.</param>
    /// <param name="context">The attempt: before the last, an ungrounded reply is rejected with the problems for the repair turn.</param>
    /// <param name="subject">What the text is, for the repair turn (<c>reasoning</c>, <c>rationale</c>).</param>
    /// <returns>The validation.</returns>
    public OutputValidation<T> Judge<T>(T value, string text, IReadOnlyList<ReasoningCitation>? citations, OutputValidationContext context, string subject = "reasoning")
    {
        IReadOnlyList<string> problems = Check(text, citations);
        return problems.Count == 0 ? OutputValidation<T>.Valid(value)
            : context.IsLastAttempt ? OutputValidation<T>.Valid(value, new BuildDiagnostics { UngroundedPaths = 1 })
            : OutputValidation<T>.Invalid(Hint(problems, subject));
    }

    /// <summary>Phrases the problems of one or more replies for the repair turn.</summary>
    /// <param name="problems">The problems, as <see cref="Check"/> names them.</param>
    /// <param name="subject">What the checked text is (<c>reasoning</c>, <c>rationale</c>).</param>
    /// <returns>The hint.</returns>
    public string Hint(IEnumerable<string> problems, string subject = "reasoning") =>
        $"The {subject} is not grounded in the statistics shown: {string.Join("; ", problems)}. " +
        $"Cite in \"citations\" only statistics of the data, each with the value shown (a share may be given as a percent), and name only the user's factors ({string.Join(", ", _factorNames)}).";

    /// <summary>The prompt's rule that asks for the citations the check reads.</summary>
    /// <param name="task">The task (its kind says which statistics are shown).</param>
    /// <param name="subject">What cites them (<c>reasoning</c>, <c>rationale</c>).</param>
    /// <returns>The rule.</returns>
    public static string CitationRule(RpmTask task, string subject) =>
        $"List every statistic the {subject} cites in \"citations\": the \"factor\", the \"statistic\" (" +
        (task.Kind == RpmTaskKind.Generation
            ? "\"coverage\", \"influence\", or \"polarity.positive\", \"polarity.neutral\", \"polarity.negative\" for the polarity shares), and its \"value\" as shown."
            : "\"coverage\", \"propensity\"" + (task.Kind == RpmTaskKind.Rating ? " or \"meanAnswer\"" : string.Empty) +
              "), the \"answer\" a propensity is about (null for the others), and its \"value\" as shown.");

    /// <summary>Finds what in a reasoning path is not supported by the statistics shown.</summary>
    /// <param name="reasoning">The reasoning text.</param>
    /// <param name="citations">Its citations (none is grounded: nothing unsupported is cited).</param>
    /// <returns>The problems, each naming the citation or the text and what was shown; empty when grounded.</returns>
    public IReadOnlyList<string> Check(string reasoning, IReadOnlyList<ReasoningCitation>? citations)
    {
        ArgumentNullException.ThrowIfNull(reasoning);
        var problems = new List<string>();
        for (int i = 0; i < (citations?.Count ?? 0); i++)
        {
            if (CheckCitation(i + 1, citations![i]) is string problem)
            {
                problems.Add(problem);
            }
        }

        CheckText(reasoning, problems);
        return problems;
    }

    private string? CheckCitation(int index, ReasoningCitation? citation)
    {
        if (citation is null)
        {
            return $"citation {index} is empty";
        }

        string factorName = citation.Factor?.Trim() ?? string.Empty;
        if (!_factors.TryGetValue(factorName, out ShownFactor? factor))
        {
            return $"citation {index} names the factor '{factorName}', which is not one of the user's factors";
        }

        string kind = citation.Statistic?.Trim() ?? string.Empty;
        double value = citation.Value;
        if (string.Equals(kind, Propensity, StringComparison.OrdinalIgnoreCase) && factor.Propensity is not null)
        {
            string answer = citation.Answer?.Trim() ?? string.Empty;
            if (answer.Length == 0)
            {
                return $"citation {index} (propensity of '{factor.Name}') does not say which answer it is about; set \"answer\"";
            }

            if (factor.Propensity.TryGetValue(answer, out double shown))
            {
                return Matches(Propensity, value, shown) ? null
                    : $"citation {index} (propensity of '{factor.Name}' for the answer '{answer}') has the value {Format(value)}, but the statistics show {Format(shown)}";
            }

            // An answer never given under the factor is left out of the prompt: its propensity is 0, and only 0.
            return Math.Abs(value) < Epsilon ? null
                : $"citation {index} (propensity of '{factor.Name}' for the answer '{answer}') has the value {Format(value)}, but the statistics show no such share " +
                  $"(shown for '{factor.Name}': {string.Join(", ", factor.Propensity.Select(p => $"'{p.Key}' {Format(p.Value)}"))})";
        }

        string? known = factor.Values.Keys.FirstOrDefault(k => string.Equals(k, kind, StringComparison.OrdinalIgnoreCase));
        if (known is null)
        {
            return $"citation {index} names the statistic '{kind}', which is not shown for '{factor.Name}' (shown: {string.Join(", ", factor.Kinds())})";
        }

        double expected = factor.Values[known];
        return Matches(known, value, expected) ? null
            : $"citation {index} ({known} of '{factor.Name}') has the value {Format(value)}, but the statistics show {Format(expected)}";
    }

    private void CheckText(string reasoning, List<string> problems)
    {
        foreach (Match match in PercentRegex().Matches(reasoning))
        {
            double percent = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            if (percent > Epsilon && !_shares.Any(s => PercentMatches(percent, s)))
            {
                problems.Add($"the text gives {match.Value.Trim()}, which matches no share shown");
            }
        }

        foreach (string sentence in SentenceRegex().Split(reasoning))
        {
            // A decimal share is a statistic only where the sentence is about the statistics (a factor or a statistic named):
            // elsewhere it may be a fact of the input ("a 0.5 l bottle").
            if (!AboutStatistics(sentence))
            {
                continue;
            }

            foreach (Match match in DecimalRegex().Matches(sentence))
            {
                double share = double.Parse(match.Value, CultureInfo.InvariantCulture);
                if (share <= 1 + Epsilon && share > Epsilon && !_decimals.Any(s => FractionMatches(share, s)) && !_answers.Contains(match.Value, StringComparer.Ordinal))
                {
                    problems.Add($"the text gives {match.Value}, which matches no statistic shown");
                }
            }
        }

        foreach (string name in FactorLikeNames(reasoning).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            problems.Add($"the text calls '{name}' a factor, but it is not one of the user's factors");
        }
    }

    private bool AboutStatistics(string sentence) =>
        StatisticWordRegex().IsMatch(sentence) || _factorNameRegex?.IsMatch(sentence) == true;

    // Names the text presents as factors: quoted or capitalized before "factor" ("the 'Mood' factor", "the Mood factor"),
    // or after it ("the factor Mood", "factor \"Mood\""), that are not one of the user's factors.
    private IEnumerable<string> FactorLikeNames(string reasoning)
    {
        foreach (Match match in QuotedBeforeRegex().Matches(reasoning).Concat(QuotedAfterRegex().Matches(reasoning)))
        {
            string name = Normalize(match.Groups["name"].Value);
            if (name.Length > 0 && !IsUsers(name) && !string.Equals(name, RpmPrompts.Unassigned, StringComparison.OrdinalIgnoreCase))
            {
                yield return name;
            }
        }

        foreach (Match match in CapitalizedBeforeRegex().Matches(reasoning))
        {
            // Any tail of the run may be the name ("Strong Pacing factor"); what opens it may be an article or adjective.
            string[] words = Normalize(match.Groups["name"].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int start = 0;
            while (start < words.Length && Openers.Contains(words[start]))
            {
                start++;
            }

            if (start < words.Length && !Enumerable.Range(0, words.Length).Any(i => IsUsers(string.Join(' ', words[i..]))))
            {
                yield return string.Join(' ', words[start..]);
            }
        }

        foreach (Match match in CapitalizedAfterRegex().Matches(reasoning))
        {
            string[] words = Normalize(match.Groups["name"].Value).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0 && !Openers.Contains(words[0]) && !Enumerable.Range(1, words.Length).Any(n => IsUsers(string.Join(' ', words[..n]))))
            {
                yield return string.Join(' ', words);
            }
        }
    }

    private bool IsUsers(string name) => _factors.ContainsKey(name);

    private static string Normalize(string name)
    {
        string trimmed = WhitespaceRegex().Replace(name, " ").Trim().Trim('.', ',', ';', ':', '\'', '"', '“', '”', '‘', '’');
        return trimmed.EndsWith("'s", StringComparison.Ordinal) ? trimmed[..^2] : trimmed;
    }

    private static bool Matches(string kind, double cited, double shown) => kind switch
    {
        Coverage or Influence => Math.Abs(cited - shown) < Epsilon,
        MeanAnswer => FractionMatches(cited, shown),
        _ => FractionMatches(cited, shown) || PercentMatches(cited, shown),
    };

    // A value as shown, or rounded to fewer (at least one) decimals: 0.333 as 0.33 or 0.3; never a share rounded to 0 or 1.
    private static bool FractionMatches(double cited, double shown) =>
        Math.Abs(cited - shown) < Epsilon || (Decimals(cited) >= 1 && Math.Abs(cited - shown) <= (0.5 * Math.Pow(10, -Decimals(cited))) + ShownRounding + Epsilon);

    // A share as a percent, rounded to any precision: 0.333 as 33.3, 33 or 33.33.
    private static bool PercentMatches(double percent, double shown) =>
        Math.Abs(percent - (shown * 100)) <= (0.5 * Math.Pow(10, -Decimals(percent))) + (ShownRounding * 100) + Epsilon;

    private static int Decimals(double value)
    {
        for (int d = 0; d < 6; d++)
        {
            if (Math.Abs(Math.Round(value, d) - value) < Epsilon)
            {
                return d;
            }
        }

        return 6;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(?<![\w.])(?<n>\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", RegexOptions.IgnoreCase)]
    private static partial Regex PercentRegex();

    // A decimal in [0, 1] with its point (0.42, .42, 1.0), not part of a larger number or a percent.
    [GeneratedRegex(@"(?<![\w.])(?:0?\.\d+|1\.0+)(?!\w|\.\d|\s*%|\s*per\s?cent)", RegexOptions.IgnoreCase)]
    private static partial Regex DecimalRegex();

    [GeneratedRegex(@"(?<=[.!?;])\s+")]
    private static partial Regex SentenceRegex();

    [GeneratedRegex(@"\b(?:propensity|propensities|share|shares|coverage|polarity|influence|mean|statistic|statistics)\b", RegexOptions.IgnoreCase)]
    private static partial Regex StatisticWordRegex();

    [GeneratedRegex(@"[""'“‘](?<name>[^""'”’\n]{1,60})[""'”’]\s+(?i:factor)\b")]
    private static partial Regex QuotedBeforeRegex();

    [GeneratedRegex(@"\b(?i:factor)\s+[""'“‘](?<name>[^""'”’\n]{1,60})[""'”’]")]
    private static partial Regex QuotedAfterRegex();

    [GeneratedRegex(@"(?<name>(?:\b[A-Z][\w'&-]*\s+){1,4})(?i:factor)\b")]
    private static partial Regex CapitalizedBeforeRegex();

    [GeneratedRegex(@"\b(?i:factor)\s+(?<name>[A-Z][\w&-]*(?:\s+[A-Z][\w&-]*){0,3})")]
    private static partial Regex CapitalizedAfterRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRegex();

    private sealed record ShownFactor(string Name, Dictionary<string, double> Values, Dictionary<string, double>? Propensity)
    {
        public IEnumerable<double> Shares() =>
            Values.Where(v => v.Key is PositiveShare or NeutralShare or NegativeShare).Select(v => v.Value)
                .Concat(Propensity?.Values ?? Enumerable.Empty<double>());

        public IEnumerable<string> Kinds() => KindOrder.Where(k => Values.ContainsKey(k) || (k == ReasoningGrounding.Propensity && Propensity is not null));
    }
}
